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
        ("decl-org/sai-nc-alias", ["stability-ai-noncommercial-research"], "restricted", "prohibited"),
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
    assert any("license_name: acme-enterprise-model-terms" in e["excerpt"] for e in finding["evidence"])


def test_the_licenceref_is_shown_in_every_format(fixture_scorecard: Scorecard) -> None:
    from openaudit.report.markdown import render as render_markdown

    assert "LicenseRef-acme-enterprise-model-terms" in render_markdown(fixture_scorecard)
    # The 80-column table cuts long cells, but never hides that a name was declared.
    row = next(
        line for line in render_table(fixture_scorecard).splitlines()
        if "undefined-licence-name" in line
    )
    assert "LicenseRef-" in row and " - " not in row
