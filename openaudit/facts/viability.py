"""Viability facts: security scans, activity, adoption, successors, and whether it is a re-upload.

These decide no licence and no openness, but a reviewer weighs them before depending on a
model: a file the Hub's scanners flag, a repository abandoned or superseded (`new_version`),
or a re-upload whose publisher is not the rights holder (whose own repo's terms then govern).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from openaudit.cardtext import HF_MODEL_LINK
from openaudit.facts.context import Context
from openaudit.model import Fact

#: Scan levels the Hub reports for files it found nothing wrong with.
_HARMLESS = frozenset({"safe", "innocuous", "none", ""})
_REUPLOAD = re.compile(
    r"\bre-?upload|\bmirror(?:ed)?\s+(?:of|from)|\boriginal\s+(?:model|repo(?:sitory)?|weights|model\s+card)\b"
    r"|\bcopy\s+of\b|\buploaded\s+(?:on\s+behalf|for)\b",
    re.I,
)


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    info = snap.info
    status = info.get("securityRepoStatus")
    if isinstance(status, Mapping):
        files = status.get("filesWithIssues") or []
        issues = [
            {"path": str(f.get("path", "")), "level": str(f.get("level", ""))}
            for f in files
            if isinstance(f, Mapping) and str(f.get("level", "")).lower() not in _HARMLESS
        ]
        ev = (ctx.cite_api(snap, "securityRepoStatus", status),)
        yield Fact("viability.security_scanned", bool(status.get("scansDone", True)), ev)
        yield Fact("viability.security_issues", issues, ev)
    for key, name in (
        ("lastModified", "viability.last_modified"),
        ("createdAt", "viability.created"),
        ("downloads", "viability.downloads"),
        ("likes", "viability.likes"),
        ("childrenModelCount", "viability.children"),
    ):
        value = info.get(key)
        if value is not None:
            yield Fact(name, value, (ctx.cite_api(snap, key, value),))
    meta = ctx.card(snap).metadata
    new_version = meta.get("new_version")
    if isinstance(new_version, str) and new_version.strip():
        yield Fact(
            "viability.new_version",
            new_version.strip(),
            (ctx.cite_metadata(snap, "new_version", new_version),),
        )
    yield Fact("viability.reupload_of", *_reupload(ctx, snap))


def _reupload(ctx: Context, snap: Any) -> tuple[list[str], tuple[Any, ...]]:
    """Other owners' repos the card calls the original: the publisher may not hold the rights."""
    owner = snap.ref.repo_id.split("/", 1)[0].lower()
    found: dict[str, Any] = {}
    for number, line in enumerate(ctx.card(snap).text.splitlines(), 1):
        if not _REUPLOAD.search(line):
            continue
        for m in HF_MODEL_LINK.finditer(line):
            repo_id = m.group(1).rstrip(".,;:)")
            if repo_id.split("/", 1)[0].lower() != owner:
                found.setdefault(repo_id, ctx.cite_file(snap, "README.md", number, line.strip()))
    return list(found), tuple(found.values())
