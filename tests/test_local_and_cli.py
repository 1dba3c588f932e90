"""Local sources (model folders, the HF cache), the store and rules commands, start-up and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from tests.fakehub import FakeHub
from tests.helpers import audit_json, by_id, run_cli

REPO = Path(__file__).resolve().parents[1]


def test_examples_audit_offline_from_disk(tmp_path: Path) -> None:
    run = run_cli("audit", "--offline", "--examples", "--format", "json", "--cache-dir", str(tmp_path))
    assert run.code == 0, run.stderr
    models = by_id(run.json())
    assert models["example-org/apache-encoder"]["licence"]["status"] == "open"
    assert models["example-org/nc-summarizer"]["commercial_use"]["status"] == "prohibited"
    assert models["example-org/no-licence-classifier"]["licence"]["status"] == "closed"
    for model in models.values():
        assert model["source"] == "local"
        # A folder cannot say whether the Hub gates it: never guessed as open.
        assert model["weights"]["status"] == "unknown"


def test_local_base_in_the_same_batch_is_read_from_disk(tmp_path: Path) -> None:
    run = run_cli("audit", "--offline", "--examples", "--format", "json", "--cache-dir", str(tmp_path))
    gguf = by_id(run.json())["example-org/llama-3.1-example-chat-GGUF"]
    subjects = {e["subject"] for e in gguf["errors"]}
    assert "model:example-org/llama-3.1-example-chat" not in subjects


def write_model(folder: Path, front_matter: str, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(f"---\n{textwrap.dedent(front_matter)}---\n# Model\n")
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    return folder


def test_local_folder_malformed_card_and_pickle(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "me" / "broken", "license: [mit\n", {"pytorch_model.bin": "x"})
    run = run_cli("audit", "--offline", "--path", str(folder), "--format", "json", "--cache-dir", str(tmp_path))
    model = run.json()["models"][0]
    assert model["id"] == "me/broken"
    assert any(e["reason"] == "malformed" for e in model["errors"])
    security = {f["rule"]: f for f in model["findings"]}["security.no-pickle-weights"]
    assert security["outcome"] == "fail" and "pytorch_model.bin" in security["message"]


def test_path_with_no_model_folder_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = run_cli("audit", "--path", str(tmp_path / "empty"), "--cache-dir", str(tmp_path))
    assert run.code == 2
    assert "no model folder" in run.stderr


def test_hf_cache_audits_every_cached_model(fixture_hub: FakeHub, tmp_path: Path) -> None:
    cache = tmp_path / "hf-cache"
    for repo in ("acme/tiny-apache-encoder", "acme/nc-summarizer"):
        for name in ("README.md", "config.json"):
            hf_hub_download(repo, name, cache_dir=cache, endpoint=fixture_hub.url)
    run = run_cli(
        "audit", "--hf-cache", "--hf-cache-dir", str(cache), "--offline", "--format", "json",
        "--cache-dir", str(tmp_path / "store"),
    )
    models = by_id(run.json())
    assert set(models) == {"acme/tiny-apache-encoder", "acme/nc-summarizer"}
    assert models["acme/nc-summarizer"]["licence"]["ids"] == ["cc-by-nc-4.0"]
    assert models["acme/tiny-apache-encoder"]["source"] == "hf-cache"
    # The cached snapshot's commit is the audited revision.
    assert len(models["acme/tiny-apache-encoder"]["revision"]) == 40


def test_cache_list_and_clear(fixture_hub: FakeHub, tmp_path: Path) -> None:
    audit_json(fixture_hub.url, tmp_path, "acme/tiny-apache-encoder")
    listed = run_cli("cache", "list", "--format", "json", "--cache-dir", str(tmp_path))
    rows = json.loads(listed.stdout)["snapshots"]
    assert {(r["kind"], r["repo"]) for r in rows} == {
        ("model", "acme/tiny-apache-encoder"),
        ("dataset", "fixture-org/open-web-text-sample"),
    }
    assert all(r["revisions"] == ["main"] for r in rows)
    cleared = run_cli("cache", "clear", "acme/tiny-apache-encoder", "--cache-dir", str(tmp_path))
    assert "removed 1 snapshot" in cleared.stdout
    cleared = run_cli("cache", "clear", "--cache-dir", str(tmp_path))
    assert "removed 1 snapshot" in cleared.stdout
    assert json.loads(run_cli("cache", "list", "--format", "json", "--cache-dir", str(tmp_path)).stdout)[
        "snapshots"
    ] == []


def test_rules_list_and_show() -> None:
    listed = run_cli("rules", "list", "--format", "json")
    rules = {r["id"]: r for r in json.loads(listed.stdout)}
    assert {"licence-open", "licence-restricted", "weights-gated", "osaid.parameters-free"} <= set(rules)
    shown = run_cli("rules", "show", "licence-none")
    assert shown.code == 0
    assert "Remediation:" in shown.stdout and "When true: fail -> licence closed" in shown.stdout
    missing = run_cli("rules", "show", "no-such-rule")
    assert missing.code == 2 and "no rule 'no-such-rule'" in missing.stderr


def bad_pack(tmp_path: Path, body: str) -> Path:
    pack = tmp_path / "mypack"
    pack.mkdir()
    (pack / "pack.yml").write_text(textwrap.dedent(body))
    return pack


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("name: mine\ndescription: x\nrules:\n  - id: r1\n    dimension: licence\n", "rules.0: 'short' is a required property"),
        (
            """\
            name: mine
            description: x
            rules:
              - id: r1
                dimension: licence
                short: s
                motivation: m
                condition: "licence.ids =="
                outcomes: {on_true: {outcome: pass}}
            """,
            "condition: Failed to parse",
        ),
        (
            """\
            name: mine
            description: x
            rules:
              - id: r1
                dimension: licence
                short: s
                motivation: m
                condition: "true"
                outcomes: {on_true: {outcome: pass, status: sunny}}
            """,
            "outcomes.on_true.status: 'sunny' is not a status of licence",
        ),
    ],
)
def test_bad_rule_pack_is_one_line_naming_file_and_field(tmp_path: Path, body: str, needle: str) -> None:
    pack = bad_pack(tmp_path, body)
    proc = subprocess.run(
        [sys.executable, "-m", "openaudit", "rules", "list", "--rules", str(pack)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "pack.yml" in proc.stderr and needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_user_rule_pack_changes_the_verdict(fixture_hub: FakeHub, tmp_path: Path) -> None:
    pack = bad_pack(
        tmp_path,
        """\
        name: strict-org
        description: Our policy treats every GPL licence as closed for us.
        rules:
          - id: org.no-gpl
            dimension: licence
            short: GPL models are not allowed here.
            motivation: Our products are proprietary.
            requires: [licence.ids]
            condition: licence.ids.exists(i, i.startsWith("gpl"))
            outcomes:
              on_true: {outcome: fail, status: closed, message: "GPL licence {licence.ids} refused by policy."}
              on_false: {outcome: skip}
        """,
    )
    run = audit_json(fixture_hub.url, tmp_path, "fixture-org/gpl-sequence-tagger", extra=("--rules", str(pack)))
    doc = run.json()
    assert "strict-org" in doc["rule_packs"]
    licence = doc["models"][0]["licence"]
    assert licence["status"] == "closed"
    assert licence["summary"] == "GPL licence gpl-3.0 refused by policy."


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, openaudit.cli as c\n"
        "c.main(['--help'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert "Exit codes" in proc.stdout and "audit" in proc.stdout
    probe = (
        "import sys, openaudit.cli\n"
        "heavy = [m for m in ('huggingface_hub', 'jinja2', 'yaml', 'jsonschema', 'cel', 'httpx') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_console_script_errors_are_one_line(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("openaudit")
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    env = dict(os.environ, OPENAUDIT_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([str(exe), "audit", "bad id!"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "openaudit: 'bad id!' is not a Hugging Face repo id (owner/name[@revision])"


def test_rules_facts_lists_what_conditions_can_read(fixture_hub: FakeHub, tmp_path: Path) -> None:
    run = run_cli(
        "rules", "facts", "acme/nc-summarizer", "--format", "json",
        "--endpoint", fixture_hub.url, "--cache-dir", str(tmp_path),
    )
    facts = json.loads(run.stdout)["acme/nc-summarizer"]
    assert facts["licence.ids"]["value"] == ["cc-by-nc-4.0"]
    assert facts["licence.ids"]["evidence"][0]["locator"].startswith("README.md:")
    assert facts["weights.present"]["value"] is True
    text = run_cli("rules", "facts", "--offline", "--examples", "--cache-dir", str(tmp_path)).stdout
    assert "example-org/apache-encoder @ local" in text
    assert "card.metadata_source" in text and '"README.md"' in text
