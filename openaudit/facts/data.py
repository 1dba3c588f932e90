"""Training-data facts: which datasets the card names, whether they can be had, and on what terms.

Openness frameworks ask whether the training data is disclosed and available; licence review
asks whether a dataset's terms (non-commercial, share-alike) reach the model. Both need the
same facts: each named dataset, whether the Hub serves it (exists, gated, removed), and its
licence read with the knowledge base exactly as a model's is. A card that only describes its
data in prose is recorded as such, so "named" and "described" stay distinguishable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openaudit.cardtext import body_lines
from openaudit.facts.context import Context, pinned
from openaudit.facts.licence import kb_evidence, read_snapshot, resolve_name, terms
from openaudit.kb.datasets import datasets_named, known_datasets
from openaudit.model import Evidence, Fact, Snapshot

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_HF_DATASET_LINK = re.compile(
    r"https?://(?:www\.)?huggingface\.co/datasets/([A-Za-z0-9][\w.-]*/[\w.-]+)"
)
#: Headings under which cards describe their training data.
DATA_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s*)?(?:training|pre-?training|fine-?tuning|instruction[- ]tuning)?\s*"
    r"(?:data(?:sets?)?|corpus|corpora|data\s+sources?|data\s+mix(?:ture)?)\s*(?:and\s+\w+)?$"
    r"|^training\s+(?:data|dataset|datasets|corpus)\b"
    r"|^data\s+(?:collection|sources?|overview|card)\b",
    re.IGNORECASE,
)
#: A sentence saying what the weights were trained on, naming some kind of data.
TRAINED_ON = re.compile(
    r"\b(?:pre-?|post-?)?(?:trained|fine[- ]?tuned|instruction[- ]tuned|tuned|fit(?:ted)?)\s+"
    r"(?:\w+\s+){0,3}?"
    r"(?:on|with|using)\s+[^.]{0,160}?\b(?:data|datasets?|corpus|corpora|tokens|images|documents|"
    r"instructions|conversations|dialogues|examples|pairs|texts?|code)\b",
    re.IGNORECASE,
)
_ADVICE = re.compile(r"\byou\b|\byour\b|\bcan be\b|\bmay be\b|\bshould be\b", re.IGNORECASE)
#: Words of prose below which a section names nothing a reviewer could follow.
MIN_SECTION_WORDS = 12
#: A sentence that names where data came from: a short section holding one is a description
#: ("70K conversations collected from ShareGPT.com"), whatever its length.
NAMES_SOURCE = re.compile(
    r"\b(?:collected|sourced|scraped|gathered|crawled|drawn|taken|derived|obtained|curated|"
    r"generated|distilled)\s+(?:\w+\s+){0,2}?from\b"
    r"|\b[\w-]+\.(?:com|org|net|io|ai)\b|https?://"
    r"|\b(?:dataset|corpus|corpora|conversations|dialogues|instructions)\b",
    re.IGNORECASE,
)


def headings(text: str) -> list[tuple[int, int, str]]:
    """Markdown headings as (line, level, text), skipping fenced code and the front matter."""
    out: list[tuple[int, int, str]] = []
    fenced = False
    lines = text.splitlines()
    for number, line in body_lines(text):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            title = re.sub(r"[*_`:]+", "", m.group(2)).strip()
            out.append((number, len(m.group(1)), title))
        elif not fenced and _bare_heading(lines, number):
            # A card stored as rendered text has lost its `#`: a short line standing alone is one.
            out.append((number, 2, line.strip().strip("*_:")))
    return out


def _bare_heading(lines: list[str], number: int) -> bool:
    line = lines[number - 1].strip()
    if (
        not line
        or len(line.split()) > 4
        or line[-1] in ".,;!?)"
        or line.startswith(("-", "*", "|", "<", ">", "!", "["))
    ):
        return False
    before = lines[number - 2].strip() if number >= 2 else ""
    after = lines[number].strip() if number < len(lines) else ""
    return not before and not after


def section_text(text: str, line: int, level: int) -> str:
    """The prose from a heading to the next heading of the same or a higher level."""
    lines = text.splitlines()
    body: list[str] = []
    for index, raw in enumerate(lines[line:], line + 1):
        m = re.match(r"^(#{1,6})\s", raw)
        if (m and len(m.group(1)) <= level) or (
            not m and level >= 2 and _bare_heading(lines, index)
        ):
            break
        body.append(raw)
    return "\n".join(body)


def _named(ctx: Context, snap: Snapshot) -> dict[str, dict[str, Any]]:
    meta = ctx.card(snap).metadata
    named: dict[str, dict[str, Any]] = {}

    def add(repo_id: str, source: str, ev: Evidence) -> None:
        repo_id = repo_id.strip().rstrip(".,;:)")
        if not repo_id:
            return
        entry = named.setdefault(repo_id, {"sources": [], "evidence": []})
        if source not in entry["sources"]:
            entry["sources"].append(source)
        entry["evidence"].append(ev)

    raw = meta.get("datasets")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    for value in values:
        if isinstance(value, str):
            add(value, "card", ctx.cite_metadata(snap, "datasets", value))
    for tag in snap.info.get("tags") or ():
        if isinstance(tag, str) and tag.startswith("dataset:"):
            add(tag.split(":", 1)[1], "tag", Evidence("tag", "tags", tag, snap.url()))
    text = ctx.card(snap).text
    for number, line in enumerate(text.splitlines(), 1):
        for m in _HF_DATASET_LINK.finditer(line):
            add(m.group(1), "prose", ctx.cite_file(snap, "README.md", number, line.strip()))
    for number, line in body_lines(text):
        # A well-known dataset named in prose ("the Stanford Alpaca dataset") resolves to its Hub id.
        for known in datasets_named(line):
            add(known.id, "prose-name", ctx.cite_file(snap, "README.md", number, line.strip()))
    return named


def _known_licence(ctx: Context, repo_id: str, row: dict[str, Any]) -> list[Evidence]:
    """The licence the table of well-known datasets gives a dataset named only in prose."""
    known = next((d for d in known_datasets() if d.id == repo_id), None)
    if known is None:
        return []
    entries = resolve_name(known.licence, ctx.kb)
    row["licence_ids"] = [e.id for e in entries]
    row["declared_licences"] = [known.licence]
    row["terms"] = [terms(e) for e in entries]
    row["licence_known"] = bool(entries) and all(e.kind != "unknown" for e in entries)
    row["licence_from"] = "licenses/datasets/known.yml"
    return [
        Evidence("knowledge-base", "licenses/datasets/known.yml", known.evidence[:200]),
        *(kb_evidence(e) for e in entries),
    ]


def _availability(ctx: Context, repo_id: str) -> tuple[str, Snapshot | None, str]:
    """ "available", "gated", "not-found", "unreadable" or "not-followed", with the snapshot."""
    snap = ctx.bundle.related.get(f"dataset:{repo_id}")
    if snap is not None:
        gated = snap.info.get("gated")
        return ("gated" if gated else "available"), snap, ""
    for p in ctx.bundle.problems:
        if p.subject in (f"dataset:{repo_id}", repo_id):
            if p.reason in ("not-found", "revision-not-found", "disabled"):
                return "not-found", None, f"{p.reason}: {p.detail}"
            if p.reason.startswith("gated") or p.reason == "access-denied":
                return "gated", None, f"{p.reason}: {p.detail}"
            return "unreadable", None, f"{p.reason}: {p.detail}"
    if not _REPO_ID.match(repo_id):
        return "not-found", None, "not a Hub dataset id"
    return "not-followed", None, "named only in prose, or datasets were not fetched"


def extract(ctx: Context) -> Iterator[Fact]:
    root = ctx.bundle.root
    if root is None:
        return
    named = _named(ctx, root)
    datasets: list[dict[str, Any]] = []
    evidence: list[Evidence] = []
    for repo_id, claim in named.items():
        status, snap, detail = _availability(ctx, repo_id)
        row: dict[str, Any] = {
            "id": repo_id,
            "source": claim["sources"],
            "status": status,
            "available": status == "available",
            "detail": detail,
            "licence_ids": [],
            "terms": [],
            "licence_known": False,
            "declared_licences": [],
            **pinned(snap),
        }
        evidence.extend(claim["evidence"])
        if snap is not None:
            lic = read_snapshot(ctx, snap)
            row["licence_ids"] = lic.ids
            row["declared_licences"] = [d["value"] for d in lic.declared]
            row["terms"] = lic.terms
            row["licence_known"] = bool(lic.entries) and all(
                t["kind"] != "unknown" for t in lic.terms
            )
            evidence.extend(lic.cite)
            evidence.extend(kb_evidence(e) for e in lic.entries)
            if "gated" in snap.info:
                evidence.append(ctx.cite_api(snap, "gated", snap.info.get("gated")))
        elif status == "not-followed":
            evidence.extend(_known_licence(ctx, repo_id, row))
        datasets.append(row)
    ev = tuple(evidence)
    yield Fact("data.datasets", datasets, ev)
    yield Fact("data.named", [d["id"] for d in datasets], ev)
    yield Fact("data.available", [d["id"] for d in datasets if d["available"]], ev)
    yield Fact(
        "data.unavailable",
        [f"{d['id']} ({d['status']})" for d in datasets if not d["available"]],
        ev,
    )
    yield Fact("data.all_available", bool(datasets) and all(d["available"] for d in datasets), ev)
    yield Fact(
        "data.licences", list(dict.fromkeys(i for d in datasets for i in d["licence_ids"])), ev
    )
    yield Fact("data.terms", _unique_terms(datasets), ev)
    yield Fact(
        "data.licence_unknown",
        [
            d["id"]
            for d in datasets
            if d["status"] in ("available", "gated") and not d["licence_known"]
        ],
        ev,
    )
    nc = [
        f"{d['id']}: {', '.join(t['id'] for t in d['terms'] if t['commercial_use'] == 'prohibited')}"
        for d in datasets
        if any(t["commercial_use"] == "prohibited" for t in d["terms"])
    ]
    unread = [d["id"] for d in datasets if d["status"] == "unreadable"]
    if unread and not nc:  # an unread dataset may forbid it: not known, rather than none
        yield Fact("data.noncommercial", None, ev, note=f"not read: {', '.join(unread)}")
    else:
        yield Fact("data.noncommercial", nc, ev if nc else ())

    text = ctx.card(root).text
    section: dict[str, Any] | None = None
    for line, level, title in headings(text):
        if DATA_HEADING.search(title):
            body = section_text(text, line, level)
            words = len(re.findall(r"\w+", body))
            names = words >= 3 and bool(NAMES_SOURCE.search(body))
            if section is None or words > section["words"]:
                section = {"heading": title, "line": line, "words": words, "names_source": names}
    if section is not None:
        cite = (ctx.cite_file(root, "README.md", section["line"], f"## {section['heading']}"),)
        yield Fact("data.prose_section", section, cite)
    else:
        yield Fact("data.prose_section", None)
        cite = (Evidence("file", "README.md", "no training-data section", root.url("README.md")),)
    mentions = _trained_on(text)
    mention_ev = tuple(ctx.cite_file(root, "README.md", n, excerpt) for n, excerpt in mentions[:3])
    yield Fact("data.prose_mentions", [excerpt for _, excerpt in mentions], mention_ev)
    # Counted by content, not length: a one-line section naming its source describes the data.
    described = (
        section is not None and (section["words"] >= MIN_SECTION_WORDS or section["names_source"])
    ) or bool(mentions)
    yield Fact("data.described", described, cite + mention_ev)
    yield Fact("data.disclosed", bool(datasets) or described, ev + cite + mention_ev)


def _trained_on(text: str) -> list[tuple[int, str]]:
    """Lines outside the front matter that say what the model was trained on."""
    out: list[tuple[int, str]] = []
    for number, line in body_lines(text):
        m = TRAINED_ON.search(line)
        if m and not _ADVICE.search(line[max(0, m.start() - 40) : m.end()]):
            out.append((number, m.group(0)[:200]))
    return out


def _unique_terms(datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for d in datasets:
        for t in d["terms"]:
            seen.setdefault(t["id"], t)
    return list(seen.values())
