"""Licence files compared clause by clause, end to end through the audit (issue 8, item 3).

Each fixture under tests/fixtures/hub/models/text-org is a LICENSE file people actually
ship: a known text with one line added, one sentence edited, a restrictive clause
deleted, the end cut off, or only a notice. The audit must not call any of them `open` /
`allowed` on the strength of the name alone, and its finding must quote what differs with
the file's line numbers. A reviewed text's sha256 accepts it again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from openaudit.model import Finding, Scorecard, Verdict
from tests.conftest import FIXTURE_HUB_DIR
from tests.fakehub import FakeHub

MODELS = FIXTURE_HUB_DIR / "models" / "text-org"


def model(scorecard: Scorecard, name: str) -> Verdict:
    return next(m for m in scorecard.models if m.id == f"text-org/{name}")


def findings(v: Verdict, rule: str) -> list[Finding]:
    every = [*v.findings, *(f for d in v.dimensions for f in d.findings)]
    return [f for f in every if f.rule == rule]


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        (
            "mit-no-commercial-line",
            'LICENSE:24: added outside the licence "The Software may not be used for commercial',
        ),
        (
            "apache-no-commercial-line",
            'LICENSE:204: added outside the licence "No commercial use of the model is permitted."',
        ),
        (
            "mit-sentence-edited",
            'LICENSE:7: changed "without restriction" (texts/mit.txt:3) to "for noncommercial '
            'purposes only"',
        ),
    ],
)
def test_permissive_text_with_a_restriction_is_not_allowed(
    fixture_scorecard: Scorecard, name: str, quoted: str
) -> None:
    v = model(fixture_scorecard, name)
    # `unknown` from the unread change; the declarations reader may find the added words
    # restrictive on its own (more cautious still). Never open / allowed.
    assert v.dimension("licence").status in ("unknown", "restricted")
    assert v.dimension("commercial_use").status in ("unknown", "prohibited")
    (extra,) = findings(v, "licence-file-extra-text")
    assert extra.outcome == "unknown" and quoted in extra.message, extra.message
    assert any(e.locator.startswith("LICENSE") for e in extra.evidence)
    (agrees,) = findings(v, "hygiene.licence-file-agrees")
    assert agrees.outcome == "fail"


def test_deleted_clause_of_a_restrictive_licence_is_quoted(fixture_scorecard: Scorecard) -> None:
    v = model(fixture_scorecard, "llama31-clause-deleted")
    assert v.licence_ids == ("llama3.1",) or list(v.licence_ids) == ["llama3.1"]
    assert v.dimension("licence").status == "restricted"
    assert v.dimension("commercial_use").status in ("conditional", "unknown")
    (extra,) = findings(v, "licence-file-extra-text")
    assert 'LICENSE:32: removed "additional commercial terms if on the llama 3.1' in extra.message
    assert "700 million monthly active users" in extra.message
    assert "(texts/llama3.1.txt:33)" in extra.message
    (commercial,) = findings(v, "commercial-file-extra-text")
    assert commercial.outcome == "unknown"
    assert findings(v, "hygiene.licence-file-agrees")[0].outcome == "fail"


def test_partial_text_is_named_but_its_missing_part_is_unread(
    fixture_scorecard: Scorecard,
) -> None:
    v = model(fixture_scorecard, "mit-partial")
    assert list(v.licence_ids) == ["mit"]
    assert v.dimension("licence").status == "unknown"
    assert v.dimension("commercial_use").status == "unknown"
    (partial,) = findings(v, "licence-file-partial")
    assert "LICENSE: 6" in partial.message and "% of mit" in partial.message


def test_notice_is_named_as_weaker_evidence(fixture_scorecard: Scorecard) -> None:
    v = model(fixture_scorecard, "apache-notice-only")
    assert list(v.licence_ids) == ["apache-2.0"]
    (notice,) = findings(v, "licence-file-notice")
    assert notice.outcome == "info"
    assert "LICENSE:3: names apache-2.0" in notice.message
    assert "not its text" in notice.message
    assert not findings(v, "licence-file-extra-text")
    assert v.dimension("licence").status == "open"


def test_a_reviewed_text_is_accepted_by_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openaudit.model import ModelRef
    from openaudit.pipeline import AuditOptions, audit

    text = (MODELS / "mit-sentence-edited" / "files" / "LICENSE").read_bytes()
    listing = tmp_path / "reviewed.yml"
    listing.write_text(
        "reviewed_texts:\n"
        f"  - sha256: {hashlib.sha256(text).hexdigest()}\n"
        "    note: read by legal, 2025-03-03\n"
    )
    monkeypatch.setenv("OPENAUDIT_REVIEWED_TEXTS", str(listing))
    with FakeHub(FIXTURE_HUB_DIR) as hub:
        options = AuditOptions(endpoint=hub.url, cache_dir=tmp_path / "store")
        card = audit(
            [ModelRef("text-org/mit-sentence-edited"), ModelRef("text-org/mit-no-commercial-line")],
            options,
        )
    reviewed, other = card.models
    # The reviewed text no longer waits for a person; what it says is judged as for any
    # licence file (its "non-commercial" words are read by the declarations reader).
    assert not findings(reviewed, "licence-file-extra-text")
    assert not findings(reviewed, "commercial-file-extra-text")
    assert findings(other, "licence-file-extra-text")
    assert findings(other, "commercial-file-extra-text")
    assert other.dimension("commercial_use").status != "allowed"


def test_a_malformed_reviewed_list_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openaudit.kb import KnowledgeBaseError, load_kb

    bad = tmp_path / "reviewed.yml"
    bad.write_text("reviewed_texts:\n  - sha256: not-a-hash\n")
    monkeypatch.setenv("OPENAUDIT_REVIEWED_TEXTS", str(bad))
    with pytest.raises(KnowledgeBaseError, match=r"reviewed_texts\.0: sha256"):
        load_kb()


def test_a_remembered_identification_keeps_its_parts_and_changes() -> None:
    """The batch memo stores matches as JSON: parts, changes and outside text survive it."""
    from openaudit.kb import load_kb
    from openaudit.kb.identify import identify_text
    from openaudit.kb.memo import match_from_json, match_to_json

    text = (MODELS / "mit-sentence-edited" / "files" / "LICENSE").read_text()
    m = identify_text(text + "\nNo commercial use.\n", load_kb())
    assert m.changes and m.outside and m.parts
    assert match_from_json(match_to_json(m)) == m
