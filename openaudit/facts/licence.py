"""Licence facts: what the repo declares, what its licence files say, and the terms that follow.

Declared values (card `license`, `license_name`, `license_link`, the Hub's
`license:` tags) are mapped to knowledge-base entries exactly or by alias,
never fuzzily; licence files are identified by text similarity. When the two
disagree, both licences govern and the disagreement is a fact of its own, so
the rules can only become more cautious, never more open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openaudit.facts.context import Context
from openaudit.model import Evidence, Fact, LicenseEntry, Snapshot

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LICENCE_FILE = re.compile(r"^(licen[cs]e|copying)([._-].*)?$", re.IGNORECASE)
_POLICY_FILE = re.compile(
    r"^(use[_-]?policy|acceptable[_-]?use|responsible[_-]?use)", re.IGNORECASE
)
#: Declared placeholders that name no licence by themselves.
_PLACEHOLDERS = frozenset({"other"})
#: What SPDX allows after `LicenseRef-`; anything else in a declared name becomes `-`.
_REF_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")
_REF_MAX = 64


def licence_ref(name: str) -> str:
    """A declared name the knowledge base lacks, kept visible as an SPDX `LicenseRef-<name>`.

    The reviewer must see what the publisher declared even when its terms are unknown; the
    name is untrusted text, so it is folded to SPDX's idstring characters and bounded.
    """
    folded = _REF_UNSAFE.sub("-", name.strip()).strip("-.")[:_REF_MAX].strip("-.")
    return f"LicenseRef-{folded or 'unnamed'}"


def terms(entry: LicenseEntry) -> dict[str, Any]:
    """The knowledge-base entry as plain data for rule conditions."""
    threshold = next((r.value for r in entry.restrictions if r.name == "user-threshold"), None)
    return {
        "id": entry.id,
        "name": entry.name,
        "spdx": entry.spdx,
        "kind": entry.kind,
        "osi_approved": entry.osi_approved,
        "osaid_compatible": entry.osaid_compatible,
        "commercial_use": entry.commercial_use,
        "restrictions": list(entry.restriction_names),
        "use_restricted": entry.use_restricted,
        "free": entry.free,
        "restricted": entry.restricted,
        "conditions": list(entry.condition_names),
        "user_threshold": threshold,
        "source_file": entry.source_file,
    }


def kb_evidence(entry: LicenseEntry) -> Evidence:
    return Evidence(
        source="knowledge-base",
        locator=entry.source_file or f"licenses/{entry.id}.yml",
        excerpt=f"{entry.id}: kind {entry.kind}, commercial use {entry.commercial_use}",
        url=entry.url,
    )


def resolve_name(value: str, kb: Any) -> list[LicenseEntry]:
    """A declared value to entries: a Hub id, SPDX id, alias, or SPDX expression; [] if unknown."""
    from openaudit.kb.identify import identify_declared

    found = identify_declared(value, kb)
    return [e for e in (kb.get(i) for i in found.ids) if e is not None]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def declared(ctx: Context, snap: Snapshot) -> tuple[list[dict[str, Any]], list[Evidence]]:
    """Every declared licence value with the field it came from."""
    card = ctx.card(snap).metadata
    out: list[dict[str, Any]] = []
    evidence: list[Evidence] = []
    for field in ("license", "license_name", "license_link"):
        for value in _as_list(card.get(field)):
            out.append({"field": field, "value": value})
            evidence.append(ctx.cite_metadata(snap, field, value))
    if not any(d["field"] == "license" for d in out):
        # A card the Hub could not parse still has the Hub's computed tags.
        for tag in snap.info.get("tags") or ():
            if isinstance(tag, str) and tag.startswith("license:"):
                out.append({"field": "tag", "value": tag.split(":", 1)[1]})
                evidence.append(Evidence("tag", "tags", tag, snap.url()))
    return out, evidence


def identify_files(ctx: Context, snap: Snapshot) -> list[dict[str, Any]]:
    """Identify each licence-like file of the repo, the `license_link` target, and, for the
    audited model, the licence texts read behind the card's links."""
    from openaudit.facts.licence_text import match_fields
    from openaudit.kb.identify import identify_text

    link = ctx.card(snap).metadata.get("license_link")
    link_target = link.lstrip("./") if isinstance(link, str) and not _URL.match(link) else None
    texts: list[tuple[str, str, str, bool]] = []
    for f in snap.files:
        is_licence = bool(_LICENCE_FILE.match(f.path)) or f.path == link_target
        is_policy = bool(_POLICY_FILE.match(f.path))
        if (is_licence or is_policy) and f.text:
            texts.append((f.path, f.text, "file", f.truncated))
    if snap is ctx.bundle.root:
        texts.extend((url, linked.text, "url", False) for url, linked in ctx.bundle.linked.items())
    found = []
    for path, text, source, truncated in texts:
        match = ctx.identify(text) if ctx.identify is not None else identify_text(text, ctx.kb)
        entry: dict[str, Any] = {
            "path": path,
            "source": source,
            "id": match.license_id,
            "score": round(float(match.score), 3),
            "threshold": float(match.threshold),
            "kind": match.kind,
            "method": match.method,
            "lines": list(match.lines) if match.lines else None,
            "outside_words": match.outside_words,
            "candidates": [list(c) for c in match.candidates][:3],
            "truncated": truncated,
            "reference": match.reference,
            **match_fields(match, text, getattr(ctx.kb, "reviewed_texts", ())),
        }
        if source == "url":
            linked = ctx.bundle.linked[path]
            entry["sha256"] = linked.sha256
            entry["changed_from"] = linked.previous_sha256
            # Not where the bytes came from (fetched now, or the stored copy offline): like a
            # stored snapshot, the same text is the same evidence. A fetch that failed online
            # is among the model's errors, so a stored copy used then still shows.
        found.append(entry)
    return found


def cite_text(ctx: Context, snap: Snapshot, f: Mapping[str, Any], excerpt: str) -> Evidence:
    """Where an identified text was read: file and lines, or the URL it was fetched from."""
    if f.get("source") == "url":
        return Evidence("url", f["path"], excerpt, f["path"])
    lines = f.get("lines")
    if lines and lines[0] != lines[1]:
        return Evidence(
            "file", f"{f['path']}:{lines[0]}-{lines[1]}", excerpt, snap.url(f["path"], lines[0])
        )
    return ctx.cite_file(snap, f["path"], lines[0] if lines else 1, excerpt)


@dataclass(frozen=True)
class SnapshotLicence:
    """What one snapshot says about its licence: the root's facts and every base's terms.

    Kept separate from `extract` so that a base model or a dataset is read by exactly the same
    logic as the audited model: a derivative compared with its base on different rules would
    make the comparison meaningless.
    """

    declared: list[dict[str, Any]]
    declared_evidence: tuple[Evidence, ...]
    declared_ids: list[str]
    unresolved: list[str]
    link_url: tuple[str, Evidence] | None
    link_missing: tuple[str, Evidence] | None
    files: list[dict[str, Any]]
    files_evidence: tuple[Evidence, ...]
    conflicts: list[dict[str, Any]]
    policies: list[str]
    entries: list[LicenseEntry]
    #: Evidence for the governing ids: the declared fields and the identified files.
    cite: tuple[Evidence, ...]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    @property
    def unidentified_ids(self) -> list[str]:
        """`LicenseRef-<name>` for every declared name the knowledge base does not know."""
        return list(dict.fromkeys(licence_ref(n) for n in self.unresolved))

    @property
    def reported_ids(self) -> list[str]:
        """What the reviewer is shown: known ids, then the declared names kept as LicenseRefs."""
        return self.ids + [i for i in self.unidentified_ids if i not in self.ids]

    @property
    def terms(self) -> list[dict[str, Any]]:
        return [terms(e) for e in self.entries]


def read_snapshot(ctx: Context, snap: Snapshot) -> SnapshotLicence:
    """Declared ids, identified files, conflicts and governing entries of any snapshot."""
    kb = ctx.kb
    values, declared_ev = declared(ctx, snap)
    ids: list[str] = []
    unresolved: list[str] = []
    names = [d["value"] for d in values if d["field"] == "license_name"]
    for d in values:
        if d["field"] not in ("license", "tag"):
            continue
        if d["value"].lower() in _PLACEHOLDERS and names:
            continue  # `license: other` is made precise by `license_name`
        entries = resolve_name(d["value"], kb)
        if entries:
            ids.extend(e.id for e in entries)
        else:
            unresolved.append(d["value"])
    for name in names:
        entries = resolve_name(name, kb)
        if entries:
            ids.extend(e.id for e in entries)
        else:
            unresolved.append(name)
    ids = list(dict.fromkeys(ids))

    link_url: tuple[str, Evidence] | None = None
    link_missing: tuple[str, Evidence] | None = None
    link = ctx.card(snap).metadata.get("license_link")
    if isinstance(link, str) and link.strip():
        if _URL.match(link):
            link_url = (link, ctx.cite_metadata(snap, "license_link", link))
        elif link.lstrip("./") not in snap.file_names:
            link_missing = (link, ctx.cite_metadata(snap, "license_link", link))

    files = identify_files(ctx, snap)
    files_ev = tuple(
        cite_text(ctx, snap, f, f"identified as {f['id'] or 'unknown'} ({f['score']})")
        for f in files
    )
    conflicts: list[dict[str, Any]] = []
    governing = list(ids)
    # Every licence a file holds governs (`MPL-2.0 AND MIT`; for `A OR B` the stricter decides).
    pairs = [(f, i) for f in files if f["kind"] == "licence" for i in f.get("ids") or ()]
    for f, file_id in pairs:
        if file_id in governing:
            continue
        refined = [i for i in governing if _is_family_of(kb, i, file_id)]
        if refined:
            governing = [file_id if i in refined else i for i in governing]
            continue
        if governing and not all(_is_placeholder(kb, i) for i in governing):
            conflicts.append({"declared": list(governing), "file": f["path"], "file_id": file_id})
        governing.append(file_id)
    governing = list(dict.fromkeys(governing))
    if len(governing) > 1:
        # A placeholder ("unknown") adds nothing once a real licence is known.
        governing = [i for i in governing if not _is_placeholder(kb, i)] or governing
    policies = [f["id"] for f in files if f["kind"] == "policy" and f["id"]]
    entries = [e for e in (kb.get(i) for i in governing) if e is not None]
    cite = tuple(declared_ev) + tuple(
        cite_text(ctx, snap, f, f"identified as {f['id']}") for f in files if f["id"] in governing
    )
    return SnapshotLicence(
        declared=values,
        declared_evidence=tuple(declared_ev),
        declared_ids=ids,
        unresolved=unresolved,
        link_url=link_url,
        link_missing=link_missing,
        files=files,
        files_evidence=files_ev,
        conflicts=conflicts,
        policies=policies,
        entries=entries,
        cite=cite,
    )


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    lic = read_snapshot(ctx, snap)
    declared_ev = lic.declared_evidence
    yield Fact("licence.declared", lic.declared, declared_ev)
    yield Fact("licence.declared_ids", lic.declared_ids, declared_ev)
    yield Fact("licence.unresolved_names", lic.unresolved, declared_ev if lic.unresolved else ())
    yield Fact(
        "licence.unidentified_ids", lic.unidentified_ids, declared_ev if lic.unresolved else ()
    )
    if lic.link_url is not None:
        yield Fact("licence.link_url", lic.link_url[0], (lic.link_url[1],))
    if lic.link_missing is not None:
        yield Fact("licence.link_missing", lic.link_missing[0], (lic.link_missing[1],))
    yield Fact("licence.files", lic.files, lic.files_evidence)
    yield from text_facts(ctx, snap, lic.files)
    yield Fact("licence.conflicts", lic.conflicts, declared_ev if lic.conflicts else ())
    policy_ev = tuple(
        ev
        for f, ev in zip(lic.files, lic.files_evidence, strict=True)
        if f["kind"] == "policy" and f["id"]
    )
    yield Fact("licence.policies", lic.policies, policy_ev)
    yield Fact("licence.ids", lic.reported_ids, lic.cite)
    yield Fact("licence.terms", lic.terms, lic.cite + tuple(kb_evidence(e) for e in lic.entries))
    changed = [
        (f, ev)
        for f, ev in zip(lic.files, lic.files_evidence, strict=True)
        if f.get("changed_from")
    ]
    yield Fact(
        "licence.link_changes",
        [
            {"url": f["path"], "sha256": f["sha256"], "previous_sha256": f["changed_from"]}
            for f, _ in changed
        ],
        tuple(ev for _, ev in changed),
    )


def text_facts(ctx: Context, snap: Snapshot, files: list[dict[str, Any]]) -> Iterator[Fact]:
    """Differences from the reference texts, partial texts and notices (facts/licence_text.py)."""
    from openaudit.facts.licence_text import notices, partial_texts, unreviewed_text

    def cite(kinds: Any) -> tuple[Evidence, ...]:
        return tuple(
            cite_text(ctx, snap, f, f"identified as {f['id']} ({f['method']})")
            for f in files
            if f.get("id") and kinds(f)
        )

    unreviewed = unreviewed_text(files)
    yield Fact(
        "licence.unreviewed_text",
        unreviewed,
        cite(lambda f: f.get("changes") or f.get("outside")) if unreviewed else (),
    )
    partial = partial_texts(files)
    yield Fact(
        "licence.partial_texts",
        partial,
        cite(lambda f: f["method"].startswith("partial")) if partial else (),
    )
    named = notices(files)
    yield Fact("licence.notices", named, cite(lambda f: f["method"] == "notice") if named else ())


def _is_placeholder(kb: Any, licence_id: str) -> bool:
    entry = kb.get(licence_id)
    return entry is None or entry.kind == "unknown"


def _is_family_of(kb: Any, family_id: str, member_id: str) -> bool:
    """A family id (kind unknown, like `cc` or `bsd`) is made precise by a member's text."""
    entry = kb.get(family_id)
    return entry is not None and entry.kind == "unknown" and member_id.startswith(family_id)
