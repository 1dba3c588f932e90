"""Lineage traps, judged end to end: fake Hub -> real huggingface_hub client -> facts -> rules -> JSON.

Each trap is a fixture under tests/fixtures/hub/models/trap-org (README there). One audit of
every fixture (conftest `fixture_scorecard`) is shared; each test reads the JSON a user would get, because
a wrong "open" or commercially "allowed" in that document is the failure that matters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openaudit.model import Scorecard
from openaudit.report.json_format import render


@pytest.fixture(scope="module")
def scorecard(fixture_scorecard: Scorecard) -> Scorecard:
    return fixture_scorecard


@pytest.fixture(scope="module")
def doc(scorecard: Scorecard) -> dict[str, dict[str, Any]]:
    data = json.loads(render(scorecard))
    return {m["id"]: m for m in data["models"]}


def _finding(model: dict[str, Any], dimension: str, rule: str) -> dict[str, Any]:
    found = [f for f in model[dimension]["findings"] if f["rule"] == rule]
    assert found, f"{rule} not among {[f['rule'] for f in model[dimension]['findings']]}"
    return found[0]


def _hygiene(model: dict[str, Any], rule: str) -> dict[str, Any] | None:
    return next((f for f in model["findings"] if f["rule"] == rule), None)


def _urls(finding: dict[str, Any]) -> list[str]:
    return [e.get("url") or "" for e in finding["evidence"]]


def test_lora_declaring_mit_on_a_llama_base_is_restricted(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/mit-lora-on-llama-2"]
    assert m["licence"]["ids"] == ["mit"]
    assert m["licence"]["status"] == "restricted"
    assert m["commercial_use"]["status"] == "conditional"
    assert m["osaid"] == "not-conformant"
    f = _finding(m, "licence", "lineage.base-restricted")
    assert (
        "mit" in f["message"]
        and "llama2" in f["message"]
        and "trap-org/llama-2-base-7b" in f["message"]
    )
    # Both ends are cited: the adapter's own card and the base's, each pinned to its commit.
    urls = _urls(f)
    assert any("/trap-org/mit-lora-on-llama-2/blob/" in u for u in urls)
    assert any("/trap-org/llama-2-base-7b/blob/" in u for u in urls)
    assert _hygiene(m, "hygiene.derivative-licence-consistent")["outcome"] == "fail"  # type: ignore[index]


def test_existing_adapter_fixture_is_not_called_open(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["acme/llama-3.1-acme-chat-sql-lora"]
    assert m["licence"]["status"] == "restricted"
    # The Llama base at the root of its chain is gated: its LICENSE, unread without a token,
    # could prohibit commercial use, so commercial use is undecided and says why.
    assert m["commercial_use"]["status"] == "unknown"
    assert "fixture-org/llama-3.1-fixture-8b/LICENSE (gated-no-token)" in m["commercial_use"]["summary"]


def test_quantisation_relicensed_away_from_its_base(
    doc: dict[str, dict[str, Any]], scorecard: Scorecard
) -> None:
    m = doc["trap-org/relicensed-quant-GGUF"]
    assert m["licence"]["ids"] == ["apache-2.0"]
    assert m["licence"]["status"] == "restricted"
    assert m["commercial_use"]["status"] == "conditional"
    facts = next(v for v in scorecard.models if v.id == "trap-org/relicensed-quant-GGUF").facts
    assert facts is not None
    assert facts.value("lineage.relation") == "quantized"
    assert facts.value("licence.effective_ids") == ["apache-2.0", "llama2"]
    assert facts.value("licence.inherited_ids") == ["llama2"]


def test_quantisation_of_a_deleted_base_is_unknown(
    doc: dict[str, dict[str, Any]], scorecard: Scorecard
) -> None:
    m = doc["trap-org/orphan-quant-GGUF"]
    assert m["licence"]["status"] == "unknown"
    assert m["commercial_use"]["status"] == "unknown"
    f = _finding(m, "licence", "lineage.base-unreadable")
    assert "trap-org/deleted-base-7b (not-found)" in f["message"] and "apache-2.0" in f["message"]
    assert any(e["subject"] == "model:trap-org/deleted-base-7b" for e in m["errors"])
    facts = next(v for v in scorecard.models if v.id == "trap-org/orphan-quant-GGUF").facts
    assert facts is not None and facts.value("lineage.base_unreadable") is True
    base = facts.value("lineage.bases")[0]
    assert base["readable"] is False and base["problem"]["reason"] == "not-found"


def test_merge_is_bounded_by_its_most_restrictive_base(
    doc: dict[str, dict[str, Any]], scorecard: Scorecard
) -> None:
    m = doc["trap-org/mixed-licence-merge"]
    assert m["licence"]["status"] == "restricted"
    assert m["commercial_use"]["status"] == "prohibited"
    f = _finding(m, "commercial_use", "lineage.base-commercial-prohibited")
    assert "cc-by-nc-4.0" in f["message"]
    facts = next(v for v in scorecard.models if v.id == "trap-org/mixed-licence-merge").facts
    assert facts is not None
    assert facts.value("lineage.relation") == "merge"
    assert sorted(facts.value("licence.effective_ids")) == ["apache-2.0", "cc-by-nc-4.0"]


def test_llama_2_tag_with_mit_and_no_base_is_not_open(
    doc: dict[str, dict[str, Any]], scorecard: Scorecard
) -> None:
    m = doc["trap-org/mit-tagged-llama-2"]
    assert m["licence"]["status"] not in ("open",) and m["licence"]["status"] == "unknown"
    assert m["commercial_use"]["status"] == "unknown"
    f = _finding(m, "licence", "lineage.restricted-family")
    assert "llama-2" in f["message"] and "llama2" in f["message"] and "mit" in f["message"]
    facts = next(v for v in scorecard.models if v.id == "trap-org/mit-tagged-llama-2").facts
    assert facts is not None and facts.value("lineage.family_licences") == ["llama2"]


def test_cc_by_nc_dataset_under_an_apache_model(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/apache-on-nc-data"]
    assert m["licence"]["status"] == "open"  # the weights' own licence is Apache-2.0 ...
    assert m["commercial_use"]["status"] == "unknown"  # ... but commercial use is not "allowed"
    f = _finding(m, "commercial_use", "lineage.dataset-noncommercial")
    assert "apache-2.0" in f["message"] and "trap-org/nc-corpus: cc-by-nc-4.0" in f["message"]
    assert any("/datasets/trap-org/nc-corpus/" in u for u in _urls(f))
    assert _hygiene(m, "hygiene.dataset-licence-compatible")["outcome"] == "fail"  # type: ignore[index]
    assert m["training_data"]["status"] == "partial"


def test_cycle_in_base_model_terminates_and_is_reported(
    doc: dict[str, dict[str, Any]], scorecard: Scorecard
) -> None:
    m = doc["trap-org/cycle-a"]
    h = _hygiene(m, "hygiene.lineage-acyclic")
    assert h is not None and h["outcome"] == "fail"
    assert "trap-org/cycle-a -> trap-org/cycle-b -> trap-org/cycle-a" in h["message"]
    facts = next(v for v in scorecard.models if v.id == "trap-org/cycle-a").facts
    assert facts is not None and [b["id"] for b in facts.value("lineage.ancestors")] == [
        "trap-org/cycle-b"
    ]


def test_adapter_without_a_base_is_unknown(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/orphan-adapter"]
    assert m["licence"]["status"] == "unknown" and m["commercial_use"]["status"] == "unknown"
    _finding(m, "licence", "lineage.base-undeclared")
    assert _hygiene(m, "hygiene.base-model-declared")["outcome"] == "fail"  # type: ignore[index]


def test_base_without_a_licence_makes_the_finetune_unknown(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/finetune-of-unlicensed"]
    assert m["licence"]["status"] == "unknown" and m["commercial_use"]["status"] == "unknown"
    f = _finding(m, "licence", "lineage.base-licence-undecided")
    assert "trap-org/unlicensed-base-7b" in f["message"]


def test_original_models_pass_lineage_rules(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/apache-base-7b"]
    assert m["licence"]["status"] == "open" and m["commercial_use"]["status"] == "allowed"
    assert not [f for f in m["licence"]["findings"] if f["rule"].startswith("lineage.")]
    base = doc["trap-org/llama-2-base-7b"]
    assert base["licence"]["status"] == "restricted"  # its own licence, no lineage needed
    assert not [f for f in base["licence"]["findings"] if f["rule"].startswith("lineage.")]
    assert _hygiene(base, "hygiene.derivative-licence-consistent") is None


def test_family_table_names_only_knowledge_base_licences() -> None:
    from openaudit.kb import load_kb
    from openaudit.kb.loader import load_families

    kb = load_kb()
    families = load_families()
    assert {f.id for f in families} >= {"llama-2", "llama-3", "gemma", "mistral-research"}
    for fam in families:
        assert all(kb.get(i) is not None for i in fam.licences)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Llama-2-7b-chat", ["llama-2"]),
        ("Meta-Llama-3.1-8B-Instruct", ["llama-3.1"]),
        ("CodeLlama-7B", ["llama-2"]),
        ("TinyLlama-1.1B", []),
        ("gemma-2-9b-it", ["gemma"]),
        ("Mistral-7B-v0.1", []),
    ],
)
def test_family_matching_is_by_whole_words(text: str, expected: list[str]) -> None:
    from openaudit.facts.lineage import _match_families
    from openaudit.kb.loader import family_words, load_families

    assert [f.id for f, _ in _match_families(family_words(text), load_families())] == expected


def test_new_fixtures_are_documented() -> None:
    readme = (Path(__file__).parent / "fixtures" / "hub" / "README.md").read_text("utf-8")
    for folder in (Path(__file__).parent / "fixtures" / "hub" / "models" / "trap-org").iterdir():
        assert f"trap-org/{folder.name}" in readme
