"""The README and docs/ point only inside the repository, and name only rules that exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_links_stay_inside_the_repository() -> None:
    assert len(PAGES) >= 6
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, page
        for target in _LINK.findall(text):
            if target.startswith(("http://", "https://", "#")):
                continue
            resolved = (page.parent / target.split("#", 1)[0]).resolve()
            assert resolved.is_relative_to(REPO), (page.name, target)
            assert resolved.exists(), (page.name, target)


def test_docs_name_only_rules_that_exist() -> None:
    from openaudit.rules.loader import load_rules

    known = {r.id for p in load_rules(()).packs for r in p.rules}
    text = (REPO / "docs" / "verdicts.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9-]+(?:\.[a-z0-9-]+)?)`", text))
    prefixes = (
        "licence-",
        "commercial-",
        "weights-",
        "osaid.",
        "openness.",
        "lineage.",
        "hygiene.",
        "security.",
        "mof.",
    )
    rule_like = {n for n in named if n.startswith(prefixes)}
    assert len(rule_like) > 40
    assert rule_like <= known, sorted(rule_like - known)
