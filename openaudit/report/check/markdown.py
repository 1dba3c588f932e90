"""Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`): verdict first, then what to fix."""

from __future__ import annotations

from openaudit.policy.result import CheckResult
from openaudit.report.escape import clean, md

MAX_ROWS = 200


def cell(text: str) -> str:
    """Table-cell safe: untrusted text renders as itself, never as markup (report.escape)."""
    return md(text)


def code(text: str) -> str:
    """A location in a code span: backticks removed so the span cannot be closed early."""
    return "`" + clean(text).replace("`", "") + "`"


def render(result: CheckResult) -> str:
    counted = [v for v in result.violations if not v.suppressed]
    errors = [v for v in counted if v.level == "error"]
    warnings = [v for v in counted if v.level == "warning"]
    mark = (
        "❌ failed" if result.failing else ("⚠️ passed with warnings" if warnings else "✅ passed")
    )
    out = [
        f"## openaudit check: {mark}",
        "",
        f"{len(result.refs)} model references in {result.files} files, {len(result.models)} models; "
        f"{len(errors)} errors, {len(warnings)} warnings, "
        f"{len(result.violations) - len(counted)} suppressed. "
        f"Policy: {cell(', '.join(result.policies) or 'none')}.",
        "",
    ]
    if result.violations:
        out += ["| level | location | rule | model | message |", "|---|---|---|---|---|"]
        for v in result.violations[:MAX_ROWS]:
            level = v.level + (f" ({v.severity})" if v.severity else "")
            if v.suppressed:
                level = f"~~{level}~~ suppressed"
            where = v.ref.location if v.ref else ""
            out.append(
                f"| {level} | {code(where) if where else ''} | {v.rule} | {cell(v.model or '')} | {cell(v.message)} |"
            )
        if len(result.violations) > MAX_ROWS:
            out.append(f"\n{len(result.violations) - MAX_ROWS} more in the SARIF or JSON report.")
        out.append("")
    if result.models:
        out += ["### Models", "", "| model | commit | pinned by | licence |", "|---|---|---|---|"]
        for m in result.models:
            commit = (m.commit or "")[:12] if m.audited else "not audited"
            out.append(
                f"| {cell(m.id)} | {cell(commit)} | {m.pinned_by} | {cell(', '.join(m.licence_ids) or 'unknown')} |"
            )
        out.append("")
    return "\n".join(out)
