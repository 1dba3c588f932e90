"""JSON output of the check, schema `openaudit/check/v1`; also what `--baseline` reads back."""

from __future__ import annotations

import json
from typing import Any

from openaudit.model import CodeRef, Evidence
from openaudit.policy.evaluate import Violation
from openaudit.policy.result import CheckResult

SCHEMA = "openaudit/check/v1"


def location(ref: CodeRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    out = {"file": ref.file, "line": ref.line, "column": ref.column, "cell": ref.cell}
    if ref.cell is not None:
        out["file_line"] = ref.file_line  # the .ipynb line holding it (None: not found)
    return out


def reference(ref: CodeRef) -> dict[str, Any]:
    return {
        **(location(ref) or {}),
        "call": ref.call,
        "status": ref.status,
        "repo_id": ref.repo_id,
        "revision": ref.revision,
        "expression": ref.expression,
        "reason": ref.reason,
        "trust_remote_code": ref.trust_remote_code,
    }


def evidence(ev: Evidence) -> dict[str, Any]:
    return {"source": ev.source, "locator": ev.locator, "excerpt": ev.excerpt, "url": ev.url}


def violation(v: Violation) -> dict[str, Any]:
    return {
        "rule": v.rule,
        "level": v.level,
        "severity": v.severity or None,
        "message": v.message,
        "model": v.model,
        "revision": v.revision,
        "location": location(v.ref),
        "policy": v.policy,
        "audit_rules": list(v.audit_rules),
        "evidence": [evidence(e) for e in v.evidence],
        "suppressed": v.suppressed or None,
        "fingerprint": v.fingerprint,
    }


def document(result: CheckResult) -> dict[str, Any]:
    counted = [v for v in result.violations if not v.suppressed]
    return {
        "schema": SCHEMA,
        "tool": {"name": "openaudit", "version": result.tool_version},
        "summary": {
            "files": result.files,
            "references": len(result.refs),
            "models": len(result.models),
            "errors": sum(v.level == "error" for v in counted),
            "warnings": sum(v.level == "warning" for v in counted),
            "suppressed": len(result.violations) - len(counted),
            "not_audited": list(result.not_audited),
        },
        "policies": list(result.policies),
        "models": [
            {
                "id": m.id,
                "requested": m.requested,
                "commit": m.commit,
                "pinned_by": m.pinned_by,
                "licence_ids": list(m.licence_ids),
                "audited": m.audited,
                "policy": m.policy,
                "references": [r.location for r in m.refs],
            }
            for m in result.models
        ],
        "references": [reference(r) for r in result.refs],
        "violations": [violation(v) for v in result.violations],
        "problems": [
            {"subject": p.subject, "reason": p.reason, "detail": p.detail} for p in result.problems
        ],
    }


def render(result: CheckResult) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
