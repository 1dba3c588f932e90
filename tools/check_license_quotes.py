"""Check that every evidence quote in licenses/*.yml is verbatim from a reference source.

A quote a reviewer cannot find in the text is worse than no quote, so after editing the
knowledge base run: `.venv/bin/python tools/check_license_quotes.py [../shared]`.
A quote counts as found when it occurs (whitespace, typographic quotes, markdown `**` and
backslashes normalised, case ignored) in a file under `<shared>/license-texts/` or among
the quotes of `<shared>/license_facts.json`. Exit 1 lists the quotes not found.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def norm(text: str) -> str:
    for a, b in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("**", ""),
        ("\\", ""),
    ):
        text = text.replace(a, b)
    return re.sub(r"\s+", " ", text).strip().lower()


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared"
    if not (shared / "license-texts").is_dir():
        print(f"no reference texts under {shared}/license-texts", file=sys.stderr)
        return 2
    corpus = [
        norm(p.read_text(encoding="utf-8"))
        for p in (shared / "license-texts").rglob("*")
        if p.is_file()
    ]
    facts_path = shared / "license_facts.json"
    if facts_path.is_file():
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        corpus.append("\n".join(norm(e["quote"]) for f in facts for e in f["evidence"]))
    missing = 0
    for path in sorted((ROOT / "licenses").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for ev in doc.get("evidence") or ():
            quote = norm(ev["quote"])
            if not any(quote in text for text in corpus):
                missing += 1
                print(
                    f"licenses/{path.name}: evidence {ev['field']}: not found: {ev['quote'][:80]!r}"
                )
    print(f"{missing} quote(s) not found", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
