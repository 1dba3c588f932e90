"""Derivative rights (issue 13): may the model be modified and shared, may its outputs train
other models, and does a derivative honour the duties its bases impose on it.

The fixtures under `tests/fixtures/hub/models/deriv-org` are served by the fake Hub to the real
huggingface_hub client; each case asserts the status, the duties named and the evidence cited
(the licence's own words and what the derivative shows).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from openaudit.kb import load_kb
from openaudit.kb.loader import vocabulary
from openaudit.model import DIMENSIONS, STATUSES, Finding, ModelRef, Scorecard, Verdict
from openaudit.pipeline import AuditOptions, audit
from openaudit.resources import data_dir, schema_path
from openaudit.rules.loader import load_rules
from tests.fakehub import ACCEPTED_TOKEN, FakeHub
from tests.helpers import audit_json, by_id, validate_report

#: Models whose chain of bases ends at the gated fixture-org/llama-3.1-fixture-8b: without a
#: token its licence files are unread and their terms undecided, so these are read with one.
GATED_CHAIN = ("acme/llama-3.1-acme-chat", "deriv-org/acme-chat-ft")


@pytest.fixture(scope="module")
def with_token(_fixture_hub_server: FakeHub, tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    """The models of GATED_CHAIN audited by a reader who accepted the base's terms."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_TOKEN", ACCEPTED_TOKEN)
    try:
        options = AuditOptions(
            endpoint=_fixture_hub_server.url, cache_dir=tmp_path_factory.mktemp("token")
        )
        return audit([ModelRef(i) for i in GATED_CHAIN], options)
    finally:
        mp.undo()


ORDER = load_rules().dimensions["derivatives"].precedence


def _verdict(scorecard: Scorecard, repo_id: str) -> Verdict:
    return next(v for v in scorecard.models if v.id == repo_id)


def _finding(v: Verdict, rule: str) -> Finding:
    found = [f for f in v.dimension("derivatives").findings if f.rule == rule]
    assert found, (
        f"{v.id}: no {rule} finding in {[f.rule for f in v.dimension('derivatives').findings]}"
    )
    return found[0]


def _rules(v: Verdict, outcome: str) -> set[str]:
    return {f.rule for f in v.dimension("derivatives").findings if f.outcome == outcome}


# ---- the dimension, per licence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("repo_id", "status", "duty_words"),
    [
        (
            "acme/tiny-apache-encoder",
            "allowed",
            ["ship a copy of the licence with it [apache-2.0]"],
        ),
        ("deriv-org/cc-by-nd-encoder", "prohibited", []),
        (
            "deriv-org/cc-by-sa-encoder",
            "conditional",
            ["publish it under the same licence [cc-by-sa-4.0]"],
        ),
        (
            "acme/rail-diffusion-mini",
            "conditional",
            ["write the use restrictions into its own licence [creativeml-openrail-m]"],
        ),
        (
            "acme/llama-3.1-acme-chat",
            "conditional",
            [
                'begin the model\'s name with "Llama" [llama3.1]',
                'display "Built with Llama" on a related page [llama3.1]',
                "ask for a separate licence above 700,000,000 monthly active users [llama3.1]",
            ],
        ),
        ("acme/nc-summarizer", "conditional", ["keep it non-commercial [cc-by-nc-4.0]"]),
        ("acme/unlicensed-classifier", "prohibited", []),
    ],
)
def test_status_and_duties(
    fixture_scorecard: Scorecard,
    with_token: Scorecard,
    repo_id: str,
    status: str,
    duty_words: list[str],
) -> None:
    v = _verdict(with_token if repo_id in GATED_CHAIN else fixture_scorecard, repo_id)
    dim = v.dimension("derivatives")
    assert dim.status == status, dim.summary
    duties = v.facts.value("derivatives.duties", []) if v.facts else []
    for words in duty_words:
        assert words in duties
        if status == "conditional":
            assert words in dim.summary


def test_no_derivatives_cites_the_clause(fixture_scorecard: Scorecard) -> None:
    f = _finding(
        _verdict(fixture_scorecard, "deriv-org/cc-by-nd-encoder"), "derivatives.prohibited"
    )
    quotes = [e.excerpt for e in f.evidence if e.source == "knowledge-base"]
    assert "produce and reproduce, but not Share, Adapted Material" in quotes
    assert any(e.locator.startswith("README.md:") for e in f.evidence)  # the declaration read


def test_permissive_names_only_ordinary_duties(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "acme/tiny-apache-encoder")
    rows = v.facts.value("derivatives.terms") if v.facts else None
    assert rows and all(not r["duties"] and not r["carries"] and not r["prohibits"] for r in rows)
    assert _rules(v, "fail") == set()


# ---- a derivative's duties to its bases --------------------------------------------------------


def test_llama_finetune_without_prefix_or_licence_copy(with_token: Scorecard) -> None:
    v = _verdict(with_token, "deriv-org/acme-chat-ft")
    assert v.dimension("derivatives").status == "conditional"
    assert {"derivatives.name-prefix", "derivatives.licence-copy"} <= _rules(v, "fail")
    prefix = _finding(v, "derivatives.name-prefix")
    assert "'acme-chat-ft' does not begin with 'Llama'" in prefix.message
    excerpts = [e.excerpt for e in prefix.evidence]
    assert "you shall also include “Llama” at the beginning of any such AI model name" in excerpts
    assert "model name: acme-chat-ft" in excerpts
    copy = _finding(v, "derivatives.licence-copy")
    assert "no licence file" in copy.message
    assert "provide a copy of this Agreement with any such Llama Materials" in [
        e.excerpt for e in copy.evidence
    ]
    # The absence is claimed of the file list that was read, and cites it.
    assert any(e.locator == "siblings" and e.excerpt == "no licence file" for e in copy.evidence)


def test_llama_finetune_that_meets_its_duties(with_token: Scorecard) -> None:
    v = _verdict(with_token, "acme/llama-3.1-acme-chat")
    assert not {"derivatives.name-prefix", "derivatives.licence-copy"} & _rules(v, "fail")


def test_rail_derivative_must_pass_restrictions_on(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "deriv-org/rail-finetune-apache")
    f = _finding(v, "derivatives.restrictions-passed-on")
    assert f.outcome == "fail" and f.severity == "high"
    assert "declares apache-2.0" in f.message
    excerpts = [e.excerpt for e in f.evidence]
    assert any(
        x.startswith("Use-based restrictions as referenced in paragraph 5 MUST") for x in excerpts
    )
    assert "license: apache-2.0" in excerpts
    copy = _finding(v, "derivatives.licence-copy")
    assert "the licence file is apache-2.0, not a copy of creativeml-openrail-m" in copy.message


def test_share_alike_base_under_another_licence(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "deriv-org/mit-finetune-of-sa")
    f = _finding(v, "derivatives.share-alike")
    assert f.outcome == "fail"
    assert "declares mit; cc-by-sa-4.0 requires its own licence" in f.message
    assert any("same License Elements" in e.excerpt for e in f.evidence)
    # The licence itself stays open: share-alike is a duty, not a use restriction.
    assert v.dimension("licence").status == "open"
    assert v.dimension("derivatives").status == "conditional"


# ---- output use -------------------------------------------------------------------------------


def test_gemma_output_use_finding(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "deriv-org/gemma-tiny-it")
    f = _finding(v, "derivatives.output-training")
    assert "gemma: a model trained on its outputs is bound by its terms" in f.message
    assert any("distillation methods" in e.excerpt for e in f.evidence)
    commercial = [
        x
        for x in v.dimension("commercial_use").findings
        if x.rule == "derivatives.output-training-commercial"
    ]
    assert commercial and commercial[0].status is None  # surfaced, never a status of its own
    assert v.facts and v.facts.value("derivatives.output_use") == [
        {"licence": "gemma", "use": "bound"}
    ]


def test_llama2_outputs_may_not_improve_other_models(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "trap-org/llama-2-base-7b")
    assert v.facts and {"licence": "llama2", "use": "prohibited"} in v.facts.value(
        "derivatives.output_use", []
    )
    assert (
        "outputs may not be used to improve other models"
        in _finding(v, "derivatives.output-training").message
    )


# ---- soundness: what was not read ---------------------------------------------------------------


def _audit_one(hub: FakeHub, tmp_path: Path, repo_id: str) -> Verdict:
    options = AuditOptions(
        endpoint=hub.url, cache_dir=tmp_path, link_hosts=frozenset({"127.0.0.1"})
    )
    return audit([ModelRef(repo_id)], options).models[0]


def test_unreadable_licence_file_gives_unknown(fixture_hub: FakeHub, tmp_path: Path) -> None:
    repo_id = "deriv-org/linked-licence-model"
    assert (
        _audit_one(fixture_hub, tmp_path / "a", repo_id).dimension("derivatives").status
        == "allowed"
    )
    fixture_hub.reset()
    fixture_hub.fail(f"/{repo_id}/resolve/", status=403, times=None)
    v = _audit_one(fixture_hub, tmp_path / "b", repo_id)
    dim = v.dimension("derivatives")
    assert dim.status == "unknown", dim.summary
    # The rule that would allow them did not pass: it names the files it could not read.
    allowed = [f for f in dim.findings if f.rule == "derivatives.allowed"]
    assert all(f.outcome == "unknown" and "LICENSE" in f.message for f in allowed)


def test_undecided_licence_caps_derivatives(fixture_scorecard: Scorecard) -> None:
    """A licence file with added text keeps the licence unknown: derivatives may not be `allowed`."""
    v = _verdict(fixture_scorecard, "cover-org/mit-with-extra-terms")
    assert v.dimension("licence").status == "unknown"
    dim = v.dimension("derivatives")
    assert dim.status == "unknown"
    assert dim.summary.startswith("Licence is unknown")
    # The terms read still said allowed: the cap, not the rules, decided.
    assert "derivatives.allowed" in {f.rule for f in dim.findings}


def test_unreadable_base_gives_unknown(fixture_scorecard: Scorecard) -> None:
    v = _verdict(fixture_scorecard, "fixture-org/orphan-finetune")
    dim = v.dimension("derivatives")
    assert dim.status == "unknown"
    assert "acme/retired-base-7b" in dim.summary


def test_caution_order_over_every_fixture(fixture_scorecard: Scorecard) -> None:
    """Never more open than the licence allows: an unknown licence is never allowed/conditional,
    and a licence that is not open never gives `allowed`."""
    for v in fixture_scorecard.models:
        if not v.audited:
            continue
        licence = v.dimension("licence").status
        derivatives = v.dimension("derivatives").status
        if licence == "unknown":
            assert ORDER.index(derivatives) <= ORDER.index("unknown"), v.id
        if derivatives == "allowed":
            assert licence == "open", v.id


def test_json_carries_the_dimension(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", ACCEPTED_TOKEN)  # the Llama base at the chain's root is gated
    run = audit_json(fixture_hub.url, tmp_path, "deriv-org/acme-chat-ft", "deriv-org/gemma-tiny-it")
    doc = run.json()
    validate_report(doc)
    models = by_id(doc)
    ft = models["deriv-org/acme-chat-ft"]["derivatives"]
    assert ft["status"] == "conditional"
    assert 'begin the model\'s name with "Llama" [llama3.1]' in ft["duties"]
    assert {f["rule"] for f in ft["findings"]} >= {
        "derivatives.name-prefix",
        "derivatives.licence-copy",
    }
    assert models["deriv-org/gemma-tiny-it"]["derivatives"]["output_use"] == [
        {"licence": "gemma", "use": "bound"}
    ]


# ---- the terms are data ---------------------------------------------------------------------------


def test_vocabulary_covers_every_term() -> None:
    import json

    schema = json.loads(schema_path("license.schema.json").read_text(encoding="utf-8"))
    conditions = schema["$defs"]["condition"]["properties"]["name"]["enum"]
    restrictions = schema["$defs"]["restriction"]["properties"]["name"]["enum"]
    assert set(vocabulary("conditions")) == set(conditions)
    assert set(vocabulary("restrictions")) == set(restrictions)
    for name, spec in vocabulary("conditions").items():
        assert spec["derivative"] in ("ordinary", "duty", "none"), name
        assert spec["duty"], name
    for name, spec in vocabulary("restrictions").items():
        assert spec["derivatives"] in ("prohibits", "carries", "none"), name
        assert spec["output_use"] in ("prohibited", "bound", None), name
        if spec["derivatives"] == "carries":
            assert spec["duty"], name


def _normalise(text: str) -> str:
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def test_term_quotes_are_verbatim_in_the_reference_texts() -> None:
    """A quote tagged with a term is the licence's (or its use policy's) own words wherever the
    reference text exists."""
    texts = data_dir("licenses") / "texts"
    checked = 0
    for entry in load_kb():
        ref = texts / f"{entry.id}.txt"
        if not ref.is_file():
            continue
        # The licence's own words, or those of the use policy it incorporates (texts/aup/<id>-*.txt).
        policies = sorted((texts / "aup").glob(f"{entry.id}-*.txt"))
        body = " \n ".join(_normalise(t.read_text(encoding="utf-8")) for t in (ref, *policies))
        for term, ev in entry.term_evidence:
            assert entry.rule(term) is not None, (entry.id, term)
            assert _normalise(ev.excerpt) in body, (entry.id, term, ev.excerpt)
            checked += 1
    assert checked >= 20


def test_a_term_quote_must_name_a_term_of_its_entry(tmp_path: Path) -> None:
    from openaudit.kb.loader import KnowledgeBaseError

    doc = yaml.safe_load((data_dir("licenses") / "mit.yml").read_text(encoding="utf-8"))
    doc.update(id="mit-copy", spdx="LicenseRef-test-mit-copy", name="Test mit copy", aliases=[])
    doc["evidence"][0]["terms"] = ["no-derivatives"]
    (tmp_path / "mit-copy.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(
        KnowledgeBaseError, match=r"mit-copy.yml: evidence.0.terms: 'no-derivatives'"
    ):
        load_kb((tmp_path,))


def test_dimension_is_declared_everywhere() -> None:
    assert "derivatives" in DIMENSIONS
    assert set(STATUSES["derivatives"]) == set(ORDER)
    assert ORDER.index("unknown") < ORDER.index("conditional") < ORDER.index("allowed")


def test_unidentified_licence_file_leaves_the_copy_duty_unchecked(
    fixture_scorecard: Scorecard,
) -> None:
    v = _verdict(fixture_scorecard, "deriv-org/Llama-3.1-notes-ft")
    f = _finding(v, "derivatives.duties-unchecked")
    assert f.outcome == "unknown" and f.status is None
    assert "LICENSE not read or not identified" in f.message
    assert "derivatives.licence-copy" not in _rules(v, "fail")  # never a firm absence
    assert "derivatives.name-prefix" not in _rules(v, "fail")  # "Llama-3.1-..." begins with Llama


def test_derived_derivative_labels() -> None:
    from openaudit.evaluate import derived_derivatives

    assert derived_derivatives("apache-?2", ("open",)) == ("allowed",)
    assert derived_derivatives("apache-?2", ("open", "unknown")) == ("allowed", "unknown")
    assert derived_derivatives("cc-by-sa-4|llama-?2", ("restricted",)) == ("conditional",)
    # Two licences whose clauses disagree settle nothing: not scored.
    assert derived_derivatives("apache-?2|llama", ("restricted",)) is None
    assert derived_derivatives("no-such-licence", ("open",)) is None
    assert derived_derivatives(None, None) is None


def test_restrictive_statement_outside_the_terms_caps_derivatives(
    fixture_scorecard: Scorecard,
) -> None:
    """`commercial: false` beside a permissive licence: the licence is restricted, so derivatives
    may not be called `allowed` even though the terms read alone would allow them."""
    v = _verdict(fixture_scorecard, "decl-org/commercial-false")
    assert v.dimension("licence").status == "restricted"
    dim = v.dimension("derivatives")
    assert dim.status == "conditional"
    assert dim.summary.startswith("Licence is restricted")


def test_undecided_commercial_use_caps_derivatives(fixture_scorecard: Scorecard) -> None:
    """An Apache-2.0 model trained on a non-commercial dataset: commercial use is undecided, so
    whether a derivative may be shared freely is too (never `allowed`)."""
    v = _verdict(fixture_scorecard, "trap-org/apache-on-nc-data")
    assert v.dimension("licence").status == "open"
    assert v.dimension("commercial_use").status == "unknown"
    dim = v.dimension("derivatives")
    assert dim.status == "unknown"
    assert dim.summary.startswith("Commercial use is unknown")
