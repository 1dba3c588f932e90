"""Hostile repositories beside good ones in one batch: each is its own model's problem.

Every case the reliability issue listed (deep YAML and JSON, odd `datasets` shapes, a lone
surrogate, an alias bomb) plus more: the batch exits 3 at worst, every good model's verdict
is the same as without the hostile ones, and the audit's peak memory, measured on the child
process that runs it, stays under 200 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakehub import FakeHub
from tests.helpers import audit_json, by_id, validate_report

GOOD = ["acme/tiny-apache-encoder", "acme/nc-summarizer", "trap-org/mit-lora-on-llama-2"]
PEAK_MB = 200

_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]"
            for p, x in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def _nested_json(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def _card(front: str, body: str = "# Model\n") -> str:
    return f"---\n{front}\n---\n{body}"


def _cases() -> list[tuple[str, dict[str, Any], dict[str, bytes | str]]]:
    """(name, extra api fields, files) for each hostile repository."""
    deep_yaml = "license: mit\nx: " + "[" * 500 + "]" * 500
    deep_block = (
        "license: mit\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1"
    )
    return [
        ("yaml-500-deep", {"cardData": {"license": "mit"}}, {"README.md": _card(deep_yaml)}),
        ("yaml-block-300-deep", {"cardData": {"license": "mit"}}, {"README.md": _card(deep_block)}),
        (
            "config-2000-deep",
            {},
            {"README.md": _card("license: mit"), "config.json": _nested_json(2000)},
        ),
        (
            "adapter-2000-deep",
            {},
            {"README.md": _card("license: mit"), "adapter_config.json": _nested_json(2000)},
        ),
        ("datasets-nested-list", {"cardData": {"license": "mit", "datasets": [["x"]]}}, {}),
        (
            "datasets-mappings",
            {"cardData": {"license": "mit", "datasets": [{"name": "x"}, {"a": [1]}]}},
            {},
        ),
        (
            "lone-surrogate",
            {"cardData": {"license": "mit", "model_name": "bad \ud800 name", "tags": ["\udfff"]}},
            {"README.md": _card("license: mit\nmodel_name: '\\ud800'")},
        ),
        (
            "alias-bomb",
            {"cardData": {"license": "mit"}},
            {"README.md": _card("license: mit\n" + _BOMB)},
        ),
        (
            "control-chars",
            {"cardData": {"license": "mit\x1b[31m", "model_name": "\x00\x07\x1b]8;;http://x\x07"}},
            {"README.md": "\x1b[2J\x00# title\x07\n"},
        ),
        (
            "carddata-400-deep",
            {"cardData": {"license": "mit", "x": json.loads(_nested_json(400))}},
            {},
        ),
        (
            "500-bases",
            {
                "cardData": {
                    "license": "mit",
                    "base_model": [f"nobody/base-{i}" for i in range(500)],
                }
            },
            {},
        ),
        (
            "odd-types",
            {
                "cardData": {
                    "license": {"a": 1},
                    "base_model": 7,
                    "datasets": 3.5,
                    "license_link": ["x"],
                },
                "tags": [1, None, {"a": "b"}, "license:mit"],
                "gguf": {"architecture": ["x"], "general.base_model.0.repo_url": 5},
                "config": {"auto_map": "not a mapping"},
            },
            {},
        ),
        ("huge-readme", {}, {"README.md": _card("license: mit") + "x" * (3 * 1024 * 1024)}),
        ("binary-licence", {"cardData": {"license": "mit"}}, {"LICENSE": b"\x00\xff" * 50_000}),
    ]


def _add_hostile(hub: FakeHub) -> list[str]:
    ids = []
    for name, api, files in _cases():
        repo_id = f"hostile-org/{name}"
        siblings = [{"rfilename": f} for f in files]
        hub.add_repo({"id": repo_id, "siblings": siblings, **api}, files)
        ids.append(repo_id)
    return ids


def _verdict(model: dict[str, Any]) -> tuple[Any, ...]:
    dims = ("licence", "commercial_use", "weights", "training_data", "code", "documentation")
    return (model["audited"], tuple(model[d]["status"] for d in dims), tuple(model["errors"]))


def test_hostile_repositories_stay_their_own_models_problem(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    clean = by_id(audit_json(fixture_hub.url, tmp_path / "clean", *GOOD).json())
    hostile = _add_hostile(fixture_hub)
    batch = [GOOD[0], *hostile[:7], GOOD[1], *hostile[7:], GOOD[2]]
    run = audit_json(fixture_hub.url, tmp_path / "mixed", *batch, extra=("-q",))
    assert run.code in (0, 3), run.stderr
    assert "Traceback" not in run.stderr
    models = by_id(run.json())
    assert list(models) == batch
    for good in GOOD:
        assert _verdict(models[good]) == _verdict(clean[good]), good
    text = run.stdout
    assert "\\ud800" not in text and "\\u001b" not in text and "\\u0000" not in text
    for name in ("yaml-500-deep", "yaml-block-300-deep", "alias-bomb", "carddata-400-deep"):
        model = models[f"hostile-org/{name}"]
        assert model["audited"], name
        assert "malformed" in {e["reason"] for e in model["errors"]}, name
    capped = models["hostile-org/500-bases"]
    assert any(e["reason"] == "capped" for e in capped["errors"])
    assert fixture_hub.count("/api/models/nobody/") <= 16


def test_hostile_batch_peak_memory_is_bounded(fixture_hub: FakeHub, tmp_path: Path) -> None:
    """The audit runs in a child of a small wrapper; the wrapper reports the child's peak RSS."""
    hostile = _add_hostile(fixture_hub)
    args = [
        sys.executable,
        "-m",
        "openaudit",
        "audit",
        *GOOD,
        *hostile,
        "--format",
        "json",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "store"),
        "-q",
    ]
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "sys.stdout.write(p.stdout)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, timeout=300
    )
    peak_kb, code = (int(x) for x in proc.stderr.strip().splitlines()[-1].split())
    print(
        f"\nhostile batch: {len(hostile)} hostile + {len(GOOD)} good models, peak RSS {peak_kb / 1024:.0f} MB"
    )
    assert code in (0, 3), proc.stderr
    doc = json.loads(proc.stdout)
    validate_report(doc)
    assert len(doc["models"]) == len(GOOD) + len(hostile)
    assert peak_kb < PEAK_MB * 1024
