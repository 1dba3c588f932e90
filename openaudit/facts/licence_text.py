"""What a licence file says beyond the licence it was identified as.

A file identified as MIT is only MIT's terms if its words are MIT's words. Identification
(`openaudit.kb.identify`) reports what differs: words added, removed or changed inside
the matched text, text outside every recognised licence, a partial text whose rest is
missing, a notice that names a licence without holding it. This module turns that into
facts a rule can read and a reviewer can check: each difference quoted with its file and
line numbers, like a diff. A text a person has reviewed (its sha256 listed in
`reviewed_texts`, see `openaudit.kb.loader`) is accepted as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from openaudit.model import LicenseMatch, TextChange


def change_fields(c: TextChange) -> dict[str, Any]:
    """One added, removed or changed run of words, as plain data (facts and the CLI's JSON)."""
    return {
        "kind": c.kind,
        "lines": list(c.lines),
        "reference_lines": list(c.reference_lines),
        "text": c.text,
        "reference_text": c.reference_text,
    }


def sha256_text(text: str) -> str:
    """The hash a reviewer lists in `reviewed_texts` (the UTF-8 bytes of the text as read)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def match_fields(match: LicenseMatch, text: str, reviewed: Iterable[str]) -> dict[str, Any]:
    """The parts of a match the rules read, as plain data."""
    digest = sha256_text(text)
    return {
        "ids": list(match.ids) if match.ids else ([match.license_id] if match.license_id else []),
        "expression": match.expression,
        "coverage": match.coverage,
        "parts": [
            {
                "id": p.license_id,
                "method": p.method,
                "lines": list(p.lines),
                "coverage": p.coverage,
                "quote": p.quote,
            }
            for p in match.parts
        ],
        "outside": [
            {"lines": [a, b], "words": n, "text": _lines(text, a, b)} for a, b, n in match.outside
        ],
        "changes": [change_fields(c) for c in match.changes],
        "text_sha256": digest,
        "reviewed": digest in set(reviewed),
    }


def _lines(text: str, first: int, last: int, limit: int = 300) -> str:
    """The file's own words on those lines, whitespace folded and bounded (a quote)."""
    lines = text.split("\n", last)[first - 1 : last]
    quote = " ".join(" ".join(lines).split())
    return quote if len(quote) <= limit else quote[: limit - 1] + "…"


def _where(path: str, lines: list[int]) -> str:
    return f"{path}:{lines[0]}" if lines[0] == lines[1] else f"{path}:{lines[0]}-{lines[1]}"


def unreviewed_text(files: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each difference of an unreviewed licence file from its reference, quoted with lines.

    Outside text is only judged in the repository's own files: a linked web page has
    navigation around the licence that says nothing about its terms.
    """
    out: list[str] = []
    for f in files:
        if f.get("kind") != "licence" or not f.get("id") or f.get("reviewed"):
            continue
        ref = f.get("reference") or "the reference text"
        for c in f.get("changes") or ():
            where = _where(f["path"], c["lines"])
            ref_at = f"{ref}:{c['reference_lines'][0]}"
            if c["kind"] == "added":
                out.append(f'{where}: added "{c["text"]}" (not in {ref_at})')
            elif c["kind"] == "removed":
                out.append(f'{where}: removed "{c["reference_text"]}" ({ref_at})')
            else:
                out.append(f'{where}: changed "{c["reference_text"]}" ({ref_at}) to "{c["text"]}"')
        if f.get("source") == "file":
            for o in f.get("outside") or ():
                where = _where(f["path"], o["lines"])
                out.append(f'{where}: added outside the licence "{o.get("text", "")}"')
    return out


def partial_texts(files: Iterable[Mapping[str, Any]]) -> list[str]:
    """Licence files holding only the start of a licence: the rest was never read."""
    return [
        f"{f['path']}: {round(100 * float(f.get('coverage') or 0))} % of {f['id']}"
        for f in files
        if f.get("id") and str(f.get("method", "")).startswith("partial")
    ]


def notices(files: Iterable[Mapping[str, Any]]) -> list[str]:
    """Licence files that only name a licence: weaker evidence than its text."""
    return [
        f"{f['path']}:{f['lines'][0]}: names {f['id']}"
        for f in files
        if f.get("id") and f.get("method") == "notice" and f.get("lines")
    ]
