"""A stored JSON audit reads back into the Scorecard it was written from (`--from-json`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from openaudit.model import Scorecard
from openaudit.report import render
from openaudit.report.json_format import ReportError, read_scorecard
from tests.helpers import run_cli


def test_json_round_trips_for_every_fixture(fixture_scorecard: Scorecard) -> None:
    text = render(fixture_scorecard, "json")
    back = read_scorecard(text)
    assert render(back, "json") == text
    assert [v.audited for v in back.models] == [v.audited for v in fixture_scorecard.models]
    assert False in [v.audited for v in back.models]
    # Formats rendered from the verdicts alone come out the same as from the live audit
    # (the time of the run is the report's to carry: taken over when it does not).
    back = replace(back, generated_at=back.generated_at or fixture_scorecard.generated_at)
    for fmt in ("table", "markdown"):
        assert render(back, fmt) == render(fixture_scorecard, fmt)


def test_reports_without_audited_infer_it(fixture_scorecard: Scorecard) -> None:
    doc = json.loads(render(fixture_scorecard, "json"))
    for m in doc["models"]:
        del m["audited"]
    back = read_scorecard(json.dumps(doc))
    assert [v.audited for v in back.models] == [v.audited for v in fixture_scorecard.models]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ("[]", "top level"),
        (
            '{"schema": "openaudit/audit/v2", "tool": {"name": "openaudit", "version": "0"}, '
            '"rule_packs": [], "models": []}',
            "schema",
        ),
    ],
)
def test_bad_reports_are_named(text: str, says: str) -> None:
    with pytest.raises(ReportError, match=says):
        read_scorecard(text)


def test_a_changed_status_is_refused(fixture_scorecard: Scorecard) -> None:
    doc = json.loads(render(fixture_scorecard, "json"))
    doc["models"][0]["licence"]["status"] = "very-open"
    with pytest.raises(ReportError, match="models/0/licence/status"):
        read_scorecard(json.dumps(doc))


def test_cli_from_json(fixture_scorecard: Scorecard, tmp_path: Path) -> None:
    stored = tmp_path / "audit.json"
    stored.write_text(render(fixture_scorecard, "json"), encoding="utf-8")
    run = run_cli("audit", "--from-json", str(stored), "--format", "json")
    # A model that could not be audited still exits 3, as the live audit did.
    assert run.code == 3
    assert run.stdout == stored.read_text(encoding="utf-8")

    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1}', encoding="utf-8")
    run = run_cli("audit", "--from-json", str(bad))
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and str(bad) in run.stderr

    run = run_cli("audit", "--from-json", str(tmp_path / "missing.json"))
    assert run.code == 2 and "missing.json: cannot read" in run.stderr

    run = run_cli("audit", "--from-json", str(stored), "acme/tiny-apache-encoder")
    assert run.code == 2 and "--from-json" in run.stderr
