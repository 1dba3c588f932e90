"""Evaluate rules over facts and roll findings up into dimension statuses and verdicts.

A dimension's status is the first status, in the dimension's precedence
order, that any finding proposes: the order puts caution first, so one rule
saying "restricted" outweighs any number saying "open". A rule whose required
facts are missing proposes what its `missing` outcome says (usually unknown);
nothing is ever decided from absent evidence.

Caution is monotone in the evidence: a fact read from an artefact that was not
read (`Fact.unread`) never supports an open status, a pass or a firm absence.
A rule reading such a fact keeps its outcome only when that outcome was decided
by what was read alone (the condition gives the same answer with the unread
facts taken away), or when the rule is `monotone` and found something at least
as cautious as the dimension's `undecided` status; otherwise it proposes
`undecided` and names what was not read, and why.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from openaudit.model import (
    DIMENSIONS,
    Dimension,
    Evidence,
    Fact,
    Facts,
    Finding,
    Problem,
    Rule,
    RuleOutcome,
    Verdict,
)
from openaudit.rules.loader import DimensionSpec, RuleSet, import_cel

_IDENT = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)")
_HAS = re.compile(r"\bhas\(\s*([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)\s*\)")
#: How many unread artefacts a message names before "and N more".
_NAMED = 3
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


_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_BARE = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)(?![\w.(])")


def condition_reads(conditions: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The dotted paths and the bare names the conditions mention (string literals aside).

    A method or macro called on a path (`a.b.exists(...)`, `a.size()`) reads the whole value
    it is called on, so the path is kept without the call's name: its subtree whole. A
    macro's variable (`t.x`) is mentioned too, and only ever makes `prune` keep more.
    """
    paths: set[str] = set()
    bare: set[str] = set()
    for condition in conditions:
        code = _STRING.sub("''", condition)
        for match in _IDENT.finditer(code):
            path = match.group(1)
            if code[match.end() :].lstrip().startswith("("):
                path = path.rsplit(".", 1)[0]
                if "." not in path:
                    bare.add(path)
                    continue
            paths.add(path)
        bare.update(_BARE.findall(code))
    return frozenset(paths), frozenset(bare)


def prune(tree: Mapping[str, Any], paths: Iterable[str], bare: Iterable[str]) -> dict[str, Any]:
    """The part of a fact tree that conditions mentioning `paths` and `bare` names can see.

    Converting the whole tree to CEL values cost half a millisecond per model, mostly for
    facts no rule reads. Each mentioned path is kept down to where it stops being a key of a
    map, and everything below that point whole; the maps along the way stay maps, so that
    `has(a.x)` is false, not an error, exactly as on the whole tree. A bare name keeps its
    whole subtree. A condition therefore evaluates the same on the pruned tree.
    """
    out: dict[str, Any] = {name: tree[name] for name in bare if name in tree}
    for path in paths:
        src: Any = tree
        dst = out
        parts = path.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            value = src[part]
            kept = dst.get(part)
            if kept is value:
                break  # already kept whole
            if i == len(parts) - 1 or not isinstance(value, dict):
                dst[part] = value
                break
            if not isinstance(kept, dict):
                kept = dst[part] = {}
            src, dst = value, kept
    return out


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


def _run(program: Any, context: Any) -> bool | None:
    try:
        result = program.execute(context)
    except (KeyError, ValueError, TypeError, RuntimeError):
        return None  # a fact the condition reads is absent: decided as missing
    return result if isinstance(result, bool) else None


def _fact_name(path: str, facts: Facts) -> str | None:
    """The fact a dotted path of a condition reads (`a.b.c` may be key `c` of fact `a.b`)."""
    parts = path.split(".")
    for cut in range(len(parts), 1, -1):
        name = ".".join(parts[:cut])
        if name in facts.items:
            return name
    return None


@functools.lru_cache(maxsize=4096)
def _paths(condition: str, requires: tuple[str, ...]) -> tuple[str, ...]:
    """The dotted paths a rule names (parsed once per rule, not once per model)."""
    return tuple(dict.fromkeys([*requires, *_IDENT.findall(condition)]))


def rule_inputs(rule: Rule, facts: Facts) -> tuple[str, ...]:
    """The facts a rule reads: those it requires and those its condition names."""
    found = (_fact_name(n, facts) for n in _paths(rule.condition, rule.requires))
    return tuple(dict.fromkeys(n for n in found if n is not None))


def _unread(rule: Rule, facts: Facts) -> dict[str, Fact]:
    out = {}
    for name in rule_inputs(rule, facts):
        fact = facts.items[name]
        if fact.unread:
            out[name] = fact
    return out


class _Partial:
    """The facts a rule reads, minus those not read whole, as a CEL context (built once per set).

    Only the rule's own inputs go in: a condition names nothing else, and a model with a
    large fact (hundreds of bases) must not be copied for every rule that reads a partial fact.
    """

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._contexts: dict[frozenset[str], Any] = {}

    def only(self, names: frozenset[str]) -> Any:
        if names not in self._contexts:
            cel = import_cel()
            kept = {k: self.facts.items[k] for k in names}
            tree = fact_tree(Facts(self.facts.subject, self.facts.revision, kept))
            self._contexts[names] = cel.Context(variables=tree)
        return self._contexts[names]


def _stands(
    rule: Rule,
    branch: str,
    outcome: RuleOutcome,
    unread: Mapping[str, Fact],
    spec: DimensionSpec,
    decided_without: bool | None,
) -> bool:
    """Whether an outcome reached with partly read inputs is one the evidence read supports."""
    if branch in ("true", "false") and decided_without is (branch == "true"):
        uses_has = {
            _fact_name(n, Facts("", None, dict(unread))) for n in _HAS.findall(rule.condition)
        }
        if not uses_has & set(unread):
            return True  # decided by what was read alone
    if outcome.outcome == "unknown" and outcome.status in (None, spec.undecided):
        return True  # already undecided: keep the rule's own words
    # A monotone rule found something (a restriction, a conflict) among what was read:
    # reading more cannot undo it, as long as it claims nothing more open than undecided.
    return (
        branch in ("true", "false")
        and rule.monotone
        and outcome.outcome not in ("pass", "skip")
        and (
            spec.undecided is None
            or (
                outcome.status is not None
                and spec.more_cautious_or_equal(outcome.status, spec.undecided)
            )
        )
    )


#: The fact whose evidence cites every artefact that was not read (`openaudit.facts.reading`).
UNREAD_FACT = "repo.unread_artefacts"


def _unread_evidence(problems: Iterable[Problem], facts: Facts) -> tuple[Evidence, ...]:
    fact = facts.get(UNREAD_FACT)
    cited = {ev.locator: ev for ev in (fact.evidence if fact is not None else ())}
    out = []
    for p in problems:
        excerpt = f"not read: {p.reason}: {p.detail}"[:200]
        out.append(cited.get(p.subject) or Evidence("api", p.subject, excerpt))
    return tuple(dict.fromkeys(out))


def unread_note(problems: Iterable[Problem]) -> str:
    """ "README.md (server-error), dataset:x/y (not-found)" for a message."""
    items = list(dict.fromkeys(f"{p.subject} ({p.reason})" for p in problems))
    more = f" and {len(items) - _NAMED} more" if len(items) > _NAMED else ""
    return ", ".join(items[:_NAMED]) + more


def evaluate_rule(
    rule: Rule,
    facts: Facts,
    context: Any,
    program: Any,
    spec: DimensionSpec | None = None,
    partial: _Partial | None = None,
    any_unread: bool = True,
) -> Finding | None:
    """One rule on one model; `context` is the facts as a CEL context, shared by all rules.
    `any_unread` False says no fact of the model is unread (the common case), which spares
    every rule the look for unread inputs."""
    missing = [name for name in rule.requires if facts.value(name) is None]
    branch = "missing"
    if not missing:
        result = _run(program, context)
        if result is not None:
            branch = "true" if result else "false"
    outcome: RuleOutcome = {"true": rule.on_true, "false": rule.on_false}.get(
        branch, rule.on_missing
    )
    unread = _unread(rule, facts) if spec is not None and any_unread else {}
    could_be: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = tuple(
        dict.fromkeys(p for fact in unread.values() for p in fact.unread)
    )
    if unread and spec is not None:
        decided_without = None
        if branch != "missing":
            partial = partial or _Partial(facts)
            read = frozenset(rule_inputs(rule, facts)) - frozenset(unread)
            decided_without = _run(program, partial.only(read))
        if not _stands(rule, branch, outcome, unread, spec, decided_without):
            outcome = RuleOutcome(
                outcome="unknown",
                status=spec.undecided,
                message=f"Undecided ({rule.id}): not read: {unread_note(problems)}.",
                severity="medium" if outcome.severity in ("info", "low") else outcome.severity,
            )
            branch = "unread"
            could_be = tuple(
                dict.fromkeys(
                    o.status
                    for o in (rule.on_true, rule.on_false, rule.on_missing)
                    if o.status is not None and o.outcome != "skip"
                )
            )
    if outcome.outcome == "skip":
        return None
    message = _render(outcome.message or rule.short, facts)
    if missing:
        message += f" (not known: {', '.join(missing)})"
    evidence = _evidence(rule, facts)
    if branch == "unread" or (problems and outcome.outcome == "unknown"):
        evidence = _unread_evidence(problems, facts) + evidence
    return Finding(
        rule=rule.id,
        dimension=rule.dimension,
        outcome=outcome.outcome,
        message=message,
        evidence=evidence,
        remediation=rule.remediation if outcome.outcome in ("fail", "unknown") else "",
        severity=outcome.severity,
        status=outcome.status,
        branch=branch,
        could_be=could_be,
    )


class Judge:
    """Compiled rules, reusable across models of a batch."""

    def __init__(self, ruleset: RuleSet) -> None:
        cel = import_cel()

        self.ruleset = ruleset
        self._programs = {r.id: cel.compile(r.condition) for r in ruleset.rules}
        self._reads = condition_reads(r.condition for r in ruleset.rules)

    def findings(self, facts: Facts) -> list[Finding]:
        cel = import_cel()

        # Converted to CEL values once per model, then reused by every rule.
        context = cel.Context(variables=prune(fact_tree(facts), *self._reads))
        partial = _Partial(facts)
        dims = self.ruleset.dimensions
        any_unread = any(fact.unread for fact in facts.items.values())
        out = []
        for rule in self.ruleset.rules:
            finding = evaluate_rule(
                rule,
                facts,
                context,
                self._programs[rule.id],
                dims.get(rule.dimension),
                partial,
                any_unread,
            )
            if finding is not None:
                out.append(finding)
        return out

    def roll_up(
        self, name: str, findings: Iterable[Finding]
    ) -> tuple[str, str, tuple[Finding, ...]]:
        spec = self.ruleset.dimensions[name]
        mine = tuple(f for f in findings if f.dimension == name)
        order = spec.precedence
        ranked = []
        for index, f in enumerate(mine):
            if f.branch == "unread" and spec.undecided is not None:
                # Undecided, ranked as the most cautious status it could be hiding.
                hidden = [s for s in (*f.could_be, spec.undecided) if s in order]
                ranked.append((min(order.index(s) for s in hidden), 1, index, spec.undecided, f))
            elif f.status in order:
                ranked.append((order.index(f.status), 0, index, f.status, f))
        if not ranked:
            return spec.default, spec.default_summary, mine
        *_, status, best = min(ranked, key=lambda r: r[:3])
        # An undecided rule is worth showing only where it could hide something more cautious
        # than what was decided: the rest would only repeat what was not read.
        decided = [r[0] for r in ranked if r[1] == 0]
        floor = min(decided) if decided else len(order)
        hiding = {id(r[4]) for r in ranked if r[1] == 1 and r[0] < floor}
        shown = tuple(f for f in mine if f.branch != "unread" or f is best or id(f) in hiding)
        return status, best.message, shown

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
            complete=bool(facts.value("repo.complete", True)),
        )
