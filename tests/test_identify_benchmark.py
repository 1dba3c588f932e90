"""The identification benchmark's independent files: openaudit never names a wrong licence.

benchmarks/identify_vs_scancode.py runs without ScanCode too (openaudit's side only): this
test runs it that way, so the claim "no wrong licence on files the references were not
built from" is checked on every change, and the benchmark itself keeps working.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_runs_without_scancode_and_names_no_wrong_licence(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "identify_vs_scancode.py"),
            "--scancode-venv",
            str(tmp_path / "no-scancode"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "openaudit's side only" in proc.stderr
    rows = json.loads(out.read_text())
    independent = [r for r in rows if r["group"] != "built-from"]
    assert {r["group"] for r in independent} == {"ai", "packages", "edited", "notices"}
    wrong = [
        (r["file"], r["expected"], r["openaudit_ids"])
        for r in independent
        if r["openaudit"] == "wrong"
    ]
    assert not wrong
    right = sum(r["openaudit"] == "right" for r in independent)
    assert right >= 0.9 * len(independent), right
