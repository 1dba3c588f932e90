"""Every declaration about the model's terms is a source, and conflicts between them are facts.

The card's `license` field is one declaration among many: `license_name`, `license_link`, the
title of a LICENSE or USE_POLICY file or of the linked text, the gate's prompt and fields, card
metadata such as `commercial: false`, and licence statements in the prose ("released under CC
BY-NC 4.0"). A publisher who writes "non-commercial" in any of them has said so, whatever the
`license` field claims; so each is read, each keeps its evidence, the most restrictive reading is
offered to the rules, and two declarations that disagree are reported with both sides cited.
Which words restrict is data (`licenses/vocabulary/statements.yml`), not code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openaudit.cardtext import MD_LINK, body_lines
from openaudit.facts.context import Context
from openaudit.facts.licence import _LICENCE_FILE, _POLICY_FILE, resolve_name, terms
from openaudit.kb.loader import KnowledgeBaseError, family_words
from openaudit.model import Evidence, Fact, Snapshot
from openaudit.resources import data_dir

#: Bounds on untrusted text: a hostile card cannot make the reading slow or the report huge.
_MAX_LINES = 4000
_MAX_LINE = 600
_MAX_STATEMENTS = 24
_MAX_CONFLICTS = 12
_TITLE_LINES = 3
_CAUTION = {"prohibited": 3, "conditional": 2, "unknown": 1, "allowed": 0}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    restriction: str
    commercial_use: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Vocabulary:
    phrases: tuple[Phrase, ...]
    exceptions: tuple[tuple[str, ...], ...]
    metadata_keys: tuple[str, ...]
    withholding: frozenset[str]
    verbs: tuple[tuple[str, ...], ...]
    other_subjects: frozenset[str]
    headings: frozenset[tuple[str, ...]]


@functools.cache
def vocabulary() -> Vocabulary:
    """`licenses/vocabulary/statements.yml`, checked on load so a typo cannot hide a restriction."""
    import yaml

    from openaudit.kb.loader import use_restrictions

    file = data_dir("licenses") / "vocabulary" / "statements.yml"
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        known = set(use_restrictions()) | {"no-derivatives"}
        phrases = []
        for item in doc["phrases"]:
            if item["restriction"] not in known or item["commercial_use"] not in _CAUTION:
                raise ValueError(f"phrase {item['words']!r}: unknown restriction or status")
            phrases.append(
                Phrase(
                    family_words(item["words"]),
                    item["restriction"],
                    item["commercial_use"],
                    frozenset(item["scopes"]),
                )
            )
        prose = doc["prose"]
        return Vocabulary(
            phrases=tuple(phrases),
            exceptions=tuple(family_words(e) for e in doc["exceptions"]),
            metadata_keys=tuple(doc["metadata"]["keys"]),
            withholding=frozenset(str(v).lower() for v in doc["metadata"]["withholding_values"]),
            verbs=tuple(family_words(v) for v in prose["verbs"]),
            other_subjects=frozenset(prose["other_subjects"]),
            headings=frozenset(family_words(h) for h in prose["headings"]),
        )
    except (OSError, KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"vocabulary/statements.yml: unreadable ({exc})") from None


def _strip_exceptions(words: tuple[str, ...], exceptions: tuple[tuple[str, ...], ...]) -> list[str]:
    out = list(words)
    for exc in exceptions:
        n = len(exc)
        i = 0
        while i + n <= len(out):
            if tuple(out[i : i + n]) == exc:
                out[i : i + n] = ["|"]
            i += 1
    return out


def signals(text: str, scope: str) -> list[Phrase]:
    """The restrictive phrases of `scope` that `text` contains."""
    vocab = vocabulary()
    words = _strip_exceptions(family_words(text[:_MAX_LINE]), vocab.exceptions)
    found: list[Phrase] = []
    for phrase in vocab.phrases:
        if scope not in phrase.scopes:
            continue
        n = len(phrase.words)
        if any(tuple(words[i : i + n]) == phrase.words for i in range(len(words) - n + 1)):
            found.append(phrase)
    return found


def _statement(
    source: str, text: str, found: list[Phrase], ev: Evidence, ids: list[str] | None = None
) -> dict[str, Any]:
    commercial = max((p.commercial_use for p in found), key=_CAUTION.__getitem__, default="unknown")
    short = " ".join(text.split())[:120]
    restrictions = sorted({p.restriction for p in found})
    return {
        "id": f"{source} '{short}' ({', '.join(restrictions or ids or [])})",
        "source": source,
        "text": short,
        "restrictions": restrictions,
        "licence_ids": ids or [],
        "restricted": bool(found),
        "commercial_use": commercial,
        "evidence": ev,
    }


def _names(ctx: Context, snap: Snapshot) -> Iterator[dict[str, Any]]:
    """`license_name` and `license_link` read for their words, whatever `license` says."""
    meta = ctx.card(snap).metadata
    for field in ("license_name", "license_link"):
        value = meta.get(field)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                if field == "license_name" and resolve_name(item, ctx.kb):
                    continue  # a known name is read through its knowledge-base entry
                found = signals(item, "name")
                if found:
                    yield _statement(field, item, found, ctx.cite_metadata(snap, field, item))


def _titles(ctx: Context, snap: Snapshot) -> Iterator[dict[str, Any]]:
    """The first lines of each licence or policy file, and of each licence text behind a link."""
    link = ctx.card(snap).metadata.get("license_link")
    target = link.lstrip("./") if isinstance(link, str) else None
    texts: list[tuple[str, str, Evidence | None]] = []
    for f in snap.files:
        if f.text and (
            _LICENCE_FILE.match(f.path) or _POLICY_FILE.match(f.path) or f.path == target
        ):
            texts.append((f.path, f.text, None))
    if snap is ctx.bundle.root:
        for url, linked in ctx.bundle.linked.items():
            texts.append((url, linked.text, Evidence("url", url, "", url)))
    for path, text, url_ev in texts:
        seen = 0
        for number, line in enumerate(text.splitlines()[:40], 1):
            if not line.strip():
                continue
            seen += 1
            if seen > _TITLE_LINES:
                break
            found = signals(line, "name")
            if found:
                ev = (
                    Evidence("url", url_ev.locator, line.strip()[:200], url_ev.url)
                    if url_ev
                    else ctx.cite_file(snap, path, number, line.strip())
                )
                yield _statement(f"title of {path}", line, found, ev)
                break


def _gate(ctx: Context, snap: Snapshot) -> Iterator[dict[str, Any]]:
    """The gate's prompt, heading, description and field labels (and their options)."""
    meta = ctx.card(snap).metadata
    for key in ("extra_gated_prompt", "extra_gated_heading", "extra_gated_description"):
        value = meta.get(key)
        if isinstance(value, str):
            for line in value.splitlines()[:200]:
                found = signals(line, "text")
                if found:
                    yield _statement("gate prompt", line, found, ctx.cite_metadata(snap, key, line))
    fields = meta.get("extra_gated_fields")
    if isinstance(fields, Mapping):
        for label, spec in list(fields.items())[:100]:
            texts = [str(label)]
            if isinstance(spec, Mapping) and isinstance(spec.get("options"), list):
                texts += [str(o) for o in spec["options"][:50]]
            for text in texts:
                found = signals(text, "text")
                if found:
                    ev = ctx.cite_metadata(snap, "extra_gated_fields", text)
                    yield _statement("gate field", text, found, ev)


def _metadata(ctx: Context, snap: Snapshot) -> Iterator[dict[str, Any]]:
    vocab = vocabulary()
    meta = ctx.card(snap).metadata
    for key in vocab.metadata_keys:
        if key not in meta:
            continue
        value = meta[key]
        if str(value).strip().lower() in vocab.withholding:
            phrase = Phrase(("commercial",), "non-commercial", "prohibited", frozenset())
            yield _statement(
                "metadata", f"{key}: {value}", [phrase], ctx.cite_metadata(snap, key, value)
            )


def _prose(ctx: Context, snap: Snapshot) -> Iterator[dict[str, Any]]:
    """Sentences that name the model's licence, and restrictive words in its terms sections."""
    vocab = vocabulary()
    card = ctx.card(snap)
    in_terms = False
    for count, (number, raw) in enumerate(body_lines(card.text)):
        if count >= _MAX_LINES:
            break
        line = MD_LINK.sub(r"\1", raw[:_MAX_LINE])
        heading = _HEADING.match(line)
        if heading:
            title = family_words(heading.group(1))
            # "## Dataset license" speaks of the data's terms, not the model's.
            in_terms = any(_contains(title, h) for h in vocab.headings) and not any(
                w in vocab.other_subjects for w in title
            )
        named = _prose_licence(ctx, line)
        if named is None and in_terms and not heading:
            named = _bare_licence(ctx, line)
        if named is not None:
            ids, text = named
            ev = ctx.cite_file(snap, "README.md", number, raw.strip())
            yield _statement("prose", text, signals(text, "text"), ev, ids)
            continue
        if in_terms or "licen" in line.lower():
            found = signals(line, "text")
            if found and not _about_something_else(line, vocab):
                ev = ctx.cite_file(snap, "README.md", number, raw.strip())
                yield _statement("prose", line, found, ev)


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _about_something_else(sentence: str, vocab: Vocabulary) -> bool:
    """The words before the verb name a dataset, code, outputs ...: not the model's terms."""
    words = family_words(sentence)
    cut = len(words)
    for verb in vocab.verbs:
        for i in range(len(words) - len(verb) + 1):
            if words[i : i + len(verb)] == verb:
                cut = min(cut, i)
    return any(w in vocab.other_subjects for w in words[:cut])


_UNDER = re.compile(r"\bunder\s+(?:the\s+|a\s+|an\s+)?(.{2,120})", re.IGNORECASE)


def _prose_licence(ctx: Context, line: str) -> tuple[list[str], str] | None:
    """ "<model> is released under <licence>": the knowledge-base ids of the named licence."""
    # "under" first: most lines lack it, and the word scan below is the costly part.
    match = _UNDER.search(line)
    if match is None:
        return None
    vocab = vocabulary()
    words = family_words(line)
    if not any(_contains(words, v) for v in vocab.verbs) or _about_something_else(line, vocab):
        return None
    tail = re.split(r"[,;:()]|\.\s|\.$|\s(?:and|while|but|which|with|for)\s", match.group(1))[0]
    tokens = tail.split()[:8]
    for n in range(len(tokens), 0, -1):
        name = " ".join(tokens[:n]).strip(" .*_`'\"[]")
        if len(name) < 2 or name.lower() in ("the", "same", "this", "its", "our"):
            continue
        entries = resolve_name(name, ctx.kb)
        if entries:
            return [e.id for e in entries], line.strip()
    return None


def _bare_licence(ctx: Context, line: str) -> tuple[list[str], str] | None:
    """A short line under a licence heading that is only a licence's name ("CC-BY-NC-4.0")."""
    name = re.sub(r"^[\s>*_`\-]+|[\s*_`.]+$", "", line)
    if not name or len(name.split()) > 8:
        return None
    entries = resolve_name(name, ctx.kb)
    return ([e.id for e in entries], line.strip()) if entries else None


def statements(ctx: Context, snap: Snapshot) -> list[dict[str, Any]]:
    """Every declaration beyond the `license` field that restricts or names the terms."""
    out: list[dict[str, Any]] = []
    governing = set(ctx.value("licence.ids", []))
    for reader in (_names, _titles, _gate, _metadata, _prose):
        for item in reader(ctx, snap):
            if (
                item["licence_ids"]
                and set(item["licence_ids"]) <= governing
                and not item["restricted"]
            ):
                continue  # prose naming the licence the card declares adds nothing
            if item["id"] not in {s["id"] for s in out}:
                out.append(item)
            if len(out) >= _MAX_STATEMENTS:
                return out
    for item in out:
        if item["licence_ids"]:
            entries = [e for e in (ctx.kb.get(i) for i in item["licence_ids"]) if e is not None]
            named = [terms(e) for e in entries]
            item["restricted"] = item["restricted"] or any(t["restricted"] for t in named)
            item["commercial_use"] = max(
                [item["commercial_use"] if item["restricted"] else "allowed"]
                + [t["commercial_use"] for t in named],
                key=_CAUTION.__getitem__,
            )
    return out


def _readings(ctx: Context, snap: Snapshot) -> list[dict[str, Any]]:
    """What each declared field and identified text says on its own, for conflicts."""
    out: list[dict[str, Any]] = []
    for d, ev in zip(
        ctx.value("licence.declared", []),
        (ctx.facts["licence.declared"].evidence if "licence.declared" in ctx.facts else ()),
        strict=False,
    ):
        if d["field"] not in ("license", "license_name", "tag"):
            continue
        for e in resolve_name(d["value"], ctx.kb):
            t = terms(e)
            if t["kind"] != "unknown":
                out.append({"id": f"{d['field']}: {d['value']}", "terms": t, "evidence": ev})
    files = ctx.facts.get("licence.files")
    for f, ev in zip(ctx.value("licence.files", []), files.evidence if files else (), strict=False):
        entry = ctx.kb.get(f["id"]) if f.get("id") and f.get("kind") == "licence" else None
        if entry is not None and entry.kind != "unknown":
            out.append({"id": f"{f['path']} ({entry.id})", "terms": terms(entry), "evidence": ev})
    return out


def conflicts(ctx: Context, snap: Snapshot, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pairs of declarations where one restricts what the other allows; both sides cited."""
    sides: list[tuple[str, bool, bool, str, Evidence]] = []
    for r in _readings(ctx, snap):
        t = r["terms"]
        sides.append((r["id"], t["restricted"], t["free"], t["commercial_use"], r["evidence"]))
    for s in found:
        free = not s["restricted"] and s["commercial_use"] == "allowed"
        sides.append((s["id"], s["restricted"], free, s["commercial_use"], s["evidence"]))
    out: list[dict[str, Any]] = []
    for a in sides:
        for b in sides:
            stricter = (a[3] == "prohibited" and b[3] in ("allowed", "conditional")) or (
                a[1] and b[2]
            )
            if a is b or not stricter:
                continue
            out.append(
                {
                    "id": f"{a[0]} vs {b[0]}",
                    "restrictive": a[0],
                    "permissive": b[0],
                    "evidence": [a[4], b[4]],
                }
            )
            if len(out) >= _MAX_CONFLICTS:
                return out
    return out


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    found = statements(ctx, snap)
    yield Fact(
        "licence.statements",
        [{k: v for k, v in s.items() if k != "evidence"} for s in found],
        tuple(s["evidence"] for s in found),
    )
    pairs = conflicts(ctx, snap, found)
    yield Fact(
        "licence.declaration_conflicts",
        [{k: v for k, v in c.items() if k != "evidence"} for c in pairs],
        tuple(dict.fromkeys(ev for c in pairs for ev in c["evidence"])),
    )
