"""`openaudit licenses`: what a reviewer sees must be exactly what the knowledge base says."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from openaudit.cli import cli
from openaudit.kb import load_kb


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["licenses", *args])
    return result.exit_code, result.stdout, result.stderr


def test_bare_group_lists() -> None:
    code, out, _ = run()
    assert code == 0
    assert out.splitlines()[0].split() == ["ID", "KIND", "COMMERCIAL", "USE", "OSI"]
    assert f"{len(load_kb().entries)} licence(s)" in out


def test_list_table_rows() -> None:
    code, out, _ = run("list")
    assert code == 0
    rows = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()[1:]
        if line.strip() and "licence(s)" not in line
    }
    assert rows["apache-2.0"] == ["permissive", "allowed", "yes"]
    assert rows["llama3.1"] == ["community", "conditional", "no"]
    assert rows["cc-by-nc-4.0"] == ["non-commercial", "prohibited", "no"]
    assert rows["other"] == ["unknown", "unknown", "no"]


def test_list_filters_and_json() -> None:
    code, out, _ = run("list", "--commercial-use", "prohibited", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data and all(d["commercial_use"] == "prohibited" for d in data)
    assert "cc-by-nc-4.0" in {d["id"] for d in data}
    code, out, _ = run("list", "--kind", "responsible-ai", "--format", "json")
    assert {d["id"] for d in json.loads(out)} >= {"openrail", "bigscience-openrail-m", "deepseek"}
    code, out, _ = run("list", "--osi", "--format", "json")
    osi = json.loads(out)
    assert osi and all(d["osi_approved"] for d in osi)
    code, out, _ = run("list", "--no-osi", "--kind", "permissive", "--format", "json")
    assert all(not d["osi_approved"] and d["kind"] == "permissive" for d in json.loads(out))


def test_list_rejects_unknown_kind() -> None:
    code, _, err = run("list", "--kind", "sometimes")
    assert code == 2 and "sometimes" in err


def test_show_text_has_plain_words_and_evidence() -> None:
    code, out, _ = run("show", "llama3.1")
    assert code == 0
    assert "Llama 3.1 Community License Agreement (llama3.1)" in out
    assert "allowed only under conditions" in out
    assert "user-threshold (700000000)" in out
    assert "Evidence:" in out and "700 million monthly active users" in out
    assert "licenses/llama3.1.yml#restrictions" in out


def test_show_accepts_alias_and_json() -> None:
    code, out, _ = run("show", "Apache License, Version 2.0", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["id"] == "apache-2.0" and data["osi_approved"] is True
    assert data["commercial_use"] == "allowed"
    assert data["evidence"] and all(e["quote"] for e in data["evidence"])


def test_show_unknown_id_is_one_line_error() -> None:
    code, out, err = run("show", "no-such-licence")
    assert code == 2
    assert out == ""
    assert err == "openaudit: no licence 'no-such-licence' in the knowledge base\n"


def test_show_other_says_unknown() -> None:
    code, out, _ = run("show", "other")
    assert code == 0
    assert "Commercial use:      unknown" in out
    assert "OSAID-compatible:    undecided" in out


def test_cli_import_stays_light() -> None:
    code = (
        "import sys, openaudit.cli, openaudit.cli.licenses; "
        "heavy = ('yaml', 'jsonschema', 'openaudit.kb.loader'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
