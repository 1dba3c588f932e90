"""Openness dimensions (training data, code, documentation), OSAID, and the hygiene/security rules
added with them, judged end to end through the fake Hub. One fixture per outcome of each rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openaudit.model import ModelRef, Scorecard
from openaudit.pipeline import AuditOptions, audit
from openaudit.report.json_format import render
from tests.fakehub import FakeHub


@pytest.fixture(scope="module")
def scorecard(fixture_scorecard: Scorecard) -> Scorecard:
    return fixture_scorecard


@pytest.fixture(scope="module")
def doc(scorecard: Scorecard) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in json.loads(render(scorecard))["models"]}


def _status(doc: dict[str, dict[str, Any]], model: str, dimension: str) -> tuple[str, list[str]]:
    d = doc[model][dimension]
    return d["status"], [f["rule"] for f in d["findings"]]


@pytest.mark.parametrize(
    ("model", "status", "rule"),
    [
        ("trap-org/apache-base-7b", "open", "openness.data-open"),
        ("trap-org/apache-on-nc-data", "partial", "openness.data-partial"),  # NC dataset
        ("trap-org/prose-data-only", "partial", "openness.data-partial"),  # prose only
        ("trap-org/mit-lora-on-llama-2", "closed", "openness.data-closed"),
        ("trap-org/undocumented", "closed", "openness.data-closed"),
    ],
)
def test_training_data(doc: dict[str, dict[str, Any]], model: str, status: str, rule: str) -> None:
    got, rules = _status(doc, model, "training_data")
    assert got == status and rule in rules


def test_a_derivative_naming_open_data_is_at_most_partial(doc: dict[str, dict[str, Any]]) -> None:
    # Its base's training data is not on its card: the orphan adapter names none and says
    # "trained on our own data", so it is described, not available.
    assert _status(doc, "trap-org/orphan-adapter", "training_data")[0] == "partial"


@pytest.mark.parametrize(
    ("model", "status", "rule"),
    [
        ("trap-org/apache-base-7b", "open", "openness.code-open"),
        ("trap-org/prose-data-only", "partial", "openness.code-partial"),  # library only
        ("trap-org/remote-code-model", "partial", "openness.code-partial"),  # modelling files
        ("trap-org/undocumented", "closed", "openness.code-closed"),
    ],
)
def test_code(doc: dict[str, dict[str, Any]], model: str, status: str, rule: str) -> None:
    got, rules = _status(doc, model, "code")
    assert got == status and rule in rules


@pytest.mark.parametrize(
    ("model", "status", "rule"),
    [
        ("trap-org/apache-base-7b", "open", "openness.docs-open"),
        ("trap-org/prose-data-only", "partial", "openness.docs-partial"),
        ("trap-org/undocumented", "closed", "openness.docs-closed"),
    ],
)
def test_documentation(doc: dict[str, dict[str, Any]], model: str, status: str, rule: str) -> None:
    got, rules = _status(doc, model, "documentation")
    assert got == status and rule in rules


def test_evidence_is_cited(doc: dict[str, dict[str, Any]]) -> None:
    for dim in ("training_data", "code", "documentation"):
        f = doc["trap-org/apache-base-7b"][dim]["findings"][0]
        assert f["evidence"] and all(e["url"] for e in f["evidence"])


def _osaid_rules(m: dict[str, Any]) -> dict[str, str]:
    return {f["rule"]: f["outcome"] for f in m["findings"] if f["rule"].startswith("osaid.")}


def test_osaid_conformant_only_when_every_signal_holds(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/apache-base-7b"]
    assert m["osaid"] == "conformant"
    assert _osaid_rules(m)["osaid.conformant-signals"] == "pass"


def test_osaid_not_conformant_without_data_information(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/undocumented"]
    assert m["osaid"] == "not-conformant"
    assert _osaid_rules(m)["osaid.data-information"] == "fail"


def test_osaid_not_conformant_through_a_restricted_base(doc: dict[str, dict[str, Any]]) -> None:
    m = doc["trap-org/mit-lora-on-llama-2"]
    assert m["osaid"] == "not-conformant"
    assert _osaid_rules(m)["osaid.effective-licence-free"] == "fail"


def test_osaid_insufficient_when_undecidable(doc: dict[str, dict[str, Any]]) -> None:
    # Open licence, data described but not available, no training code: not provably either way.
    assert doc["trap-org/prose-data-only"]["osaid"] == "insufficient-information"
    # A derivative with no identifiable base: its terms are unknown.
    m = doc["trap-org/orphan-adapter"]
    assert m["osaid"] == "insufficient-information"
    assert _osaid_rules(m)["osaid.lineage-undecided"] == "unknown"


def test_security_rules(doc: dict[str, dict[str, Any]]) -> None:
    bad = {f["rule"]: f for f in doc["trap-org/remote-code-model"]["findings"]}
    assert bad["security.trust-remote-code"]["outcome"] == "fail"
    assert "modeling_trapnet.py" in bad["security.trust-remote-code"]["message"]
    assert bad["security.hub-scan-clean"]["outcome"] == "fail"
    assert "pytorch_model.bin" in bad["security.hub-scan-clean"]["message"]
    good = {f["rule"]: f for f in doc["trap-org/apache-base-7b"]["findings"]}
    assert good["security.trust-remote-code"]["outcome"] == "pass"
    assert "security.hub-scan-clean" not in good  # no scan data: nothing claimed


def test_memory_estimate(scorecard: Scorecard) -> None:
    facts = next(v for v in scorecard.models if v.id == "trap-org/apache-base-7b").facts
    assert facts is not None
    assert facts.value("docs.parameter_count") == 7_000_000_000
    assert facts.value("docs.memory_estimate_gb") == {"bits_16": 14.0, "bits_8": 7.0, "bits_4": 3.5}
    assert facts.value("docs.papers") == ["2405.00001"]


def test_corpus_agreement(corpus_hub: FakeHub, tmp_path: Any) -> None:
    """The new dimensions against the expert labels: never a wrong open/allowed, few misses."""
    from tests.conftest import SHARED_DIR

    labels = json.loads((SHARED_DIR / "corpus" / "labels.json").read_text("utf-8"))
    # Served as `openaudit eval` serves it: a reviewer with access reads the gated files too
    # (without it, their terms are rightly undecided).
    corpus_hub.gated_open = True
    try:
        card = audit(
            [ModelRef(x["id"]) for x in labels],
            AuditOptions(endpoint=corpus_hub.url, cache_dir=tmp_path),
        )
    finally:
        corpus_hub.gated_open = False
    misses, wrong_open = [], []
    for label, v in zip(labels, card.models, strict=True):
        got = {d.name: d.status for d in v.dimensions} | {"osaid": v.osaid}
        for key, dim in (
            ("licence_status", "licence"),
            ("commercial_use", "commercial_use"),
            ("training_data", "training_data"),
            ("osaid", "osaid"),
        ):
            want = label.get(key)
            if want is None:
                continue
            want = want if isinstance(want, list) else [want]
            if got[dim] not in want:
                misses.append(f"{label['id']} {dim}: {got[dim]} not in {want}")
                if got[dim] in ("open", "allowed", "conformant"):
                    wrong_open.append(misses[-1])
    assert not wrong_open
    assert len(misses) <= 8, misses
