"""`reports/` holds the published scorecards of the example models; it must match the tool.

Regenerate with the command in docs/reports.md (and the README):
    openaudit report --examples --offline --no-cache --html --date 2026-01-01 --out reports
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
COMMAND = ("report", "--examples", "--offline", "--no-cache", "--html", "--date", "2026-01-01")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_reports_folder_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    run = run_cli(*COMMAND, "--out", str(out), "--cache-dir", str(tmp_path / "cache"))
    assert run.code == 0, run.stderr
    fresh, committed = _files(out), _files(REPO / "reports")
    hint = "reports/ is stale: run `openaudit " + " ".join(COMMAND) + " --out reports` (rm -rf reports first)"
    assert sorted(fresh) == sorted(committed), hint
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"{hint}: {stale}"
