"""Plain text, `file:line:col` first, one violation a line: what an editor or a CI log links."""

from __future__ import annotations

from openaudit.policy.evaluate import Violation
from openaudit.policy.result import CheckResult
from openaudit.report.check import clean


def line(v: Violation) -> str:
    where = v.ref.location if v.ref else "-"
    level = f"{v.level}[{v.severity}]" if v.severity else v.level
    subject = f" {clean(v.model)}" if v.model else ""
    head = f"{clean(where)}: {level} {v.rule}{subject}: {clean(v.message)}"
    if v.suppressed:
        head += f" (suppressed: {clean(v.suppressed)})"
    return head


def render(result: CheckResult) -> str:
    out: list[str] = []
    for v in result.violations:
        out.append(line(v))
        for ev in v.evidence[:3]:
            cite = f"{ev.source} {ev.locator}"
            if ev.excerpt:
                cite += f": {ev.excerpt[:100]}"
            if ev.url:
                cite += f" <{ev.url}>"
            out.append(f"    evidence: {clean(cite)}")
    counted = [v for v in result.violations if not v.suppressed]
    errors = sum(v.level == "error" for v in counted)
    warnings = sum(v.level == "warning" for v in counted)
    suppressed = len(result.violations) - len(counted)
    unresolved = sum(r.status == "unresolved" for r in result.refs)
    out.append(
        f"{len(result.refs)} references ({unresolved} unresolved) in {result.files} files, "
        f"{len(result.models)} models: {errors} errors, {warnings} warnings"
        + (f", {suppressed} suppressed" if suppressed else "")
        + f" (policy: {', '.join(result.policies) or 'none'})"
    )
    return "\n".join(out) + "\n"
