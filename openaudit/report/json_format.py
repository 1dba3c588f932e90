"""JSON output, schema `openaudit/audit/v1` (openaudit/schemas/audit-v1.schema.json).

The document must be identical for the same evidence whether it was read from
the Hub or from the evidence store, so it carries no fetch times and names the
store's snapshots by the Hub they came from.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from openaudit.model import (
    DIMENSIONS,
    Dimension,
    Evidence,
    Fact,
    Facts,
    Finding,
    Problem,
    Scorecard,
    Verdict,
)

SCHEMA = "openaudit/audit/v1"


def evidence(ev: Evidence) -> dict[str, Any]:
    return {"source": ev.source, "locator": ev.locator, "excerpt": ev.excerpt, "url": ev.url}


def finding(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "outcome": f.outcome,
        "severity": f.severity,
        "message": f.message,
        "evidence": [evidence(e) for e in f.evidence],
    }
    if f.remediation:
        out["remediation"] = f.remediation
    if f.status is not None:
        out["status"] = f.status
    return out


def problem(p: Problem) -> dict[str, Any]:
    return {"subject": p.subject, "reason": p.reason, "detail": p.detail}


#: What a reviewer weighs beside the verdicts, by fact name; always present, null when unknown.
DETAILS: dict[str, str] = {
    "gated": "repo.gated",
    "weight_formats": "weights.formats",
    "parameters": "docs.parameter_count",
    "memory_gb": "docs.memory_estimate_gb",
    "relation": "lineage.relation",
    "base_models": "lineage.base_ids",
    "datasets": "data.named",
    "papers": "docs.papers",
    "code_repositories": "code.repositories",
    "trust_remote_code": "code.trust_remote_code",
    "card_sections": "docs.sections_present",
    "last_modified": "viability.last_modified",
    "downloads": "viability.downloads",
    "likes": "viability.likes",
    "derivatives": "viability.children",
    "new_version": "viability.new_version",
}


#: Facts the published scorecards need, beside DETAILS; optional in the schema (older reports).
EXTRA_DETAILS: dict[str, str] = {
    "pickle_files": "weights.pickle_files",
    "security_scanned": "viability.security_scanned",
    "security_issues": "viability.security_issues",
    "reupload_of": "viability.reupload_of",
    "mof_progress": "mof.progress",
}


def _base_licences(facts: Facts) -> Any:
    bases = [b for b in facts.value("lineage.bases") or () if isinstance(b, dict)]
    return [
        {
            "id": str(b.get("id", "")),
            "licence_ids": list(b.get("licence_ids") or ()),
            "readable": bool(b.get("readable")),
        }
        for b in bases
    ] or None


def _dataset_licences(facts: Facts) -> Any:
    rows = [d for d in facts.value("data.datasets") or () if isinstance(d, dict)]
    return [
        {
            "id": str(d.get("id", "")),
            "licence_ids": list(d.get("licence_ids") or ()),
            "status": str(d.get("status", "")),
        }
        for d in rows
    ] or None


def _osai_index(facts: Facts) -> Any:
    # Judged with the verdict (`rules.osai_index.with_index`); a report only reads it.
    return facts.value("osai_index.classes")


#: Summaries computed from several facts; a report read back keeps them as `details.<key>` facts.
DERIVED_DETAILS: dict[str, Callable[[Facts], Any]] = {
    "base_licences": _base_licences,
    "dataset_licences": _dataset_licences,
    "osai_index": _osai_index,
}


#: What a bill of materials needs beyond the reviewer's details (`report.bom`), by fact name and
#: the keys kept of each listed item; written when known, so a stored audit re-renders as a BOM.
BOM_DETAILS: dict[str, tuple[str, tuple[str, ...]]] = {
    "commit": ("repo.commit", ()),
    "url": ("repo.url", ()),
    "created": ("viability.created", ()),
    "pipeline_tag": ("repo.pipeline_tag", ()),
    "model_type": ("repo.model_type", ()),
    "architectures": ("repo.architectures", ()),
    "declared_licences": ("licence.declared", ("field", "value")),
    "effective_licence_ids": ("licence.effective_ids", ()),
    "licence_files": ("licence.files", ("path", "id", "kind", "method")),
    "licence_conflicts": ("licence.conflicts", ()),
    "training_summary": ("docs.training_summary", ()),
    "ancestors": (
        "lineage.ancestors",
        (
            "id",
            "relation",
            "parent",
            "depth",
            "readable",
            "problem",
            "licence_ids",
            "declared_licences",
            "licence_known",
            "commit",
            "url",
            "last_modified",
        ),
    ),
    "training_datasets": (
        "data.datasets",
        (
            "id",
            "status",
            "available",
            "detail",
            "licence_ids",
            "declared_licences",
            "licence_known",
            "commit",
            "url",
            "last_modified",
        ),
    ),
}


def _project(value: Any, keys: tuple[str, ...]) -> Any:
    if not keys or not isinstance(value, list):
        return value
    return [{k: item.get(k) for k in keys} if isinstance(item, dict) else item for item in value]


def details(v: Verdict) -> dict[str, Any]:
    facts = v.facts
    out = {key: facts.value(name) if facts is not None else None for key, name in DETAILS.items()}
    for key, name in EXTRA_DETAILS.items():
        out[key] = facts.value(name) if facts is not None else None
    for key, derive in DERIVED_DETAILS.items():
        stored = facts.get(f"details.{key}") if facts is not None else None
        if stored is not None:
            out[key] = stored.value
        else:
            out[key] = derive(facts) if facts is not None and v.audited else None
    if facts is not None:
        for key, (name, keys) in BOM_DETAILS.items():
            value = facts.value(name)
            if value is not None:
                out[key] = _project(value, keys)
    return out


def model(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "revision": v.revision,
        "source": v.source,
        "complete": v.complete,
    }
    for dim in v.dimensions:
        entry: dict[str, Any] = {
            "status": dim.status,
            "summary": dim.summary,
            "findings": [finding(f) for f in dim.findings],
        }
        if dim.name == "licence":
            entry = {"ids": list(v.licence_ids), **entry}
        elif dim.name == "derivatives":
            facts = v.facts
            entry["duties"] = list(facts.value("derivatives.duties", [])) if facts else []
            entry["output_use"] = list(facts.value("derivatives.output_use", [])) if facts else []
        out[dim.name] = entry
    out["audited"] = v.audited
    out["osaid"] = v.osaid
    out["mof_class"] = v.mof_class
    out["details"] = details(v)
    # A finding outside the six dimensions says which group it belongs to (hygiene, lineage ...).
    out["findings"] = [{**finding(f), "dimension": f.dimension} for f in v.findings]
    out["errors"] = [problem(p) for p in v.errors]
    return out


def document(scorecard: Scorecard) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "openaudit", "version": scorecard.tool_version},
        "generated_at": scorecard.generated_at,
        "endpoint": scorecard.endpoint,
        "rule_packs": list(scorecard.rule_packs),
        "models": [model(v) for v in scorecard.models],
    }


#: The fallback for what orjson refuses (a key that is not a string, an integer over 64 bits):
#: the standard library's C encoder (`indent` would select its pure-Python one: 5x slower).
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def encode_line(value: Any) -> str:
    """One model's object on one line: orjson (5x the standard encoder, the largest cost of
    re-rendering recalled verdicts), else the standard encoder for what orjson refuses."""
    import orjson

    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return _ENCODER.encode(value)


def stream(header: Scorecard, verdicts: Iterable[Verdict], out: TextIO) -> None:
    """The document of `header`, with each verdict written as it comes, one per line.

    Whatever stops the stream (an interrupt, an error), the models written so far are
    closed into a valid document before the exception goes on.
    """
    doc = document(header)
    doc.pop("models", None)
    head = json.dumps(doc, indent=2, ensure_ascii=False)  # '{\n  ...\n}', small
    out.write(head[:-2] + ',\n  "models": [')
    sep = "\n    "
    try:
        for v in verdicts:
            out.write(sep + encode_line(model(v)))
            sep = ",\n    "
            out.flush()
    finally:
        out.write("\n  ]\n}\n" if sep != "\n    " else "]\n}\n")
        out.flush()


def render(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    stream(scorecard, scorecard.models, buffer)
    return buffer.getvalue()


class ReportError(ValueError):
    """A file that is not an `openaudit/audit/v1` report; the message is one line."""


def read_scorecard(text: str) -> Scorecard:
    """The Scorecard a JSON report was written from, so a stored audit re-renders without the Hub.

    The report is validated against its schema first: a file edited by hand or written by
    another tool must fail here, naming what is wrong, rather than render a verdict it never held.
    Facts come back only as far as the report carries them (`details`), without their evidence.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"not JSON ({exc})") from None
    _validate(doc)
    return Scorecard(
        models=tuple(_read_model(m) for m in doc["models"]),
        generated_at=str(doc.get("generated_at") or ""),
        tool_version=str(doc["tool"]["version"]),
        rule_packs=tuple(doc["rule_packs"]),
        endpoint=doc.get("endpoint"),
    )


def _validate(doc: Any) -> None:
    import jsonschema

    from openaudit.resources import schema_path

    schema = json.loads(schema_path("audit-v1.schema.json").read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(doc)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        message = " ".join(error.message.split())
        message = message if len(message) <= 160 else message[:159] + "…"
        raise ReportError(f"not an {SCHEMA} report: {where}: {message}")


def _read_evidence(e: dict[str, Any]) -> Evidence:
    return Evidence(e["source"], e["locator"], e["excerpt"], e["url"])


def _read_finding(f: dict[str, Any], dimension: str) -> Finding:
    return Finding(
        rule=f["rule"],
        dimension=dimension,
        outcome=f["outcome"],
        message=f["message"],
        evidence=tuple(_read_evidence(e) for e in f["evidence"]),
        remediation=f.get("remediation", ""),
        severity=f["severity"],
        status=f.get("status"),
    )


def _read_model(m: dict[str, Any]) -> Verdict:
    dimensions = tuple(
        Dimension(
            name,
            m[name]["status"],
            m[name]["summary"],
            tuple(_read_finding(f, name) for f in m[name]["findings"]),
        )
        if name in m
        # A report written before this dimension was added: not judged, so not known.
        else Dimension(name, "unknown", "Not in this report (written before the dimension).")
        for name in DIMENSIONS
    )
    errors = tuple(Problem(p["subject"], p["reason"], p["detail"]) for p in m["errors"])
    audited = m.get("audited")
    if audited is None:
        # Reports written before `audited`: a repo that could not be read has no commit and
        # an error about the repo itself.
        audited = not (m["revision"] is None and any(p.subject == m["id"] for p in errors))
    names = {**DETAILS, **EXTRA_DETAILS, **{key: name for key, (name, _) in BOM_DETAILS.items()}}
    items = {
        name: Fact(name, m["details"][key])
        for key, name in names.items()
        if m["details"].get(key) is not None
    }
    for key in DERIVED_DETAILS:
        name = f"details.{key}"
        items[name] = Fact(name, m["details"].get(key))
    for key in ("duties", "output_use"):
        if key in m.get("derivatives", {}):
            items[f"derivatives.{key}"] = Fact(f"derivatives.{key}", m["derivatives"][key])
    return Verdict(
        id=m["id"],
        revision=m["revision"],
        source=m["source"],
        licence_ids=tuple(m["licence"]["ids"]),
        dimensions=dimensions,
        osaid=m["osaid"],
        mof_class=m["mof_class"],
        errors=errors,
        findings=tuple(_read_finding(f, f.get("dimension", "")) for f in m["findings"]),
        facts=Facts(m["id"], m["revision"], items),
        audited=bool(audited),
        complete=bool(m.get("complete", True)),
    )
