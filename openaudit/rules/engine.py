"""Evaluate rules over facts and roll findings up into dimension statuses and verdicts.

A dimension's status is the first status, in the dimension's precedence
order, that any finding proposes: the order puts caution first, so one rule
saying "restricted" outweighs any number saying "open". A rule whose required
facts are missing proposes what its `missing` outcome says (usually unknown);
nothing is ever decided from absent evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openaudit.model import (
    DIMENSIONS,
    Dimension,
    Evidence,
    Facts,
    Finding,
    Problem,
    Rule,
    RuleOutcome,
    Verdict,
)
from openaudit.rules.loader import RuleSet, import_cel

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)+)\}")
FRAMEWORK_DIMENSIONS = ("osaid",)


def fact_tree(facts: Facts) -> dict[str, Any]:
    """Facts named `a.b` become `{"a": {"b": value}}` for CEL; unknown values are left out."""
    tree: dict[str, Any] = {}
    for name, fact in facts.items.items():
        if fact.value is None:
            continue
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = fact.value
    return tree


def _lookup(facts: Facts, path: str) -> Any:
    """`a.b` is a fact; `a.b.c` may also be key `c` inside fact `a.b`."""
    parts = path.split(".")
    for cut in range(len(parts), 1, -1):
        value = facts.value(".".join(parts[:cut]))
        if value is None:
            continue
        for key in parts[cut:]:
            value = value.get(key) if isinstance(value, dict) else None
        return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return (
            ", ".join(_text(v.get("id", v)) if isinstance(v, dict) else _text(v) for v in value)
            or "none"
        )
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) or "none"
    return str(value)


def _render(template: str, facts: Facts) -> str:
    """Fill `{fact.name}` (or `{fact.name.key}`) placeholders of a message with what was read."""
    return _PLACEHOLDER.sub(lambda m: _text(_lookup(facts, m.group(1))), template)


#: Cited when a rule's own facts show nothing (an absence, or a repo that could not be read):
#: the card and file list that were read, or the failed request.
FALLBACK_EVIDENCE = ("repo.snapshot",)


def _evidence(rule: Rule, facts: Facts) -> tuple[Evidence, ...]:
    def cite(names: tuple[str, ...]) -> tuple[Evidence, ...]:
        seen: dict[Evidence, None] = {}
        for name in names:
            fact = facts.get(name)
            for ev in fact.evidence if fact is not None else ():
                seen.setdefault(ev, None)
        return tuple(seen)

    return cite(rule.cites or rule.requires) or cite(FALLBACK_EVIDENCE)


def evaluate_rule(rule: Rule, facts: Facts, context: Any, program: Any) -> Finding | None:
    """One rule on one model; `context` is the facts as a CEL context, shared by all rules."""
    missing = [name for name in rule.requires if facts.value(name) is None]
    branch = "missing"
    if not missing:
        try:
            result = program.execute(context)
        except (KeyError, ValueError, TypeError, RuntimeError):
            result = None  # a fact the condition reads is absent: decided as missing
        if isinstance(result, bool):
            branch = "true" if result else "false"
    outcome: RuleOutcome = {"true": rule.on_true, "false": rule.on_false}.get(
        branch, rule.on_missing
    )
    if outcome.outcome == "skip":
        return None
    message = _render(outcome.message or rule.short, facts)
    if missing:
        message += f" (not known: {', '.join(missing)})"
    return Finding(
        rule=rule.id,
        dimension=rule.dimension,
        outcome=outcome.outcome,
        message=message,
        evidence=_evidence(rule, facts),
        remediation=rule.remediation if outcome.outcome in ("fail", "unknown") else "",
        severity=outcome.severity,
        status=outcome.status,
        branch=branch,
    )


class Judge:
    """Compiled rules, reusable across models of a batch."""

    def __init__(self, ruleset: RuleSet) -> None:
        cel = import_cel()

        self.ruleset = ruleset
        self._programs = {r.id: cel.compile(r.condition) for r in ruleset.rules}

    def findings(self, facts: Facts) -> list[Finding]:
        cel = import_cel()

        # Converted to CEL values once per model, then reused by every rule.
        context = cel.Context(variables=fact_tree(facts))
        out = []
        for rule in self.ruleset.rules:
            finding = evaluate_rule(rule, facts, context, self._programs[rule.id])
            if finding is not None:
                out.append(finding)
        return out

    def roll_up(
        self, name: str, findings: Iterable[Finding]
    ) -> tuple[str, str, tuple[Finding, ...]]:
        spec = self.ruleset.dimensions[name]
        mine = tuple(f for f in findings if f.dimension == name)
        for status in spec.precedence:
            for f in mine:
                if f.status == status:
                    return status, f.message, mine
        return spec.default, spec.default_summary, mine

    def _capped(self, dim: Dimension, before: list[Dimension]) -> Dimension:
        """Hold a dimension to its cap when a dimension it depends on is undecided.

        Derivative rights follow from the licence: while the licence is `unknown`, so are they,
        whatever the terms that were read allow. Only ever moves towards caution.
        """
        spec = self.ruleset.dimensions[dim.name]
        order = spec.precedence
        for other, when, cap in spec.capped_by:
            ref = next((d for d in before if d.name == other), None)
            if ref is None or ref.status not in when:
                continue
            if order.index(dim.status) > order.index(cap):
                summary = f"{other.replace('_', ' ').capitalize()} is {ref.status}: {ref.summary}"
                dim = Dimension(dim.name, cap, summary, dim.findings)
        return dim

    def verdict(
        self,
        facts: Facts,
        *,
        source: str,
        errors: Iterable[Problem] = (),
        mof_class: int | None = None,
    ) -> Verdict:
        findings = self.findings(facts)
        dims: list[Dimension] = []
        for name in DIMENSIONS:
            status, summary, mine = self.roll_up(name, findings)
            dims.append(self._capped(Dimension(name, status, summary, mine), dims))
        osaid, _, _ = self.roll_up("osaid", findings)
        others = tuple(f for f in findings if f.dimension not in DIMENSIONS)
        return Verdict(
            id=facts.subject,
            revision=facts.revision,
            source=source,
            licence_ids=tuple(facts.value("licence.ids", ())),
            dimensions=tuple(dims),
            osaid=osaid,
            mof_class=mof_class,
            errors=tuple(errors),
            findings=others,
            facts=facts,
        )
