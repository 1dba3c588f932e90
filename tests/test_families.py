"""Names in prose resolve through the family table, and family claims fire only where they
should (issue 8, Build 6). Fixtures: owner `fam-org` (and one `google/` repo for the publisher
case), documented in tests/fixtures/hub/README.md, audited end to end through the fake Hub."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openaudit.model import Scorecard
from openaudit.report.json_format import render


@pytest.fixture(scope="module")
def doc(fixture_scorecard: Scorecard) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in json.loads(render(fixture_scorecard))["models"]}


def _licence_rules(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in model["licence"]["findings"]}


@pytest.mark.parametrize(
    ("repo", "name", "licence"),
    [
        # "The base of this model is Qwen2.5-3B-Instruct": a bare name with a size whose member
        # is under the Qwen research licence.
        ("fam-org/qwen-3b-prose-base", "Qwen2.5-3B-Instruct", "qwen-research"),
        # "We fine-tuned from Llama-2-13b": a bare name, no backticks, no link.
        ("fam-org/summariser-13b-prose-base", "Llama-2-13b", "llama2"),
    ],
)
def test_bare_names_in_prose_resolve_through_the_family_table(
    doc: dict[str, dict[str, Any]], repo: str, name: str, licence: str
) -> None:
    model = doc[repo]
    assert model["licence"]["status"] not in ("open",)
    assert model["commercial_use"]["status"] not in ("allowed",)
    claim = _licence_rules(model)["lineage.restricted-family"]
    assert licence in claim["message"] and claim["severity"] == "high"
    # Cited at the README line that names the base.
    assert any(
        e["locator"].startswith("README.md:") and name in e["excerpt"] for e in claim["evidence"]
    )


def test_a_size_under_free_terms_claims_no_restricted_family(
    doc: dict[str, dict[str, Any]],
) -> None:
    # Qwen2.5-7B is Apache-2.0: the name is still a base that is not declared (unknown), but no
    # restricted family is claimed.
    model = doc["fam-org/support-chat-7b-prose-base"]
    assert "lineage.restricted-family" not in _licence_rules(model)
    assert "lineage.base-undeclared" in _licence_rules(model)


def test_the_parameter_count_picks_the_member_for_the_models_own_name(
    doc: dict[str, dict[str, Any]],
) -> None:
    # "qwen2.5-support-chat" names no size; its 3.09 B parameters are the 3B member's.
    model = doc["fam-org/qwen2.5-support-chat"]
    assert (model["licence"]["status"], model["commercial_use"]["status"]) == ("unknown", "unknown")
    assert "qwen-research" in _licence_rules(model)["lineage.restricted-family"]["message"]


@pytest.mark.parametrize(
    "repo",
    [
        # a Llama 3.1 model named and tagged "Llama-3": a newer member's licence honours it
        "fam-org/Llama-3-fam-8B-Instruct",
        # a Llama 3.3 model tagged with the bare word "llama": not a claim on the first LLaMA
        "fam-org/tagged-community-model",
        # the family's own publisher naming its own model
        "google/gemma-fixture-sae-2b",
    ],
)
def test_family_claims_do_not_fire_on_members_or_the_publisher(
    doc: dict[str, dict[str, Any]], repo: str
) -> None:
    model = doc[repo]
    assert "lineage.restricted-family" not in _licence_rules(model)


def test_the_publishers_own_licence_decides(doc: dict[str, dict[str, Any]]) -> None:
    model = doc["google/gemma-fixture-sae-2b"]
    assert (model["licence"]["status"], model["commercial_use"]["status"]) == ("open", "allowed")


def test_sizes_and_series_are_data() -> None:
    from openaudit.facts.lineage import FamilyClaim, _size_after, _size_of, honoured
    from openaudit.kb.loader import family_words, load_families
    from openaudit.model import Evidence

    families = {f.id: f for f in load_families()}
    assert _size_after(family_words("Qwen2.5-0.5B-Instruct"), 2) == "0.5b"
    assert families["qwen2.5"].licences_for("3b") == ("qwen-research",)
    assert families["qwen2.5"].licences_for("7b") == ("apache-2.0",)
    assert _size_of(72_706_203_648, families["qwen2.5"]) == "72b"
    assert _size_of(7_615_616_512, families["qwen2.5"]) is None
    ev = Evidence("api", "id", "x")
    older = FamilyClaim(families["llama-3"], "llama-3", "tag", ev, ("llama3",))
    assert honoured(older, {"llama3.1": {}}, tuple(families.values()))
    newer = FamilyClaim(families["llama-3.1"], "llama-3.1", "tag", ev, ("llama3.1",))
    assert not honoured(newer, {"llama3": {}}, tuple(families.values()))
