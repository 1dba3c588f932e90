"""What moved between two audits of the same models: the "Changed since" section.

Compared per model id: the licence, each dimension's status, gating, weight formats, the
licence's conditions and restrictions (from the knowledge base), OSAID and the MOF class.
A model missing from the earlier audit is "new"; the rest is said in the same words as
the scorecard, old value first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from openaudit.model import Scorecard, Verdict
from openaudit.report import view
from openaudit.report.json_format import details


def _terms(v: Verdict) -> list[str]:
    return sorted(
        f"{t.kind} {t.name}" + (f" ({t.value})" if t.value else "")
        for lic in view.licence_terms(v.licence_ids)
        for t in lic.terms
    )


def _aspects(v: Verdict) -> list[tuple[str, Callable[[Verdict], Any]]]:
    out: list[tuple[str, Callable[[Verdict], Any]]] = [
        ("licence", lambda x: ", ".join(x.licence_ids) or view.NO_LICENCE)
    ]
    for d in v.dimensions:
        out.append((view.title(d.name), functools.partial(_status, name=d.name)))
    out += [
        ("gated", lambda x: details(x)["gated"]),
        ("weight formats", lambda x: ", ".join(map(str, details(x)["weight_formats"] or ()))),
        ("pickle weight files", lambda x: ", ".join(map(str, details(x)["pickle_files"] or ()))),
        ("trust_remote_code", lambda x: details(x)["trust_remote_code"]),
        ("OSAID", lambda x: view.OSAID_WORDS.get(x.osaid, x.osaid)),
        ("MOF class", lambda x: x.mof_class or "unclassified"),
        ("audited", lambda x: "yes" if x.audited else "no"),
    ]
    return out


def _status(v: Verdict, *, name: str) -> str | None:
    try:
        return v.dimension(name).status
    except KeyError:
        return None


def _diff_terms(old: Iterable[str], new: Iterable[str]) -> list[str]:
    before, after = set(old), set(new)
    lines = [f"licence term added: {t}" for t in sorted(after - before)]
    lines += [f"licence term removed: {t}" for t in sorted(before - after)]
    return lines


def changes(before: Scorecard, after: Scorecard) -> dict[str, list[str]]:
    """Model id -> lines "what: old → new"; a model with nothing moved has no entry."""
    old = {v.id: v for v in before.models}
    out: dict[str, list[str]] = {}
    for v in after.models:
        prev = old.get(v.id)
        if prev is None:
            out[v.id] = [f"new since the audit of {before.generated_at or 'the earlier report'}"]
            continue
        lines = []
        if prev.revision != v.revision:
            lines.append(f"commit: {prev.revision or 'none'} → {v.revision or 'none'}")
        for label, get in _aspects(v):
            a, b = get(prev), get(v)
            # What one side does not carry (an older report's missing field) is no change.
            if a != b and a is not None and b is not None:
                lines.append(f"{label}: {a} → {b}")
        lines += _diff_terms(_terms(prev), _terms(v))
        if lines:
            out[v.id] = lines
    return out
