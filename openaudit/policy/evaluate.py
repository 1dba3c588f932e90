"""Judge audit verdicts against a policy: violations, each citing the audit's evidence.

The audit stays the single source of verdicts: nothing here changes a status, it only reads
them. A licence's state comes from its SPDX expression as `license-expression` parses it:
under AND every licence applies (the most severe state wins), under OR the user may choose
(the least severe wins). A licence the knowledge base cannot describe is never `approved`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from openaudit.kb import KnowledgeBase
from openaudit.model import CodeRef, Evidence, Finding, Verdict
from openaudit.policy.loader import STATES, Policy

LEVELS = {"fail": "error", "warn": "warning"}


@dataclass(frozen=True)
class Violation:
    """One rule broken by one model (or one reference), where it is used, and why."""

    rule: str
    #: "error" fails the check; "warning" and "note" are reported only.
    level: str
    message: str
    model: str | None = None
    revision: str | None = None
    ref: CodeRef | None = None
    evidence: tuple[Evidence, ...] = ()
    #: The audit rules whose findings are the evidence.
    audit_rules: tuple[str, ...] = ()
    #: "high" for the riskiest cases (an unpinned reference that runs remote code).
    severity: str = ""
    #: The policy file that applied.
    policy: str = ""
    #: Why it does not count: an exception in force, or the baseline.
    suppressed: str = ""

    @property
    def counts(self) -> bool:
        return self.level == "error" and not self.suppressed

    @property
    def fingerprint(self) -> str:
        """Stable across line moves: rule, model (or expression) and file."""
        ref = self.ref
        subject = self.model or (ref.expression if ref else "")
        return "|".join((self.rule, subject, ref.file if ref else "", ref.call if ref else ""))


def _findings(verdict: Verdict, dim: str) -> tuple[Finding, ...]:
    try:
        d = verdict.dimension(dim)
    except KeyError:
        return ()
    cited = [f for f in d.findings if f.status == d.status] or list(d.findings)
    return tuple(cited)


def _cite(findings: Iterable[Finding]) -> tuple[tuple[Evidence, ...], tuple[str, ...]]:
    found = tuple(findings)
    evidence = tuple(dict.fromkeys(e for f in found for e in f.evidence))
    return evidence, tuple(dict.fromkeys(f.rule for f in found))


def _violation(
    rule: str,
    action: str,
    message: str,
    verdict: Verdict,
    policy: Policy,
    findings: Iterable[Finding] = (),
    evidence: tuple[Evidence, ...] = (),
) -> Violation:
    ev, rules = _cite(findings)
    return Violation(
        rule=rule,
        level=LEVELS[action],
        message=message,
        model=verdict.id,
        revision=verdict.revision,
        evidence=ev + evidence,
        audit_rules=rules,
        policy=policy.source,
    )


def judge(policy: Policy, verdict: Verdict, kb: KnowledgeBase) -> list[Violation]:
    """Model-level violations of one audited model (no code location yet)."""
    out: list[Violation] = []
    licence = _findings(verdict, "licence")
    state, why = licence_state(policy, verdict, kb)
    if state in ("review", "forbidden"):
        action = "fail" if state == "forbidden" else "warn"
        out.append(_violation(f"policy/licence-{state}", action, why, verdict, policy, licence))
    for dim, table in policy.dimensions.items():
        try:
            d = verdict.dimension(dim)
        except KeyError:
            continue
        action = table.get(d.status, "allow")
        if action != "allow":
            message = f"{dim} is {d.status}: {d.summary}"
            out.append(
                _violation(
                    "policy/dimension", action, message, verdict, policy, _findings(verdict, dim)
                )
            )
    out.extend(_terms(policy, verdict))
    return out


def _terms(policy: Policy, verdict: Verdict) -> Iterable[Violation]:
    def value(name: str) -> Any:
        return verdict.facts.value(name) if verdict.facts is not None else None

    def ev(name: str) -> tuple[Evidence, ...]:
        fact = verdict.facts.get(name) if verdict.facts is not None else None
        return fact.evidence if fact is not None else ()

    accepted = {"allowed": ("allowed",), "conditional": ("allowed", "conditional")}
    if policy.commercial_use in accepted:
        status = verdict.dimension("commercial_use").status
        if status not in accepted[policy.commercial_use]:
            yield _violation(
                "policy/commercial-use",
                "fail",
                f"commercial use is {status}; the policy requires {policy.commercial_use}",
                verdict,
                policy,
                _findings(verdict, "commercial_use"),
            )
    if policy.gated != "allow" and (value("repo.gated") or _status(verdict, "weights") == "gated"):
        yield _violation(
            "policy/gated",
            policy.gated,
            "the weights are gated: terms must be accepted to download",
            verdict,
            policy,
            _findings(verdict, "weights"),
            ev("repo.gated"),
        )
    pickled = value("weights.pickle_files") or []
    if policy.pickle_weights != "allow" and pickled:
        yield _violation(
            "policy/pickle-weights",
            policy.pickle_weights,
            f"pickle weights: {', '.join(map(str, pickled[:3]))}",
            verdict,
            policy,
            evidence=ev("weights.pickle_files"),
        )
    if policy.trust_remote_code != "allow" and value("code.trust_remote_code"):
        yield _violation(
            "policy/trust-remote-code",
            policy.trust_remote_code,
            "the model ships custom code that runs with trust_remote_code=True",
            verdict,
            policy,
            evidence=ev("code.trust_remote_code"),
        )
    if policy.min_mof_class is not None and (verdict.mof_class or 0) < policy.min_mof_class:
        shown = "unclassified" if not verdict.mof_class else f"class {verdict.mof_class}"
        yield _violation(
            "policy/mof-class",
            "fail",
            f"MOF {shown}; the policy requires class {policy.min_mof_class} or better",
            verdict,
            policy,
        )
    if policy.osaid == "conformant" and verdict.osaid != "conformant":
        yield _violation(
            "policy/osaid",
            "fail",
            f"OSAID verdict is {verdict.osaid}; the policy requires conformant",
            verdict,
            policy,
        )


def _status(verdict: Verdict, dim: str) -> str | None:
    try:
        return verdict.dimension(dim).status
    except KeyError:
        return None


def licence_state(policy: Policy, verdict: Verdict, kb: KnowledgeBase) -> tuple[str, str]:
    """The policy state of the model's licence, and a sentence saying why."""
    ids = list(verdict.licence_ids)
    if not ids:
        if policy.dimensions.get("licence", {}).get("unknown"):
            return "approved", ""  # the dimension rule reports it, once
        return "review", "no licence identified: it needs review"
    reasons: dict[str, str] = {}

    def state_of(licence_id: str | None, symbol: str) -> int:
        entry = kb.get(licence_id) if licence_id else None
        if licence_id and licence_id in policy.licenses:
            state, why = (
                policy.licenses[licence_id],
                f"{licence_id} is {policy.licenses[licence_id]}",
            )
        elif entry is not None and entry.kind in policy.kinds:
            state, why = (
                policy.kinds[entry.kind],
                f"{licence_id} ({entry.kind}) is {policy.kinds[entry.kind]}",
            )
        elif entry is None or entry.kind == "unknown":
            # A licence the knowledge base cannot describe is never approved by default.
            state = max(policy.unlisted_licence, "review", key=STATES.index)
            why = f"{licence_id or symbol} has no known terms"
        else:
            state, why = (
                policy.unlisted_licence,
                f"{licence_id} is not listed ({policy.unlisted_licence})",
            )
        reasons[symbol] = why
        return STATES.index(state)

    expression = _expression(verdict, ids, kb)
    if expression is None:
        level = max(state_of(i, i) for i in ids)
        how = " AND ".join(ids)
    else:
        level = _evaluate(expression, state_of, kb)
        how = str(expression)
    state = STATES[level]
    details = "; ".join(reasons.values())
    return state, f"licence {how}: {details} (policy: {policy.source})"


def _expression(verdict: Verdict, ids: Sequence[str], kb: KnowledgeBase) -> Any:
    """The declared SPDX expression when it names exactly the licences the audit found."""
    from license_expression import get_spdx_licensing

    from openaudit.kb.identify import identify_declared

    declared = verdict.facts.value("licence.declared", []) if verdict.facts else []
    values = declared if isinstance(declared, list) else [declared]
    for item in values:
        value = item.get("value") if isinstance(item, dict) else item
        if not isinstance(value, str) or " OR " not in value.upper():
            continue
        try:
            parsed = get_spdx_licensing().parse(value, validate=False, simple=False)
        except Exception:
            continue
        if parsed is None:
            continue
        named = {i for sym in parsed.symbols for i in identify_declared(str(sym.key), kb).ids}
        if named == set(ids):
            return parsed
    return None


def _evaluate(node: Any, state_of: Any, kb: KnowledgeBase) -> int:
    from license_expression import AND, OR, LicenseWithExceptionSymbol

    from openaudit.kb.identify import identify_declared

    if isinstance(node, AND):
        return max(_evaluate(a, state_of, kb) for a in node.args)
    if isinstance(node, OR):
        return min(_evaluate(a, state_of, kb) for a in node.args)
    if isinstance(node, LicenseWithExceptionSymbol):
        node = node.license_symbol
    key = str(node.key)
    ids = identify_declared(key, kb).ids
    return int(state_of(ids[0] if len(ids) == 1 else None, key))


def apply_exceptions(
    policy: Policy, violations: Sequence[Violation], today: date
) -> list[Violation]:
    """Suppress what a live exception covers; an expired exception fails and says so."""
    out: list[Violation] = []
    expired_seen: set[tuple[str, str]] = set()
    for v in violations:
        exc = next((e for e in policy.exceptions if e.covers(v.rule, v.model, v.revision)), None)
        if exc is None or v.level not in ("error", "warning"):
            out.append(v)
            continue
        if exc.expires >= today:
            note = f"exception until {exc.expires} (owner {exc.owner}): {exc.reason}"
            out.append(replace(v, suppressed=note))
            continue
        out.append(v)
        key = (exc.model, v.ref.location if v.ref else "")
        if key not in expired_seen:
            expired_seen.add(key)
            out.append(
                replace(
                    v,
                    rule="policy/exception-expired",
                    level="error",
                    message=(
                        f"the exception for {exc.model} expired on {exc.expires} "
                        f"(owner {exc.owner}: {exc.reason})"
                    ),
                    audit_rules=(),
                )
            )
    return out
