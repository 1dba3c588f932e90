"""`openaudit.evaluate` and `openaudit eval`: scoring against labels, baseline, end to end."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from openaudit.evaluate import (
    SCORED,
    Label,
    LabelError,
    Prediction,
    baseline_prediction,
    load_corpus,
    parse_labels,
    prediction_from_verdict,
    render_text,
    score,
    to_json,
)
from openaudit.hub.replay import ReplayHub
from openaudit.kb import load_kb
from openaudit.model import Dimension, Finding, Verdict
from tests.conftest import FIXTURE_HUB_DIR
from tests.helpers import run_cli

STATUS_FIELDS = (
    "licence_status",
    "commercial_use",
    "weights",
    "training_data",
    "osaid",
    "derivatives",
)


def label(model: str = "o/m", licence_re: str | None = "apache", **accepted: Any) -> Label:
    values = {f: accepted.get(f) for f in STATUS_FIELDS}
    incomplete = bool(accepted.get("siblings_incomplete", False))
    tupled = {k: ((v,) if isinstance(v, str) else v) for k, v in values.items()}
    return Label(model, licence_re, tupled, incomplete)


def pred(model: str = "o/m", ids: tuple[str, ...] = ("apache-2.0",), **statuses: str) -> Prediction:
    full = {f: "unknown" for f in STATUS_FIELDS}
    full["osaid"] = "insufficient-information"
    full.update(statuses)
    return Prediction(model, ids, full, {f: f"why {f}" for f in (*STATUS_FIELDS, "licence_id")})


def by_dim(result: Any) -> dict[str, tuple[int, int]]:
    return {d.dimension: (d.scored, d.agreed) for d in result.dimensions}


# --------------------------------------------------------------------------- scoring


def test_licence_regex_matches_any_id_case_insensitively() -> None:
    labels = [label("a/1", "llama-?3"), label("b/2", "APACHE"), label("c/3", "mit")]
    preds = [
        pred("a/1", ("other", "llama3.1")),
        pred("b/2", ("Apache-2.0",)),
        pred("c/3", ("apache-2.0",)),
    ]
    result = score(preds, labels)
    assert by_dim(result)["licence_id"] == (3, 2)
    (miss,) = result.disagreements
    assert (miss.model, miss.dimension, miss.expected, miss.got) == (
        "c/3",
        "licence_id",
        "mit",
        "apache-2.0",
    )
    assert miss.summary == "why licence_id"


def test_empty_id_list_reads_as_none() -> None:
    labels = [label("a/1", "^none$"), label("b/2", "mit")]
    result = score([pred("a/1", ()), pred("b/2", ())], labels)
    assert by_dim(result)["licence_id"] == (2, 1)
    assert result.disagreements[0].got == "none"


def test_list_of_accepted_statuses() -> None:
    labels = [
        label("a/1", commercial_use=["conditional", "prohibited"]),
        label("b/2", commercial_use=["conditional", "prohibited"]),
        label("c/3", commercial_use="conditional"),
    ]
    preds = [
        pred("a/1", commercial_use="prohibited"),
        pred("b/2", commercial_use="conditional"),
        pred("c/3", commercial_use="unknown"),
    ]
    result = score(preds, labels)
    assert by_dim(result)["commercial_use"] == (3, 2)
    (miss,) = result.disagreements
    assert (miss.model, miss.expected, miss.got) == ("c/3", "conditional", "unknown")


def test_null_is_not_scored() -> None:
    result = score([pred(training_data="open")], [label(licence_re=None, weights="open")])
    dims = by_dim(result)
    assert dims["licence_id"] == (0, 0)
    assert dims["training_data"] == (0, 0)
    assert dims["osaid"] == (0, 0)
    assert dims["weights"] == (1, 0)
    assert result.dimension("training_data").percent is None
    assert result.dimension("weights").percent == 0.0


def test_siblings_incomplete_skips_weights_only() -> None:
    labels = [label(weights="open", licence_status="open", siblings_incomplete=True)]
    result = score([pred(weights="absent", licence_status="open")], labels)
    assert by_dim(result)["weights"] == (0, 0)
    assert by_dim(result)["licence_status"] == (1, 1)
    assert not result.disagreements


def test_dangerous_errors() -> None:
    labels = [
        label("a/1", licence_status="restricted", commercial_use="conditional"),
        label("b/2", licence_status=["open", "unknown"], commercial_use=["allowed", "unknown"]),
        label("c/3", licence_status=None, commercial_use=None),
        label("d/4", licence_status="open", commercial_use="allowed"),
    ]
    preds = [
        pred("a/1", licence_status="open", commercial_use="allowed"),
        pred("b/2", licence_status="open", commercial_use="allowed"),
        pred("c/3", licence_status="open", commercial_use="allowed"),
        pred("d/4", licence_status="restricted", commercial_use="conditional"),
    ]
    result = score(preds, labels)
    assert result.dangerous_count("licence_status") == 1
    assert result.dangerous_count("commercial_use") == 1
    assert {d.model for d in result.dangerous} == {"a/1"}
    # too cautious is a disagreement, never a dangerous one
    assert {(d.model, d.dimension) for d in result.disagreements} == {
        ("a/1", "licence_status"),
        ("a/1", "commercial_use"),
        ("d/4", "licence_status"),
        ("d/4", "commercial_use"),
    }


def test_missing_prediction_is_scored_and_disagrees() -> None:
    result = score([], [label("a/1", licence_status="open")])
    assert by_dim(result)["licence_status"] == (1, 0)
    assert {d.got for d in result.disagreements} == {"missing"}
    assert not result.dangerous


def test_unlabelled_prediction_is_ignored() -> None:
    result = score(
        [pred("x/unlabelled"), pred("a/1", licence_status="open")],
        [label("a/1", licence_status="open")],
    )
    assert all(d.scored <= 1 for d in result.dimensions)
    assert not result.disagreements


def test_prediction_from_verdict() -> None:
    dims = tuple(
        Dimension(n, s, f"{n} because")
        for n, s in (
            ("licence", "restricted"),
            ("commercial_use", "conditional"),
            ("weights", "gated"),
            ("training_data", "closed"),
            ("code", "open"),
            ("documentation", "partial"),
            ("derivatives", "conditional"),
        )
    )
    finding = Finding("osaid.x", "osaid", "fail", "weights are gated", status="not-conformant")
    verdict = Verdict(
        "o/m", "abc", "hub", ("Llama3.1",), dims, osaid="not-conformant", findings=(finding,)
    )
    p = prediction_from_verdict(verdict)
    assert p.licence_ids == ("llama3.1",)
    assert [p.got(f) for f in STATUS_FIELDS] == [
        "restricted",
        "conditional",
        "gated",
        "closed",
        "not-conformant",
        "conditional",
    ]
    assert p.summaries["licence_status"] == "licence because"
    assert p.summaries["osaid"] == "weights are gated"


# --------------------------------------------------------------------------- labels


def test_parse_labels_validates() -> None:
    ok = parse_labels(
        [{"id": "o/m", "licence_re": "x", "weights": ["open", "gated"], "osaid": None}],
        incomplete=["o/m"],
    )
    assert ok[0].siblings_incomplete and ok[0].expected("weights") is None
    assert ok[0].accepted["weights"] == ("open", "gated")
    with pytest.raises(LabelError, match="weights"):
        parse_labels([{"id": "o/m", "weights": "downloadable"}])
    with pytest.raises(LabelError, match="licence_re"):
        parse_labels([{"id": "o/m", "licence_re": "("}])
    with pytest.raises(LabelError, match="id"):
        parse_labels([{"licence_re": "x"}])
    with pytest.raises(LabelError):
        parse_labels({"not": "a list"})


def _mini_corpus(root: Path) -> Path:
    """Three fixture models copied into a corpus with hand-made labels; one incomplete."""
    for repo in ("acme/tiny-apache-encoder", "acme/auto-gated-vit", "acme/nc-summarizer"):
        shutil.copytree(FIXTURE_HUB_DIR / "models" / repo, root / "models" / repo)
    api_path = root / "models" / "acme/nc-summarizer" / "api.json"
    api = json.loads(api_path.read_text("utf-8"))
    api["_siblings_incomplete"] = True
    api_path.write_text(json.dumps(api), "utf-8")
    labels = [
        {"id": "acme/tiny-apache-encoder", "licence_re": "apache", "licence_status": "open",
         "commercial_use": "allowed", "weights": "open", "training_data": None, "osaid": None},
        {"id": "acme/auto-gated-vit", "licence_re": ".", "licence_status": None,
         "commercial_use": None, "weights": "gated", "training_data": None, "osaid": None},
        {"id": "acme/nc-summarizer", "licence_re": "nc", "licence_status": "restricted",
         "commercial_use": "prohibited", "weights": "open", "training_data": None,
         "osaid": ["not-conformant", "insufficient-information"]},
    ]  # fmt: skip
    (root / "labels.json").write_text(json.dumps(labels), "utf-8")
    return root


def test_load_corpus_reads_the_incomplete_note(tmp_path: Path) -> None:
    corpus = load_corpus(_mini_corpus(tmp_path))
    assert corpus.model_ids == (
        "acme/auto-gated-vit",
        "acme/nc-summarizer",
        "acme/tiny-apache-encoder",
    )
    flags = {lb.model: lb.siblings_incomplete for lb in corpus.labels}
    assert flags == {
        "acme/tiny-apache-encoder": False,
        "acme/auto-gated-vit": False,
        "acme/nc-summarizer": True,
    }


def test_load_corpus_unreadable_labels(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text("[{", "utf-8")
    with pytest.raises(LabelError, match=r"labels\.json"):
        load_corpus(tmp_path)


# --------------------------------------------------------------------------- baseline


def test_baseline_trusts_the_tag_alone() -> None:
    kb = load_kb()
    api = {
        "id": "o/m",
        "gated": False,
        "tags": [
            "license:apache-2.0",
            "dataset:o/data",
            "base_model:finetune:meta-llama/Llama-2-7b",
        ],
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
    }
    p = baseline_prediction(api, kb)
    assert p.licence_ids == ("apache-2.0",)
    assert [p.got(f) for f in STATUS_FIELDS] == [
        "open",
        "allowed",
        "open",
        "partial",
        "insufficient-information",
        "allowed",
    ]


def test_baseline_other_shapes() -> None:
    kb = load_kb()
    gated = baseline_prediction(
        {"id": "o/g", "gated": "manual", "cardData": {"license": "llama3"}, "siblings": []}, kb
    )
    assert gated.got("licence_status") == "restricted"
    llama3 = kb.find("llama3")
    assert llama3 is not None
    assert gated.got("commercial_use") == llama3.commercial_use
    assert gated.got("weights") == "gated"
    assert gated.got("training_data") == "closed"
    none = baseline_prediction({"id": "o/n", "siblings": [{"rfilename": "README.md"}]}, kb)
    assert none.licence_ids == ()
    assert none.got("licence_id") == "none"
    assert [none.got(f) for f in ("licence_status", "commercial_use", "weights")] == [
        "unknown",
        "unknown",
        "absent",
    ]
    other = baseline_prediction({"id": "o/o", "tags": ["license:other"]}, kb)
    assert other.got("licence_status") == "unknown"


# --------------------------------------------------------------------------- replay server


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def test_replay_hub_gated_open() -> None:
    path = "/acme/auto-gated-vit/resolve/main/README.md"
    with ReplayHub(FIXTURE_HUB_DIR) as hub:
        assert _status(hub.url + path) == 401
    with ReplayHub(FIXTURE_HUB_DIR, gated_open=True) as hub:
        assert _status(hub.url + path) == 200
        assert _status(hub.url + "/api/models/acme/auto-gated-vit") == 200


# --------------------------------------------------------------------------- end to end


def _check_structure(doc: dict[str, Any], models: int) -> None:
    assert doc["schema"] == "openaudit/eval/v1"
    assert doc["models"] == models and doc["audited"] == models
    for tool in ("openaudit", "baseline"):
        assert list(doc[tool]["dimensions"]) == list(SCORED)
        assert set(doc[tool]["dangerous"]) == {
            "licence_status",
            "commercial_use",
            "derivatives",
            "osaid",
        }
    for name in SCORED:
        mine, naive = doc["openaudit"]["dimensions"][name], doc["baseline"]["dimensions"][name]
        assert mine["n"] == naive["n"]
        assert 0 <= naive["agree"] <= naive["n"]
        assert (naive["percent"] is None) == (naive["n"] == 0)


def test_eval_cli_on_a_small_corpus(tmp_path: Path) -> None:
    corpus = _mini_corpus(tmp_path / "corpus")
    run = run_cli("eval", str(corpus), "--format", "json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    _check_structure(doc, 3)
    assert doc["labelled"] == 3 and doc["weights_skipped"] == 1
    dims = doc["openaudit"]["dimensions"]
    assert (dims["licence_id"]["n"], dims["weights"]["n"], dims["osaid"]["n"]) == (3, 2, 1)
    assert dims["training_data"]["n"] == 0
    text = run_cli("eval", str(corpus))
    assert text.code == 0
    for name in SCORED:
        assert name in text.stdout
    assert "Dangerous errors" in text.stdout


def test_eval_cli_bad_labels(tmp_path: Path) -> None:
    corpus = _mini_corpus(tmp_path / "corpus")
    (corpus / "labels.json").write_text('[{"id": "acme/x", "weights": "maybe"}]', "utf-8")
    run = run_cli("eval", str(corpus))
    assert run.code == 2
    assert "maybe" in run.stderr


def test_eval_cli_on_the_shared_corpus(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus"
    if not (corpus / "labels.json").is_file():
        pytest.skip(f"labelled corpus not present: {corpus}")
    models = len(list((corpus / "models").glob("*/*/api.json")))
    labelled = len(json.loads((corpus / "labels.json").read_text("utf-8")))
    run = run_cli("eval", str(corpus), "--format", "json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    _check_structure(doc, models)
    assert models == 44
    assert doc["labelled"] == labelled
    assert doc["openaudit"]["dimensions"]["licence_id"]["n"] == labelled
    text = run_cli("eval", str(corpus))
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert f"{models} models in the corpus, {models} audited" in lines[1]
    header = next(i for i, line in enumerate(lines) if line.startswith("dimension"))
    assert [line.split()[0] for line in lines[header + 1 : header + 1 + len(SCORED)]] == list(
        SCORED
    )
    assert "baseline" in lines[header]


def test_render_text_lists_disagreements() -> None:
    from openaudit.evaluate import Evaluation

    result = score(
        [pred("a/1", licence_status="open")], [label("a/1", licence_status="restricted")]
    )
    evaluation = Evaluation("c", 1, 1, 1, 0, result, result)
    text = render_text(evaluation)
    assert "a/1" in text and "licence_status" in text
    assert to_json(evaluation)["openaudit"]["dangerous"]["licence_status"] == 1
