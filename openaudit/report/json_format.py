"""JSON output, schema `openaudit/audit/v1` (openaudit/schemas/audit-v1.schema.json).

The document must be identical for the same evidence whether it was read from
the Hub or from the evidence store, so it carries no fetch times and names the
store's snapshots by the Hub they came from.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any, TextIO

from openaudit.model import Evidence, Finding, Problem, Scorecard, Verdict

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


def details(v: Verdict) -> dict[str, Any]:
    facts = v.facts
    return {key: facts.value(name) if facts is not None else None for key, name in DETAILS.items()}


def model(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {"id": v.id, "revision": v.revision, "source": v.source}
    for dim in v.dimensions:
        entry: dict[str, Any] = {
            "status": dim.status,
            "summary": dim.summary,
            "findings": [finding(f) for f in dim.findings],
        }
        if dim.name == "licence":
            entry = {"ids": list(v.licence_ids), **entry}
        out[dim.name] = entry
    out["osaid"] = v.osaid
    out["mof_class"] = v.mof_class
    out["details"] = details(v)
    out["findings"] = [finding(f) for f in v.findings]
    out["errors"] = [problem(p) for p in v.errors]
    return out


def document(scorecard: Scorecard) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "openaudit", "version": scorecard.tool_version},
        "rule_packs": list(scorecard.rule_packs),
        "models": [model(v) for v in scorecard.models],
    }


#: One model per line, by the C encoder (`indent` would select the pure-Python one: 5x slower).
_ENCODER = json.JSONEncoder(ensure_ascii=False)


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
            out.write(sep + _ENCODER.encode(model(v)))
            sep = ",\n    "
            out.flush()
    finally:
        out.write("\n  ]\n}\n" if sep != "\n    " else "]\n}\n")
        out.flush()


def render(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    stream(scorecard, scorecard.models, buffer)
    return buffer.getvalue()
