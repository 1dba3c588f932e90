"""Benchmark: how large published scorecards are, per model.

Replays the real snapshots of ../shared/corpus (when present) and the project's fixtures over a
loopback Hub, runs `openaudit report` on every model in them with a fresh evidence store, and
prints the number of scorecards, the total and average size of the Markdown scorecards (the
index excluded) and the largest. The target is an average under 8 KB (8192 bytes) a model.

    .venv/bin/python benchmarks/report_size.py            # corpus + fixtures
    .venv/bin/python benchmarks/report_size.py --limit 60 # the first 60 models only
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = [
    p
    for p in (REPO.parent / "shared" / "corpus", REPO / "tests" / "fixtures" / "hub")
    if p.is_dir()
]


def main(argv: list[str]) -> int:
    limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else None
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("OPENAUDIT_LINK_HOSTS", "127.0.0.1")
    from openaudit.cli import main as cli_main
    from openaudit.hub.replay import ReplayHub

    with ReplayHub(*ROOTS) as hub, tempfile.TemporaryDirectory() as tmp:
        ids = sorted(hub.repo_ids("model"))[:limit]
        listing = Path(tmp) / "models.txt"
        listing.write_text("\n".join(ids) + "\n")
        out = Path(tmp) / "out"
        args = [
            "report",
            "--from-file",
            str(listing),
            "--out",
            str(out),
            "--endpoint",
            hub.url,
            "--cache-dir",
            str(Path(tmp) / "store"),
            "--date",
            "2026-01-01",
            "-q",
        ]
        try:
            cli_main(args)
        except SystemExit as exc:
            if exc.code not in (0, 3, None):
                return int(exc.code)
        cards = [p for p in out.rglob("*.md") if p != out / "README.md"]
        sizes = sorted((p.stat().st_size, p.relative_to(out).as_posix()) for p in cards)
        total = sum(s for s, _ in sizes)
        print(f"models: {len(ids)}  scorecards: {len(cards)}  total: {total} bytes")
        print(f"average: {total / len(cards):.0f} bytes a model (target < 8192)")
        print(
            f"largest: {sizes[-1][0]} bytes ({sizes[-1][1]}); index: {(out / 'README.md').stat().st_size} bytes"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
