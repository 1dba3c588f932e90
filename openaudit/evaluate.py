"""Agreement with expert labels: score a Scorecard against a labelled corpus, beside a baseline.

A labelled corpus is a corpus-format folder (``models/<owner>/<name>/api.json`` ...) with a
``labels.json``: per model, ``licence_re`` (a regular expression one identified licence id,
lowercase, should match; no id at all reads as ``none``) and the expected ``licence_status``,
``commercial_use``, ``weights``, ``training_data`` and ``osaid``, each a status, a list of
accepted statuses, or null (not scored).

This module only measures. It reads the labels file and, next to it, the corpus's api.json
files: for the corpus note ``_siblings_incomplete`` (the weights dimension is not scored where
the file list was not fully observed; the audit itself never sees that note) and for the naive
baseline, which trusts the Hub's ``license:`` tag alone. Scoring is a pure function of
predictions and labels; nothing here is tuned to a model or a label.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openaudit.facts.weights import FORMATS as WEIGHT_FORMATS
from openaudit.kb import KnowledgeBase
from openaudit.model import Scorecard, Verdict

#: Scored dimensions, in report order. `licence_id` is the licence identity (`licence_re`).
SCORED: tuple[str, ...] = (
    "licence_id",
    "licence_status",
    "commercial_use",
    "weights",
    "training_data",
    "osaid",
    "derivatives",
)
#: Label fields holding statuses, and the verdict dimension each one is compared with.
_STATUS_FIELDS: Mapping[str, str] = {
    "licence_status": "licence",
    "commercial_use": "commercial_use",
    "weights": "weights",
    "training_data": "training_data",
    "osaid": "osaid",
    "derivatives": "derivatives",
}
_VOCABULARY: Mapping[str, frozenset[str]] = {
    "licence_status": frozenset({"open", "restricted", "closed", "unknown"}),
    "commercial_use": frozenset({"allowed", "conditional", "prohibited", "unknown"}),
    "weights": frozenset({"open", "gated", "absent", "unknown"}),
    "training_data": frozenset({"open", "partial", "closed", "unknown"}),
    "osaid": frozenset({"conformant", "not-conformant", "insufficient-information"}),
    "derivatives": frozenset({"allowed", "conditional", "prohibited", "unknown"}),
}
#: The two errors that could mislead a reviewer into using a model: (dimension, status).
DANGEROUS: tuple[tuple[str, str], ...] = (
    ("licence_status", "open"),
    ("commercial_use", "allowed"),
    ("derivatives", "allowed"),
    ("osaid", "conformant"),
)
#: Derivative-rights labels derived from a label's licence (see the file's header).
DERIVATIVE_LABELS = Path(__file__).parent / "labels" / "derivatives.yml"
#: What an empty list of identified licence ids is matched as.
NO_LICENCE = "none"
#: What a labelled model without a verdict is reported as having got.
MISSING = "missing"


class LabelError(ValueError):
    """The labels file is unreadable or malformed; the message names the file and the model."""


@dataclass(frozen=True)
class Label:
    """The expected verdicts of one model; None = not scored."""

    model: str
    licence_re: str | None
    #: Accepted statuses per label field of `_STATUS_FIELDS` (None = not scored).
    accepted: Mapping[str, tuple[str, ...] | None] = field(hash=False)
    #: The corpus says the file list was not fully observed: weights are not scored.
    siblings_incomplete: bool = False

    def expected(self, dimension: str) -> tuple[str, ...] | None:
        if dimension == "licence_id":
            return None if self.licence_re is None else (self.licence_re,)
        if dimension == "weights" and self.siblings_incomplete:
            return None
        return self.accepted.get(dimension)


@dataclass(frozen=True)
class Prediction:
    """What one tool said about one model, in the labels' vocabulary."""

    model: str
    licence_ids: tuple[str, ...]
    #: Status per label field of `_STATUS_FIELDS`.
    statuses: Mapping[str, str] = field(hash=False)
    #: One line per label field (and `licence_id`): why the tool said so.
    summaries: Mapping[str, str] = field(default_factory=dict, hash=False)

    def got(self, dimension: str) -> str:
        if dimension == "licence_id":
            return ",".join(self.licence_ids) or NO_LICENCE
        return self.statuses.get(dimension, "unknown")


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    scored: int
    agreed: int

    @property
    def percent(self) -> float | None:
        return None if self.scored == 0 else 100.0 * self.agreed / self.scored


@dataclass(frozen=True)
class Disagreement:
    model: str
    dimension: str
    #: The accepted values ("a|b"), or the regular expression for `licence_id`.
    expected: str
    got: str
    summary: str = ""


@dataclass(frozen=True)
class Score:
    """One tool's agreement with the labels."""

    dimensions: tuple[DimensionScore, ...]
    disagreements: tuple[Disagreement, ...]
    #: Disagreements where the tool said `open` or `allowed` and the label accepts neither.
    dangerous: tuple[Disagreement, ...]

    def dimension(self, name: str) -> DimensionScore:
        for d in self.dimensions:
            if d.dimension == name:
                return d
        raise KeyError(name)

    def dangerous_count(self, dimension: str) -> int:
        return sum(1 for d in self.dangerous if d.dimension == dimension)


@dataclass(frozen=True)
class Corpus:
    """A labelled corpus as the evaluator reads it."""

    root: Path
    labels: tuple[Label, ...]
    #: api.json of every model in the corpus, by id (corpus notes included: not for the audit).
    apis: Mapping[str, Mapping[str, Any]] = field(hash=False)

    @property
    def model_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.apis))


@dataclass(frozen=True)
class Evaluation:
    corpus: str
    #: Models in the corpus, models with a verdict, labelled models.
    models: int
    audited: int
    labelled: int
    #: Labelled models whose weights were not scored because of `_siblings_incomplete`.
    weights_skipped: int
    openaudit: Score
    baseline: Score
    #: Models whose repository could not be read at all.
    not_audited: tuple[str, ...] = ()
    #: Firm findings (a pass, a fail, a decided status) citing an artefact the audit did not read.
    unsupported: tuple[str, ...] = ()


# --------------------------------------------------------------------------- reading


def _accepted(value: Any, where: str, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise LabelError(f"{where}: {name} must be a status, a list of statuses or null")
    unknown = sorted(set(values) - _VOCABULARY[name])
    if unknown:
        raise LabelError(f"{where}: {name} has values outside the vocabulary: {unknown}")
    return tuple(values)


def parse_labels(
    items: Any, source: str = "labels", incomplete: Iterable[str] = ()
) -> tuple[Label, ...]:
    """Validate a decoded labels list; `incomplete` names models with `_siblings_incomplete`."""
    if not isinstance(items, list):
        raise LabelError(f"{source}: expected a list of labels")
    skip = set(incomplete)
    labels = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise LabelError(f"{source}[{i}]: each label needs an 'id'")
        where = f"{source}: {item['id']}"
        pattern = item.get("licence_re")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise LabelError(f"{where}: licence_re must be a string or null")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise LabelError(f"{where}: licence_re does not compile: {exc}") from None
        accepted = {name: _accepted(item.get(name), where, name) for name in _STATUS_FIELDS}
        if item.get("derivatives") is None:
            accepted["derivatives"] = derived_derivatives(pattern, accepted["licence_status"])
        labels.append(Label(item["id"], pattern, accepted, item["id"] in skip))
    return tuple(labels)


def _derivative_rows() -> list[tuple[str, str]]:
    import yaml

    try:
        doc = yaml.safe_load(DERIVATIVE_LABELS.read_text(encoding="utf-8"))
        return [(str(r["id"]), str(r["status"])) for r in doc["licences"]]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise LabelError(f"{DERIVATIVE_LABELS}: unreadable ({exc})") from None


def derived_derivatives(
    licence_re: str | None, licence_status: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """The derivatives status a label's licence supports, or None when it does not settle it."""
    if licence_re is None:
        return None
    statuses = {
        status
        for licence, status in _derivative_rows()
        if re.search(licence_re, licence, re.IGNORECASE)
    }
    if len(statuses) != 1:
        return None
    accepted = tuple(statuses)
    return (*accepted, "unknown") if licence_status and "unknown" in licence_status else accepted


def load_corpus(root: Path, labels_path: Path | None = None) -> Corpus:
    """Read the labels file (default ROOT/labels.json) and the corpus's model api.json files."""
    labels_path = labels_path or root / "labels.json"
    apis: dict[str, Mapping[str, Any]] = {}
    for path in sorted((root / "models").glob("*/*/api.json")):
        try:
            api = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LabelError(f"{path}: unreadable api.json: {exc}") from None
        if isinstance(api, dict) and isinstance(api.get("id"), str):
            apis[api["id"]] = api
    try:
        items = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabelError(f"{labels_path}: unreadable labels file: {exc}") from None
    incomplete = [i for i, a in apis.items() if a.get("_siblings_incomplete") is True]
    return Corpus(root, parse_labels(items, str(labels_path), incomplete), apis)


# --------------------------------------------------------------------------- predictions


def _osaid_summary(verdict: Verdict) -> str:
    for f in verdict.findings:
        if f.dimension == "osaid" and f.status == verdict.osaid:
            return f.message
    return ""


def prediction_from_verdict(verdict: Verdict) -> Prediction:
    statuses: dict[str, str] = {}
    summaries: dict[str, str] = {}
    for name, dimension in _STATUS_FIELDS.items():
        if dimension == "osaid":
            statuses[name], summaries[name] = verdict.osaid, _osaid_summary(verdict)
            continue
        d = next((x for x in verdict.dimensions if x.name == dimension), None)
        if d is None:  # a verdict from before the dimension existed (a stored audit)
            statuses[name], summaries[name] = "unknown", "not in this verdict"
            continue
        statuses[name], summaries[name] = d.status, d.summary
    summaries["licence_id"] = summaries["licence_status"]
    ids = tuple(i.lower() for i in verdict.licence_ids)
    return Prediction(verdict.id, ids, statuses, summaries)


#: Suffixes of weight files, for the baseline's look at the file list (the audit's formats).
WEIGHT_SUFFIXES: tuple[str, ...] = tuple(WEIGHT_FORMATS)
_OPEN_KINDS = frozenset({"permissive", "public-domain", "weak-copyleft", "strong-copyleft"})


def _declared_tag(api: Mapping[str, Any]) -> str | None:
    for tag in api.get("tags") or ():
        if isinstance(tag, str) and tag.startswith("license:"):
            return tag[len("license:") :]
    card = api.get("cardData") or {}
    value = card.get("license") if isinstance(card, dict) else None
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _datasets(api: Mapping[str, Any]) -> list[str]:
    names = [t[len("dataset:") :] for t in api.get("tags") or () if str(t).startswith("dataset:")]
    card = api.get("cardData") or {}
    declared = card.get("datasets") if isinstance(card, dict) else None
    if isinstance(declared, str):
        declared = [declared]
    names.extend(d for d in declared or () if isinstance(d, str))
    return names


def baseline_prediction(api: Mapping[str, Any], kb: KnowledgeBase) -> Prediction:
    """The naive reading: the Hub's licence tag alone, gating and the file list, nothing else."""
    tag = _declared_tag(api)
    entry = kb.find(tag) if tag else None
    if entry is None:
        licence, commercial = "unknown", "unknown"
    elif entry.kind == "unknown":
        licence, commercial = "unknown", entry.commercial_use
    elif entry.osi_approved or entry.kind in _OPEN_KINDS:
        licence, commercial = "open", entry.commercial_use
    else:
        licence, commercial = "restricted", entry.commercial_use
    names = [s.get("rfilename", "") for s in api.get("siblings") or () if isinstance(s, dict)]
    if api.get("gated") in ("auto", "manual", True):
        weights = "gated"
    elif any(str(n).lower().endswith(WEIGHT_SUFFIXES) for n in names):
        weights = "open"
    else:
        weights = "absent"
    datasets = _datasets(api)
    if entry is None or entry.kind == "unknown":
        derivatives = "unknown"
    else:
        derivatives = "allowed" if entry.kind in _OPEN_KINDS else "conditional"
    statuses = {
        "licence_status": licence,
        "commercial_use": commercial,
        "weights": weights,
        "training_data": "partial" if datasets else "closed",
        "osaid": "insufficient-information",
        "derivatives": derivatives,
    }
    found = f"KB {entry.id} ({entry.kind})" if entry else "not in the KB"
    summaries = {
        "licence_id": f"licence tag {tag!r}: {found}",
        "licence_status": f"licence tag {tag!r}: {found}",
        "commercial_use": f"licence tag {tag!r}: {found}",
        "weights": f"gated={api.get('gated')!r}, {len(names)} files listed",
        "training_data": f"{len(datasets)} datasets declared",
        "osaid": "not decided by the baseline",
        "derivatives": f"licence tag {tag!r}: {found}",
    }
    ids = (entry.id.lower(),) if entry else ()
    return Prediction(str(api.get("id", "")), ids, statuses, summaries)


# --------------------------------------------------------------------------- scoring


def _agrees(dimension: str, expected: tuple[str, ...], prediction: Prediction) -> bool:
    if dimension == "licence_id":
        ids = prediction.licence_ids or (NO_LICENCE,)
        return any(re.search(expected[0], i.lower(), re.IGNORECASE) for i in ids)
    return prediction.got(dimension) in expected


def score(predictions: Iterable[Prediction], labels: Sequence[Label]) -> Score:
    """Per dimension: how many labelled models were scored and agree; what disagreed.

    A labelled model without a prediction counts as scored and disagreeing (got `missing`).
    """
    by_model = {p.model: p for p in predictions}
    counts = {name: [0, 0] for name in SCORED}
    disagreements: list[Disagreement] = []
    dangerous: list[Disagreement] = []
    for label in labels:
        prediction = by_model.get(label.model)
        for name in SCORED:
            expected = label.expected(name)
            if expected is None:
                continue
            counts[name][0] += 1
            if prediction is not None and _agrees(name, expected, prediction):
                counts[name][1] += 1
                continue
            got = MISSING if prediction is None else prediction.got(name)
            summary = "" if prediction is None else prediction.summaries.get(name, "")
            miss = Disagreement(label.model, name, "|".join(expected), got, summary)
            disagreements.append(miss)
            if (name, got) in DANGEROUS:
                dangerous.append(miss)
    dims = tuple(DimensionScore(n, counts[n][0], counts[n][1]) for n in SCORED)
    return Score(dims, tuple(disagreements), tuple(dangerous))


def evaluate(scorecard: Scorecard, corpus: Corpus, kb: KnowledgeBase) -> Evaluation:
    """Score the audit and the naive baseline against the corpus labels."""
    mine = [prediction_from_verdict(v) for v in scorecard.models]
    naive = [baseline_prediction(api, kb) for api in corpus.apis.values()]
    return Evaluation(
        corpus=str(corpus.root),
        models=len(corpus.apis),
        audited=sum(1 for v in scorecard.models if v.audited),
        labelled=len(corpus.labels),
        weights_skipped=sum(
            1 for lb in corpus.labels if lb.siblings_incomplete and lb.accepted.get("weights")
        ),
        openaudit=score(mine, corpus.labels),
        baseline=score(naive, corpus.labels),
        not_audited=tuple(sorted(v.id for v in scorecard.models if not v.audited)),
        unsupported=tuple(c for v in scorecard.models for c in unsupported_claims(v)),
    )


#: Statuses that decide nothing: an undecided finding may name what it could not read.
_UNDECIDED = frozenset({None, "unknown", "insufficient-information"})


def unsupported_claims(v: Verdict) -> list[str]:
    """Firm findings that cite, as evidence, an artefact the audit could not read (target 0).

    An unread file, base, dataset or link is named in the verdict's errors; a pass, a fail
    or a decided status whose evidence points into it rests on something nobody read.
    """
    unread = {p.subject.removeprefix(f"{v.id}/") for p in v.errors}
    out = []
    for f in [*v.findings, *(f for d in v.dimensions for f in d.findings)]:
        if f.outcome == "unknown" or (f.outcome not in ("pass", "fail") and f.status in _UNDECIDED):
            continue  # undecided: naming what was not read is what it should do
        for ev in f.evidence:
            if ev.excerpt.startswith("not read"):
                continue  # the finding saying what it could not read
            where = ev.locator.split(":", 1)[0] if ev.source == "file" else ev.locator
            if where in unread:
                out.append(f"{v.id}: {f.rule} ({f.outcome}) cites {where}, which was not read")
                break
    return out


# --------------------------------------------------------------------------- rendering


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def render_text(evaluation: Evaluation) -> str:
    e = evaluation
    lines = [
        f"Agreement with expert labels: {e.corpus}",
        f"{e.models} models in the corpus, {e.audited} audited, {e.labelled} labelled; "
        f"weights not scored for {e.weights_skipped} (file list incomplete in the corpus)",
    ]
    if e.not_audited:
        lines.append(f"not audited (repository unreadable): {', '.join(e.not_audited)}")
    rows: list[tuple[str, ...]] = [("dimension", "n", "openaudit", "baseline")]
    for d in e.openaudit.dimensions:
        b = e.baseline.dimension(d.dimension)
        rows.append(
            (
                d.dimension,
                str(d.scored),
                f"{_pct(d.percent)} ({d.agreed})",
                f"{_pct(b.percent)} ({b.agreed})",
            )
        )
    lines += ["", *_table(rows), "", "Dangerous errors (target 0):"]
    rows = [("error", "openaudit", "baseline")]
    for name, status in DANGEROUS:
        rows.append(
            (
                f"{name} {status}, label does not accept it",
                str(e.openaudit.dangerous_count(name)),
                str(e.baseline.dangerous_count(name)),
            )
        )
    lines += _table(rows)
    lines += [
        "",
        f"Unsupported claims (a firm finding resting on an unread artefact, target 0): "
        f"{len(e.unsupported)}",
        *(f"  {c}" for c in e.unsupported),
    ]
    lines += ["", f"openaudit disagreements ({len(e.openaudit.disagreements)}):"]
    rows = [("model", "dimension", "expected", "got", "summary")]
    rows += [
        (d.model, d.dimension, d.expected, d.got, d.summary) for d in e.openaudit.disagreements
    ]
    lines += _table(rows)
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        out.append("  ".join(cells).rstrip())
    return out


def _score_json(s: Score) -> dict[str, Any]:
    return {
        "dimensions": {
            d.dimension: {"n": d.scored, "agree": d.agreed, "percent": d.percent}
            for d in s.dimensions
        },
        "dangerous": {name: s.dangerous_count(name) for name, _ in DANGEROUS},
        "disagreements": [
            {
                "model": d.model,
                "dimension": d.dimension,
                "expected": d.expected,
                "got": d.got,
                "summary": d.summary,
            }
            for d in s.disagreements
        ],
    }


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    e = evaluation
    return {
        "schema": "openaudit/eval/v1",
        "corpus": e.corpus,
        "models": e.models,
        "audited": e.audited,
        "labelled": e.labelled,
        "weights_skipped": e.weights_skipped,
        "not_audited": list(e.not_audited),
        "unsupported_claims": list(e.unsupported),
        "openaudit": _score_json(e.openaudit),
        "baseline": _score_json(e.baseline),
    }
