"""Every declaration is a source (issue 8, Build 2 and 4): declared names keep their identity,
restrictive words anywhere outweigh permissive ones, and conflicts cite both sides.

Each fixture (owner `decl-org`, tests/fixtures/hub/README.md) is audited end to end through the
fake Hub and the real `huggingface_hub` client; the assertions are on the JSON report a user reads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from openaudit.model import Scorecard
from openaudit.report.json_format import render
from openaudit.report.table import render as render_table


@pytest.fixture(scope="module")
def doc(fixture_scorecard: Scorecard) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in json.loads(render(fixture_scorecard))["models"]}


def _statuses(model: dict[str, Any]) -> tuple[str, str]:
    return model["licence"]["status"], model["commercial_use"]["status"]


def _rules(model: dict[str, Any], dimension: str | None = None) -> dict[str, dict[str, Any]]:
    found = model[dimension]["findings"] if dimension else model["findings"]
    return {f["rule"]: f for f in found}


# ------------------------------------------------------------------ Build 4: names keep identity


@pytest.mark.parametrize(
    ("repo", "ids", "licence", "commercial"),
    [
        # A name the knowledge base lacks: shown as a LicenseRef, unknown with the reason.
        (
            "decl-org/undefined-licence-name",
            ["LicenseRef-acme-enterprise-model-terms"],
            "unknown",
            "unknown",
        ),
        # Names the Hub carries, now known.
        ("decl-org/qwen-research-named", ["qwen-research"], "restricted", "prohibited"),
        (
            "decl-org/sai-nc-alias",
            ["stability-ai-noncommercial-research"],
            "restricted",
            "prohibited",
        ),
        # A name for several vendor texts: known, but it does not fix the terms.
        ("decl-org/modified-mit-named", ["modified-mit"], "unknown", "unknown"),
    ],
)
def test_declared_names_keep_their_identity(
    doc: dict[str, dict[str, Any]], repo: str, ids: list[str], licence: str, commercial: str
) -> None:
    model = doc[repo]
    assert model["licence"]["ids"] == ids
    assert _statuses(model) == (licence, commercial)


def test_an_undefined_name_is_unknown_with_the_reason(doc: dict[str, dict[str, Any]]) -> None:
    model = doc["decl-org/undefined-licence-name"]
    finding = _rules(model, "licence")["licence-unidentified"]
    assert "LicenseRef-acme-enterprise-model-terms" in finding["message"]
    assert any(
        "license_name: acme-enterprise-model-terms" in e["excerpt"] for e in finding["evidence"]
    )


def test_the_licenceref_is_shown_in_every_format(fixture_scorecard: Scorecard) -> None:
    from openaudit.report.markdown import render as render_markdown

    assert "LicenseRef-acme-enterprise-model-terms" in render_markdown(fixture_scorecard)
    # The 80-column table wraps long cells, but never hides that a name was declared.
    from openaudit.report.table import widths

    lines = render_table(fixture_scorecard).splitlines()
    width = widths(80)[0]
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("decl-org/")
        and "undefined-licence" in "".join(x[:width].strip() for x in lines[i : i + 3])
    )
    row = lines[start : start + 3]
    assert row[0].split()[1].startswith("LicenseRef") and " none " not in row[0]


# ------------------------------------------------------------------ Build 2: every declaration is a source


@pytest.mark.parametrize(
    ("repo", "restrictive", "permissive"),
    [
        # `license: mit` + `license_name` of a non-commercial licence (known, and unknown by name)
        (
            "decl-org/mit-with-flux-name",
            "license_name: flux-1-dev-non-commercial-license",
            "license: mit",
        ),
        (
            "decl-org/mit-with-nc-name",
            "license_name: acme-non-commercial-model-license",
            "license: mit",
        ),
        # a LICENSE titled "... NON-COMMERCIAL COMMUNITY LICENSE AGREEMENT" beside `license: mit`
        (
            "decl-org/nc-titled-licence-file",
            "ACME NON-COMMERCIAL COMMUNITY LICENSE AGREEMENT",
            "license: mit",
        ),
        # a gate field the downloader must tick
        (
            "decl-org/gate-field-nc",
            "I acknowledge that this model is for non-commercial use only",
            "license: apache-2.0",
        ),
        # card metadata
        ("decl-org/commercial-false", "commercial: False", "license: apache-2.0"),
        # a licence statement in the prose
        (
            "decl-org/prose-cc-by-nc",
            "This model is released under CC BY-NC 4.0.",
            "license: apache-2.0",
        ),
        # a licence section that holds only a licence's name
        ("decl-org/licence-section-name", "CC-BY-NC-4.0", "license: mit"),
    ],
)
def test_a_restrictive_declaration_outweighs_a_permissive_one(
    doc: dict[str, dict[str, Any]], repo: str, restrictive: str, permissive: str
) -> None:
    model = doc[repo]
    assert _statuses(model) == ("restricted", "prohibited")
    # The conflict is a finding that cites both sides.
    conflict = _rules(model)["hygiene.declarations-agree"]
    assert conflict["outcome"] == "fail" and conflict["severity"] == "high"
    excerpts = [e["excerpt"] for e in conflict["evidence"]]
    assert any(restrictive in x for x in excerpts), excerpts
    assert any(permissive in x for x in excerpts), excerpts
    # The status itself cites the restrictive declaration, pinned to where it was read.
    cited = _rules(model, "commercial_use")
    withheld = cited.get("commercial-statement-prohibits") or cited["commercial-prohibited"]
    assert any(restrictive in e["excerpt"] or "flux" in e["excerpt"] for e in withheld["evidence"])
    assert all(
        e["url"] is None or "/decl-org/" in e["url"]
        for e in withheld["evidence"]
        if e["source"] != "knowledge-base"
    )


def test_the_title_is_cited_by_file_and_line(doc: dict[str, dict[str, Any]]) -> None:
    finding = _rules(doc["decl-org/nc-titled-licence-file"], "licence")[
        "licence-statement-restricts"
    ]
    assert any(e["locator"] == "LICENSE:1" for e in finding["evidence"])


def test_a_permissive_sentence_about_outputs_does_not_open_a_non_commercial_model(
    doc: dict[str, dict[str, Any]],
) -> None:
    # "Generated outputs can be used for ... commercial purposes" is in the card's prose.
    model = doc["decl-org/mit-with-flux-name"]
    assert "flux-1-dev-non-commercial-license" in model["licence"]["ids"]
    assert _statuses(model) == ("restricted", "prohibited")


def test_commercial_and_non_commercial_together_is_not_a_restriction(
    doc: dict[str, dict[str, Any]],
) -> None:
    model = doc["decl-org/prose-both-uses"]
    assert _statuses(model) == ("open", "allowed")
    assert "hygiene.declarations-agree" not in _rules(model)


def test_a_restriction_that_does_not_settle_commercial_use_leaves_it_unknown(
    doc: dict[str, dict[str, Any]],
) -> None:
    model = doc["decl-org/prose-no-derivatives"]
    assert _statuses(model) == ("restricted", "unknown")
    assert "commercial-statement-undecided" in _rules(model, "commercial_use")


def test_a_licence_named_in_prose_binds_like_the_declared_one(
    doc: dict[str, dict[str, Any]],
) -> None:
    model = doc["decl-org/prose-community-licence"]
    assert _statuses(model) == ("restricted", "conditional")
    excerpts = [e["excerpt"] for e in _rules(model)["hygiene.declarations-agree"]["evidence"]]
    assert any("Llama 3.1 Community License" in x for x in excerpts)
    assert any("license: apache-2.0" in x for x in excerpts)


def test_phrases_are_data() -> None:
    from openaudit.facts.declarations import signals

    assert [p.restriction for p in signals("FLUX.1-dev_NON_COMMERCIAL", "name")] == [
        "non-commercial"
    ]
    assert signals("sai-nc-community", "name") and not signals("sai-nc-community", "text")
    assert not signals("for commercial or non-commercial use", "text")
    assert [p.restriction for p in signals("Research use only.", "text")] == ["research-only"]


def test_reading_is_bounded_on_hostile_text() -> None:
    from openaudit.facts.declarations import signals

    # Only the first part of a line is read: words far down a huge line are not scanned.
    assert signals("x " * 2_000_000 + "non-commercial", "text") == []
    assert signals("non-commercial " + "x " * 2_000_000, "text")
