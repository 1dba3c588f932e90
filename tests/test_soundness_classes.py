"""Issue 8's classes of input, each on a fixture of its own or a fault on an existing one.

Each test asserts the cautious verdict and the evidence it names. The verdicts before this work
are in the comments ("was: ..."), as the audit gave them on main before facts recorded what
they could not be read from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openaudit.model import ModelRef, Verdict
from openaudit.pipeline import AuditOptions, audit
from tests.fakehub import FakeHub
from tests.helpers import audit_json

NO_RETRY = "1,0,0,0"


def _audit(hub: FakeHub, *ids: str) -> dict[str, Verdict]:
    options = AuditOptions(endpoint=hub.url, use_store=False, workers=1)
    return {v.id: v for v in audit([ModelRef(i) for i in ids], options).models}


def _status(v: Verdict) -> dict[str, str]:
    return {d.name: d.status for d in v.dimensions} | {"osaid": v.osaid}


# ---- class 1: unread evidence never turns into a more open verdict ------------------------------


@pytest.mark.parametrize("fault", [{"status": 502}, {"reset": True}])
def test_a_failed_card_download_never_opens_a_model_whose_base_is_unreadable(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: dict
) -> None:
    # fixture-org/orphan-finetune declares apache-2.0; its base is deleted. Was (README 5xx or
    # reset): licence open / commercial allowed, exit 0.
    monkeypatch.setenv("OPENAUDIT_RETRY", NO_RETRY)
    repo = "fixture-org/orphan-finetune"
    sha = fixture_hub._repo("model", repo).sha
    fixture_hub.fail(f"/{repo}/resolve/{sha}/README.md", times=None, **fault)
    run = audit_json(fixture_hub.url, tmp_path, repo)
    m = run.json()["models"][0]
    assert m["licence"]["status"] == "unknown" and m["commercial_use"]["status"] == "unknown"
    assert m["complete"] is False and run.code == 3
    assert any(e["subject"].endswith("README.md") for e in m["errors"])


def test_a_failed_dataset_request_never_allows_commercial_use(
    fixture_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # trap-org/apache-on-nc-data: apache-2.0, trained on a CC-BY-NC dataset. Was (the dataset's
    # metadata request failing): commercial use allowed.
    monkeypatch.setenv("OPENAUDIT_RETRY", NO_RETRY)
    fixture_hub.fail("/api/datasets/trap-org/nc-corpus", status=503, times=None)
    v = _audit(fixture_hub, "trap-org/apache-on-nc-data")["trap-org/apache-on-nc-data"]
    dim = v.dimension("commercial_use")
    assert dim.status == "unknown" and not v.complete
    assert "trap-org/nc-corpus" in dim.summary
    cited = {e.locator for f in dim.findings for e in f.evidence}
    assert "dataset:trap-org/nc-corpus" in cited


# ---- class 2: unread evidence never turns into a firm absence ----------------------------------


def test_a_gated_card_is_not_an_absent_card(fixture_scorecard) -> None:  # type: ignore[no-untyped-def]
    # fixture-org/llama-3.1-fixture-8b without a token. Was: documentation closed "(0 words)",
    # training data closed "No training data named or described", hygiene.licence-file-agrees
    # pass about the LICENSE it never read.
    v = next(m for m in fixture_scorecard.models if m.id == "fixture-org/llama-3.1-fixture-8b")
    st = _status(v)
    assert st["licence"] == "restricted"  # read from the metadata the Hub serves to anyone
    for dim in ("training_data", "code", "documentation", "commercial_use"):
        assert st[dim] == "unknown", dim
        assert "gated-no-token" in v.dimension(dim).summary
    agrees = [f for f in v.findings if f.rule == "hygiene.licence-file-agrees"]
    assert agrees and all(f.outcome != "pass" for f in agrees)
    osaid = {f.rule for f in v.findings if f.dimension == "osaid" and f.status == "not-conformant"}
    assert "osaid.data-information" not in osaid  # an absence it did not read
    assert "osaid.parameters-free" in osaid  # the restriction it did read


def test_a_yaml_typo_is_not_no_licence(fixture_scorecard) -> None:  # type: ignore[no-untyped-def]
    # fixture-org/broken-card: front matter that does not parse. Was: "No licence declared"
    # (closed / prohibited) beside a "malformed" problem line.
    v = next(m for m in fixture_scorecard.models if m.id == "fixture-org/broken-card")
    for dim in ("licence", "commercial_use"):
        d = v.dimension(dim)
        assert d.status == "unknown", d.summary
        assert "README.md (malformed)" in d.summary
    declared = [f for f in v.findings if f.rule == "hygiene.licence-declared"]
    assert declared and declared[0].outcome == "unknown"


# ---- class 5 (evidence misread) ------------------------------------------------------------------


def test_a_link_in_a_comparison_is_not_training_code(fixture_scorecard) -> None:  # type: ignore[no-untyped-def]
    # Shaped like tiiuae/falcon-7b: "outperforms ... [OtherLM](github) ..., thanks to being trained
    # on ...". Was: code open (OtherLM taken as its training code), OSAID conformant.
    v = next(m for m in fixture_scorecard.models if m.id == "sound-org/comparison-link-7b")
    assert v.dimension("code").status == "partial"
    assert v.facts is not None and v.facts.value("code.training_repositories") == []
    assert "https://github.com/other-lab/otherlm" in v.facts.value("code.repositories")
    assert v.osaid != "conformant"


@pytest.mark.parametrize(
    ("repo", "quote"),
    [
        ("sound-org/sharegpt-section-13b", "Training dataset"),
        ("sound-org/alpaca-fit-7b", "fit on the Stanford Alpaca dataset"),
    ],
)
def test_a_short_data_section_or_sentence_describes_the_data(
    fixture_scorecard,
    repo: str,
    quote: str,  # type: ignore[no-untyped-def]
) -> None:
    # Was: training data closed, "No training data named or described in the card", citing
    # the very heading that describes it.
    v = next(m for m in fixture_scorecard.models if m.id == repo)
    dim = v.dimension("training_data")
    assert dim.status == "partial", dim.summary
    assert "No training data" not in dim.summary
    excerpts = [e.excerpt for f in dim.findings for e in f.evidence]
    assert any(quote in x for x in excerpts), excerpts
    assert v.osaid != "conformant"


# ---- openaudit eval counts unsupported claims ----------------------------------------------------


def test_unsupported_claims_are_counted() -> None:
    from openaudit.evaluate import unsupported_claims
    from openaudit.model import Dimension, Evidence, Finding, Problem

    cited = Evidence("file", "README.md:3", "## Training data")
    said = Finding("openness.data-closed", "training_data", "fail", "No training data", (cited,))
    undecided = Finding(
        "openness.data-open", "training_data", "unknown", "Undecided", (cited,), status="unknown"
    )
    unread = (Problem("x/y/README.md", "server-error", "HTTP 502"),)

    def verdict(f: Finding, errors: tuple[Problem, ...]) -> Verdict:
        return Verdict(
            "x/y",
            "0" * 40,
            "hub",
            (),
            (Dimension("training_data", "closed", "", (f,)),),
            errors=errors,
        )

    assert unsupported_claims(verdict(said, unread)) == [
        "x/y: openness.data-closed (fail) cites README.md, which was not read"
    ]
    assert unsupported_claims(verdict(said, ())) == []
    assert unsupported_claims(verdict(undecided, unread)) == []


def test_eval_reports_zero_unsupported_claims_and_no_false_conformant(shared_dir: Path) -> None:
    from tests.helpers import run_cli

    corpus = shared_dir / "corpus"
    if not (corpus / "labels.json").is_file():
        pytest.skip("no labelled corpus")
    run = run_cli("eval", str(corpus), "--format", "json")
    doc = __import__("json").loads(run.stdout)
    assert doc["unsupported_claims"] == []
    assert all(n == 0 for n in doc["openaudit"]["dangerous"].values()), doc["openaudit"][
        "dangerous"
    ]


def test_a_dataset_named_in_prose_resolves_and_its_licence_is_read(fixture_scorecard) -> None:  # type: ignore[no-untyped-def]
    # "fit on the Stanford Alpaca dataset": the table of well-known datasets
    # (licenses/datasets/known.yml) resolves it to tatsu-lab/alpaca, CC-BY-NC-4.0. Was: no
    # dataset named, commercial use allowed.
    v = next(m for m in fixture_scorecard.models if m.id == "sound-org/alpaca-fit-7b")
    assert v.facts is not None
    assert "tatsu-lab/alpaca" in v.facts.value("data.named")
    assert v.facts.value("data.noncommercial") == ["tatsu-lab/alpaca: cc-by-nc-4.0"]
    dim = v.dimension("commercial_use")
    assert dim.status == "unknown" and "tatsu-lab/alpaca" in dim.summary
    quotes = [e.excerpt for f in dim.findings for e in f.evidence]
    assert any('"license: cc-by-nc-4.0"' in q for q in quotes), quotes


def test_the_dataset_table_is_valid_and_names_resolve() -> None:
    from openaudit.facts.licence import resolve_name
    from openaudit.kb import load_kb
    from openaudit.kb.datasets import datasets_named, known_datasets

    table = known_datasets()
    assert len(table) >= 5
    for d in table:
        assert resolve_name(d.licence, load_kb()), d.id  # every licence is a KB entry
        assert d.licence in d.evidence  # quoted from the dataset card
    assert [d.id for d in datasets_named("fine-tuned on the Stanford Alpaca dataset")] == [
        "tatsu-lab/alpaca"
    ]
    assert datasets_named("an alpaca is an animal") == []
