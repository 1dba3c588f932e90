"""What a published scorecard says about one model, as plain data every format renders.

The Markdown scorecards, the HTML site, the CSV and the terminal table all read this one
view, so they use the same words: a status is named the same way everywhere, OSAID is in
words, and "none" means no licence everywhere. Values stay raw here (untrusted text
included); each format escapes them for itself (`report.escape`, Jinja autoescape).
Nothing here judges: statuses come from the verdict, licence terms from the knowledge base.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openaudit.model import DIMENSIONS, STATUSES, Evidence, Finding, Problem, Verdict

#: OSAID verdicts in words, the same in every format.
OSAID_WORDS: Mapping[str, str] = {
    "conformant": "conformant",
    "not-conformant": "not conformant",
    "insufficient-information": "insufficient information",
}
NO_LICENCE = "none"

#: What each status means to a reader, for legends.
STATUS_MEANINGS: Mapping[str, str] = {
    "open": "free terms, or openly available without agreement",
    "allowed": "commercial use granted with ordinary notice duties only",
    "restricted": "a grant with use restrictions, thresholds or non-commercial terms",
    "conditional": "commercial use only under conditions (thresholds, use policy, naming duties)",
    "gated": "weights behind an agreement or approval on the Hub",
    "partial": "some of it is disclosed or available, not all",
    "closed": "no grant, or nothing disclosed",
    "prohibited": "commercial use is not allowed",
    "absent": "no weight files in the repository",
    "unknown": "the evidence read does not decide it (the reason is given)",
}


def title(dimension: str) -> str:
    """A dimension's heading: generic, so a dimension added to model.DIMENSIONS shows everywhere."""
    return dimension.replace("_", " ").capitalize()


def openness(v: Verdict) -> int:
    """Points for sorting a leaderboard: 2 for a dimension's most open status, 1 for the next."""
    if not v.audited:
        return -1
    points = 0
    for d in v.dimensions:
        order = STATUSES.get(d.name, ())
        if d.status in order[:2] and d.status != "unknown":
            points += 2 - order.index(d.status)
    return points


def sort_key(v: Verdict) -> tuple[int, int, int, str]:
    osaid = {"conformant": 0, "insufficient-information": 1}.get(v.osaid, 2)
    # MOF Class I is the most complete release; None (unclassified) sorts last.
    return (-openness(v), osaid, v.mof_class or 4, v.id.lower())


def complete(v: Verdict) -> bool:
    """Audited with every piece of evidence read (the verdict's own flag when it has one)."""
    flag = getattr(v, "complete", None)
    if isinstance(flag, bool):
        return flag
    return v.audited and not v.errors


@dataclass(frozen=True)
class Term:
    """One condition or restriction of a licence, with its plain meaning and quotes."""

    licence: str
    kind: str  # "condition" or "restriction"
    name: str
    value: str
    meaning: str
    #: (quote, url) pairs from the knowledge base.
    quotes: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    url: str | None
    commercial_use: str
    kind: str
    osi_approved: bool
    notes: str
    terms: tuple[Term, ...]


@dataclass
class EvidenceList:
    """Each source once, numbered in order of first citation."""

    items: list[Evidence] = field(default_factory=list)
    _index: dict[tuple[str, str, str | None], int] = field(default_factory=dict)

    def cite(self, evidence: Iterable[Evidence]) -> list[int]:
        numbers: list[int] = []
        for ev in evidence:
            key = (ev.source, ev.locator, ev.url)
            if key not in self._index:
                self.items.append(ev)
                self._index[key] = len(self.items)
            n = self._index[key]
            if n not in numbers:
                numbers.append(n)
        return numbers


@dataclass(frozen=True)
class Row:
    """A dimension (or framework) line: status, a one-line reason, rules and evidence numbers."""

    name: str
    title: str
    status: str
    reason: str
    rules: tuple[str, ...]
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Card:
    verdict: Verdict
    rows: tuple[Row, ...]
    frameworks: tuple[Row, ...]
    mof_progress: Mapping[str, float] | None
    osai_index: tuple[tuple[str, str], ...]
    licences: tuple[Licence, ...]
    lineage: Mapping[str, Any]
    costs: tuple[tuple[str, str], ...]
    viability: tuple[tuple[str, str], ...]
    unknowns: tuple[str, ...]
    problems: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def id(self) -> str:
        return self.verdict.id

    @property
    def complete(self) -> bool:
        return complete(self.verdict)

    @property
    def commit_url(self) -> str | None:
        """The audited commit's tree on the Hub, when some evidence links to it."""
        v = self.verdict
        if not v.revision:
            return None
        suffix = f"/{v.id}/tree/{v.revision}"
        for f in (*(f for d in v.dimensions for f in d.findings), *v.findings):
            for e in f.evidence:
                if e.url and e.url.endswith(suffix):
                    return e.url
        return None


def _deciding(findings: Iterable[Finding], status: str) -> list[Finding]:
    """The findings that proposed the status the dimension took (else all that spoke)."""
    found = list(findings)
    chosen = [f for f in found if f.status == status]
    return chosen or [f for f in found if f.outcome in ("fail", "unknown")] or found


def _row(ev: EvidenceList, name: str, status: str, reason: str, findings: Iterable[Finding]) -> Row:
    chosen = _deciding(findings, status)
    cites = ev.cite(e for f in chosen for e in f.evidence)
    return Row(
        name,
        title(name),
        status,
        reason,
        tuple(dict.fromkeys(f.rule for f in chosen)),
        tuple(cites),
    )


def _frameworks(v: Verdict, ev: EvidenceList) -> tuple[Row, ...]:
    osaid = [f for f in v.findings if f.dimension == "osaid"]
    decisive = [f for f in osaid if f.outcome in ("fail", "unknown")] or osaid
    reason = decisive[0].message if decisive else "No OSAID rule decided."
    rows = [_row(ev, "osaid", OSAID_WORDS.get(v.osaid, v.osaid), reason, decisive[:2])]
    mof = [f for f in v.findings if f.dimension == "mof"]
    label = f"Class {'I' * (v.mof_class or 0)}" if v.mof_class else "unclassified"
    mof_reason = next((f.message for f in mof if "blocked" in f.rule), "")
    rows.append(_row(ev, "mof", label, mof_reason or (mof[0].message if mof else ""), mof[:1]))
    return tuple(rows)


@functools.cache
def _kb() -> Any:
    from openaudit.kb import load_kb

    return load_kb()


def licence_terms(ids: Iterable[str]) -> tuple[Licence, ...]:
    """Each licence's terms in plain words with their quotes, from the knowledge base."""
    from openaudit.kb import term_meanings

    meanings = term_meanings()
    out = []
    for licence_id in dict.fromkeys(ids):
        entry = _kb().get(licence_id)
        if entry is None:
            continue
        terms = []
        for kind, rules in (("condition", entry.conditions), ("restriction", entry.restrictions)):
            for rule in rules:
                quotes = tuple(
                    dict.fromkeys(
                        (e.excerpt, e.url) for n, e in entry.term_evidence if n == rule.name
                    )
                )
                value = f"{rule.value:,}" if isinstance(rule.value, int) else str(rule.value or "")
                terms.append(
                    Term(entry.id, kind, rule.name, value, meanings.get(rule.name, ""), quotes)
                )
        out.append(
            Licence(
                entry.id,
                entry.name,
                entry.url,
                entry.commercial_use,
                entry.kind,
                entry.osi_approved,
                entry.notes,
                tuple(terms),
            )
        )
    return tuple(out)


def _lineage(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "relation": d.get("relation"),
        "bases": [
            (
                b.get("id", ""),
                ", ".join(b.get("licence_ids") or ())
                or (NO_LICENCE if b.get("readable") else "not read"),
            )
            for b in d.get("base_licences") or ()
            if isinstance(b, Mapping)
        ],
        "datasets": [
            (
                x.get("id", ""),
                ", ".join(x.get("licence_ids") or ())
                or (NO_LICENCE if x.get("status") == "available" else "not read"),
                x.get("status", ""),
            )
            for x in d.get("dataset_licences") or ()
            if isinstance(x, Mapping)
        ],
    }


def _costs(d: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    params = d.get("parameters")
    if isinstance(params, int):
        mem = d.get("memory_gb") or {}
        text = f"{params:,}"
        if isinstance(mem, Mapping) and mem:
            text += (
                f"; memory about {mem.get('bits_16')} GB at 16 bits, "
                f"{mem.get('bits_8')} GB at 8, {mem.get('bits_4')} GB at 4"
            )
        out.append(("Parameters", text))
    formats = d.get("weight_formats")
    if formats:
        out.append(("Weight formats", ", ".join(map(str, formats))))
    pickled = d.get("pickle_files")
    if pickled:
        out.append(("Pickle weights (can run code when loaded)", ", ".join(map(str, pickled[:5]))))
    if d.get("trust_remote_code"):
        out.append(("Custom code", "loading needs trust_remote_code (runs the repository's code)"))
    issues = d.get("security_issues")
    scanned = d.get("security_scanned")
    if issues:
        found = "; ".join(
            f"{i.get('path')}: {i.get('level')}" for i in issues[:5] if isinstance(i, Mapping)
        )
        out.append(("Hub scan", found))
    elif scanned is not None:
        out.append(("Hub scan", "no issue reported" if scanned else "scan not done"))
    return tuple(out)


def _viability(d: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for label, key in (
        ("Last update", "last_modified"),
        ("Downloads", "downloads"),
        ("Likes", "likes"),
        ("Derivatives on the Hub", "derivatives"),
        ("Superseded by (new_version)", "new_version"),
    ):
        value = d.get(key)
        if value is not None:
            out.append((label, f"{value:,}" if isinstance(value, int) else str(value)))
    reupload = d.get("reupload_of")
    if reupload:
        out.append(("Re-upload of", ", ".join(map(str, reupload))))
    return tuple(out)


def problem_groups(problems: Iterable[Problem], repo_id: str | None = None) -> list[str]:
    """Problems grouped by cause: "gated-no-token: 3 not read: a, b, c", not three lines.

    Files of the model itself are named by their path alone (`README.md`, not `owner/name/README.md`).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    prefix = f"{repo_id}/" if repo_id else None
    for p in problems:
        subject = p.subject.removeprefix(prefix) if prefix else p.subject
        groups.setdefault((p.reason, p.detail), []).append(subject)
    out = []
    for (reason, detail), subjects in groups.items():
        named = ", ".join(subjects[:3]) + (
            f" and {len(subjects) - 3} more" if len(subjects) > 3 else ""
        )
        what = f"{len(subjects)} not read" if len(subjects) > 1 else "not read"
        out.append(f"{reason}: {what}: {named}" + (f" ({detail})" if detail else ""))
    return out


def card(v: Verdict) -> Card:
    from openaudit.report.json_format import details

    d = details(v)
    ev = EvidenceList()
    rows = []
    for name in DIMENSIONS:
        try:
            dim = v.dimension(name)
        except KeyError:
            continue
        rows.append(_row(ev, dim.name, dim.status, dim.summary, dim.findings))
    frameworks = _frameworks(v, ev)
    progress = d.get("mof_progress")
    index = d.get("osai_index")
    unknowns = tuple(f"{r.title}: {r.reason}" for r in rows if r.status == "unknown")
    return Card(
        verdict=v,
        rows=tuple(rows),
        frameworks=frameworks,
        mof_progress=progress if isinstance(progress, Mapping) else None,
        osai_index=tuple(index.items()) if isinstance(index, Mapping) else (),
        licences=licence_terms(v.licence_ids),
        lineage=_lineage(d),
        costs=_costs(d),
        viability=_viability(d),
        unknowns=unknowns,
        problems=tuple(problem_groups(v.errors, v.id)),
        evidence=tuple(ev.items),
    )


def short_why(v: Verdict, dimension: str) -> str:
    """The one-line reason of an unknown or restricted dimension, for tables."""
    d = v.dimension(dimension)
    return d.summary
