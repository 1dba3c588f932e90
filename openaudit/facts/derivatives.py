"""Derivative facts: may the model be modified and shared, may its outputs train other models,
and does a derivative under audit honour the duties its bases impose on it.

Nothing here knows a licence by name. What each condition or restriction means for a derivative
and for output use is data (`licenses/vocabulary/conditions.yml`, `restrictions.yml`); the quote
behind each term is the licence entry's evidence tagged with that `term`. The terms read are the
effective ones (`licence.effective_terms`: the model's own and every readable ancestor's), so a
derivative's rights are never wider than its base's. A duty is called unmet only when what would
show it met was read: a file listing for the licence copy, the card for the label; otherwise it is
listed as unchecked, and the rules say `unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from openaudit.facts.context import Context
from openaudit.facts.licence import kb_evidence
from openaudit.kb.loader import vocabulary
from openaudit.model import Evidence, Fact, LicenseEntry, Snapshot

_LICENCE_FILE = re.compile(r"^(licen[cs]e|copying)([._-].*)?$", re.IGNORECASE)
_NAME_FOLD = re.compile(r"[\s_.\-]+")
_VERSION_TAIL = re.compile(r"-\d+(\.\d+)*$")


def _quotes(entry: LicenseEntry, terms: Iterable[str]) -> tuple[Evidence, ...]:
    """The licence's own words for these terms; the entry itself when no quote is tagged."""
    wanted = set(terms)
    found = tuple(dict.fromkeys(ev for t, ev in entry.term_evidence if t in wanted))
    return found or (kb_evidence(entry),)


def _row(entry: LicenseEntry, inherited: bool) -> dict[str, Any]:
    conditions: Mapping[str, Mapping[str, Any]] = vocabulary("conditions")
    restrictions: Mapping[str, Mapping[str, Any]] = vocabulary("restrictions")

    def kind_of(name: str, table: Mapping[str, Mapping[str, Any]], key: str) -> Any:
        return table.get(name, {}).get(key)

    return {
        "id": entry.id,
        "inherited": inherited,
        "known": entry.kind != "unknown",
        "free": entry.free,
        "prohibits": [
            r.name
            for r in entry.restrictions
            if kind_of(r.name, restrictions, "derivatives") == "prohibits"
        ],
        "carries": [
            r.name
            for r in entry.restrictions
            if kind_of(r.name, restrictions, "derivatives") == "carries"
        ],
        "duties": [
            c.name for c in entry.conditions if kind_of(c.name, conditions, "derivative") == "duty"
        ],
        "ordinary": [
            c.name
            for c in entry.conditions
            if kind_of(c.name, conditions, "derivative") == "ordinary"
        ],
        "output_use": sorted(
            {
                str(kind_of(r.name, restrictions, "output_use"))
                for r in entry.restrictions
                if kind_of(r.name, restrictions, "output_use")
            }
        ),
    }


def _duty_words(rows: list[dict[str, Any]], entries: Mapping[str, LicenseEntry]) -> list[str]:
    """Each duty once, in plain words, with the value a licence gives it ("Llama")."""
    conditions = vocabulary("conditions")
    restrictions = vocabulary("restrictions")
    words: dict[str, None] = {}
    # Duties first, then what the derivative stays bound by, then the ordinary notices.
    for key, table in (("duties", conditions), ("carries", restrictions), ("ordinary", conditions)):
        for row in rows:
            entry = entries[row["id"]]
            for name in row[key]:
                words.setdefault(f"{_words(table.get(name, {}), name, entry)} [{row['id']}]", None)
    return list(words)


def _words(spec: Mapping[str, Any], name: str, entry: LicenseEntry) -> str:
    """A term's duty in plain words, with the value the licence gives it ("Llama", 700000000)."""
    rule = entry.rule(name)
    value = rule.value if rule is not None else None
    template = spec.get("duty_with_value") if value is not None else None
    if template:
        return str(template).format(value=f"{value:,}" if isinstance(value, int) else value)
    text = str(spec.get("duty") or name)
    return f"{text} ({value})" if value is not None else text


def _fold(name: str) -> str:
    return _NAME_FOLD.sub("", name).lower()


def _licence_files(snap: Snapshot) -> list[str]:
    return [n for n in snap.file_names if _LICENCE_FILE.match(n.rsplit("/", 1)[-1])]


def _check_prefix(
    snap: Snapshot, entry: LicenseEntry, prefix: str
) -> tuple[dict[str, Any], tuple[Evidence, ...]] | None:
    name = snap.ref.repo_id.rsplit("/", 1)[-1]
    if _fold(name).startswith(_fold(prefix)):
        return None
    ev = Evidence("api", "id", f"model name: {name}", snap.url())
    detail = f"'{name}' does not begin with '{prefix}', as {entry.id} requires"
    return {"licence": entry.id, "detail": detail}, (*_quotes(entry, ["name-prefix"]), ev)


def _check_copy(
    ctx: Context, snap: Snapshot, entry: LicenseEntry
) -> tuple[str, dict[str, Any], tuple[Evidence, ...]] | None:
    """("unmet" | "unchecked", row, evidence), or None when a copy of the licence is shipped."""
    quotes = _quotes(entry, ["include-licence-copy"])
    if snap.info.get("siblings") is None:
        ev = Evidence("api", "siblings", "no file list in the Hub's answer", snap.url())
        detail = f"whether a copy of {entry.id} is shipped (the file list was not read)"
        return "unchecked", {"licence": entry.id, "detail": detail}, (*quotes, ev)
    files = ctx.value("licence.files", []) or []
    named = [f for f in files if f.get("source") == "file" and f.get("kind") == "licence"]
    if any(f.get("id") == entry.id for f in named):
        return None
    present = _licence_files(snap)
    listing = Evidence("api", "siblings", ", ".join(present) or "no licence file", snap.url())
    if not present:
        detail = f"no licence file: {entry.id} requires a copy of its text with the model"
        return "unmet", {"licence": entry.id, "detail": detail}, (*quotes, listing)
    unread = [p for p in present if not any(f.get("path") == p and f.get("id") for f in named)]
    if unread:
        detail = f"{', '.join(unread)} not read or not identified, so whether it copies {entry.id} is open"
        return "unchecked", {"licence": entry.id, "detail": detail}, (*quotes, listing)
    ids = sorted({str(f.get("id")) for f in named})
    detail = f"the licence file is {', '.join(ids)}, not a copy of {entry.id}"
    return "unmet", {"licence": entry.id, "detail": detail}, (*quotes, listing)


def _compatible(own_id: str, base_id: str) -> bool:
    """Share-alike is met by the same licence, or a later version of it (CC BY-SA 4.0 says so)."""
    return own_id == base_id or _VERSION_TAIL.sub("", own_id) == _VERSION_TAIL.sub("", base_id)


def _own_terms(ctx: Context) -> list[dict[str, Any]]:
    return list(ctx.value("licence.terms", []) or [])


def _base_duties(
    ctx: Context, snap: Snapshot, entries: Mapping[str, LicenseEntry], inherited: list[str]
) -> Iterator[tuple[str, str, dict[str, Any], tuple[Evidence, ...]]]:
    """(fact suffix, state, row, evidence) for each duty a base imposes on this derivative."""
    own = _own_terms(ctx)
    own_ids = [t["id"] for t in own]
    own_fact = ctx.facts.get("licence.declared")
    own_ev = own_fact.evidence if own_fact is not None else ()
    for lid in inherited:
        entry = entries[lid]
        prefix = entry.rule("name-prefix")
        if prefix is not None and prefix.value:
            found = _check_prefix(snap, entry, str(prefix.value))
            if found is not None:
                yield "prefix_missing", "unmet", found[0], found[1]
        if entry.rule("include-licence-copy") is not None:
            copy = _check_copy(ctx, snap, entry)
            if copy is not None:
                yield "licence_copy_missing", copy[0], copy[1], copy[2]
        if entry.rule("pass-on-use-restrictions") is not None and own:
            carried = any(
                "use-based-restrictions" in t.get("restrictions", ()) or t["id"] == lid for t in own
            )
            if not carried:
                detail = (
                    f"declares {', '.join(own_ids)}, which does not carry the use restrictions "
                    f"{lid} requires to be passed on"
                )
                ev = (*_quotes(entry, ["pass-on-use-restrictions"]), *own_ev)
                yield "restrictions_not_passed_on", "unmet", {"licence": lid, "detail": detail}, ev
        if (
            entry.rule("share-alike") is not None
            and own
            and not any(_compatible(i, lid) for i in own_ids)
        ):
            detail = (
                f"declares {', '.join(own_ids)}; {lid} requires its own licence for derivatives"
            )
            ev = (*_quotes(entry, ["share-alike"]), *own_ev)
            yield "share_alike_mismatch", "unmet", {"licence": lid, "detail": detail}, ev


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    effective = ctx.value("licence.effective_ids", None)
    if effective is None:
        return
    inherited = set(ctx.value("licence.inherited_ids", []) or [])
    entries = {i: e for i in effective if (e := ctx.kb.get(i)) is not None}
    rows = [_row(e, e.id in inherited) for e in entries.values()]
    effective_fact = ctx.facts.get("licence.effective_terms")
    base_ev = effective_fact.evidence if effective_fact is not None else ()
    term_ev = tuple(
        ev
        for row in rows
        for ev in _quotes(entries[row["id"]], (*row["prohibits"], *row["duties"], *row["carries"]))
    )
    yield Fact("derivatives.terms", rows, base_ev + term_ev)
    yield Fact("derivatives.duties", _duty_words(rows, entries), term_ev)

    output_rows = [{"licence": row["id"], "use": use} for row in rows for use in row["output_use"]]
    output_ev = tuple(
        ev
        for row in rows
        for ev in _quotes(
            entries[row["id"]],
            [r.name for r in entries[row["id"]].restrictions if r.name in _output_terms()],
        )
        if row["output_use"]
    )
    yield Fact("derivatives.output_use", output_rows, output_ev)
    yield Fact(
        "derivatives.output_use_text",
        [
            f"{r['licence']}: "
            + (
                "outputs may not be used to improve other models"
                if r["use"] == "prohibited"
                else "a model trained on its outputs is bound by its terms"
            )
            for r in output_rows
        ],
        output_ev,
    )

    gaps = [
        *(f"{b} could not be read" for b in ctx.value("lineage.unreadable_bases", []) or []),
        *(
            f"{b} has no identified licence"
            for b in ctx.value("lineage.base_licence_unknown", []) or []
        ),
        *(f"claims the {f} family" for f in ctx.value("lineage.restricted_family", []) or []),
    ]
    if ctx.value("lineage.base_undeclared", False):
        gaps.append("a derivative that names no base")
    lineage_ev = _evidence_of(
        ctx, ("lineage.bases", "lineage.derivative_signals", "lineage.restricted_family")
    )
    yield Fact("derivatives.undecided_bases", gaps, lineage_ev if gaps else ())

    if not ctx.value("lineage.is_derivative", False):
        return
    found: dict[str, list[str]] = {}
    evidence: dict[str, list[Evidence]] = {}
    unchecked: list[str] = []
    unchecked_ev: list[Evidence] = []
    # The duties are the bases' (whatever the derivative declares itself, even the same licence).
    ancestors = ctx.value("lineage.ancestors", []) or []
    base_ids = [i for i in dict.fromkeys(i for b in ancestors for i in b["licence_ids"])]
    base_entries = {i: e for i in base_ids if (e := entries.get(i) or ctx.kb.get(i)) is not None}
    for suffix, state, row, ev in _base_duties(ctx, snap, base_entries, list(base_entries)):
        if state == "unchecked":
            unchecked.append(row["detail"])
            unchecked_ev.extend(ev)
            continue
        found.setdefault(suffix, []).append(row["detail"])
        evidence.setdefault(suffix, []).extend(ev)
    for suffix in (
        "prefix_missing",
        "licence_copy_missing",
        "restrictions_not_passed_on",
        "share_alike_mismatch",
    ):
        yield Fact(
            f"derivatives.{suffix}",
            found.get(suffix, []),
            tuple(dict.fromkeys(evidence.get(suffix, []))),
        )
    yield Fact("derivatives.duties_unchecked", unchecked, tuple(dict.fromkeys(unchecked_ev)))


def _output_terms() -> frozenset[str]:
    return frozenset(k for k, v in vocabulary("restrictions").items() if v.get("output_use"))


def _evidence_of(ctx: Context, names: Iterable[str]) -> tuple[Evidence, ...]:
    found: dict[Evidence, None] = {}
    for name in names:
        fact = ctx.facts.get(name)
        for ev in fact.evidence if fact is not None else ():
            found.setdefault(ev, None)
    return tuple(found)
