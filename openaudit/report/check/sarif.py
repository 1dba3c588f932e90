"""SARIF 2.1.0 for code scanning: one run, results on the code locations that use a model.

GitHub's upload limits are respected by construction: at most MAX_RESULTS results, short
messages, a few evidence items per result. The `automationDetails.id` ends in `/`, which makes
it a category, so the check's alerts do not replace another tool's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from openaudit.policy import check_rules
from openaudit.policy.evaluate import Violation
from openaudit.policy.result import CheckResult
from openaudit.report.check import clean

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
CATEGORY = "openaudit/check/"
#: GitHub accepts 25,000 results per run; keep well inside it.
MAX_RESULTS = 5000
MAX_MESSAGE = 1000
LEVELS = {"error": "error", "warning": "warning", "note": "note"}


def _rules() -> tuple[list[dict[str, Any]], dict[str, int]]:
    rules = []
    index = {}
    for i, r in enumerate(check_rules().values()):
        index[r.id] = i
        rules.append(
            {
                "id": r.id,
                "name": r.id.replace("/", "-"),
                "shortDescription": {"text": r.short},
                "fullDescription": {"text": r.help},
                "help": {"text": r.help, "markdown": r.help},
                "defaultConfiguration": {
                    "level": "error" if r.id.startswith("policy/") else "warning"
                },
            }
        )
    return rules, index


def _location(v: Violation) -> list[dict[str, Any]]:
    ref = v.ref
    if ref is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": ref.file, "uriBaseId": "%SRCROOT%"}}
    if ref.cell is None:
        physical["region"] = {"startLine": ref.line, "startColumn": ref.column}
    elif ref.file_line is not None:
        # The line of the .ipynb file that holds the source line: what a pull request's diff
        # shows; the column within the cell means nothing there.
        physical["region"] = {"startLine": ref.file_line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if ref.cell is not None:
        location["message"] = {"text": f"cell {ref.cell}, line {ref.line}"}
    return [location]


def _result(v: Violation, index: dict[str, int]) -> dict[str, Any]:
    text = clean(v.message if not v.model else f"{v.model}: {v.message}")
    if v.ref is not None and v.ref.cell is not None:
        text = f"{text} (cell {v.ref.cell}, line {v.ref.line})"
    result: dict[str, Any] = {
        "ruleId": v.rule,
        "level": LEVELS.get(v.level, "note"),
        "message": {"text": text[:MAX_MESSAGE]},
        "locations": _location(v),
        "partialFingerprints": {"openaudit/v1": hashlib.sha256(v.fingerprint.encode()).hexdigest()},
        "properties": {
            "model": v.model,
            "revision": v.revision,
            "policy": v.policy,
            "auditRules": list(v.audit_rules),
            "evidence": [
                {
                    "source": e.source,
                    "locator": clean(e.locator),
                    "excerpt": clean(e.excerpt[:200]),
                    "url": e.url,
                }
                for e in v.evidence[:5]
            ],
        },
    }
    if v.rule in index:
        result["ruleIndex"] = index[v.rule]
    if v.severity:
        result["properties"]["severity"] = v.severity
    if v.suppressed:
        result["suppressions"] = [{"kind": "external", "justification": clean(v.suppressed)}]
    return result


def document(result: CheckResult) -> dict[str, Any]:
    rules, index = _rules()
    results = [_result(v, index) for v in result.violations[:MAX_RESULTS]]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "openaudit",
                "version": result.tool_version,
                "informationUri": "https://github.com/openaudit/openaudit",
                "rules": rules,
            }
        },
        "automationDetails": {"id": CATEGORY},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if len(result.violations) > MAX_RESULTS:
        run["properties"] = {"truncated": len(result.violations) - MAX_RESULTS}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(result: CheckResult) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
