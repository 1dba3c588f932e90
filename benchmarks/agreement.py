"""Benchmark: agreement of openaudit's verdicts with the expert labels of ../shared/corpus.

Runs exactly what ``openaudit eval CORPUS`` runs (a loopback replay of the corpus, every model
audited with a fresh evidence store, scored against ``labels.json`` beside a naive baseline that
trusts the Hub's licence tag alone) and prints the same table. Extra arguments are passed on:

    .venv/bin/python benchmarks/agreement.py                 # the table and disagreements
    .venv/bin/python benchmarks/agreement.py --format json   # for machines
    .venv/bin/python benchmarks/agreement.py --corpus DIR    # another labelled corpus
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def main(argv: list[str]) -> int:
    corpus = CORPUS
    if argv[:1] == ["--corpus"] and len(argv) >= 2:
        corpus, argv = Path(argv[1]), argv[2:]
    if not (corpus / "labels.json").is_file():
        print(f"agreement: no labelled corpus at {corpus}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from openaudit.cli import main as cli_main

    try:
        cli_main(["eval", str(corpus), *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
