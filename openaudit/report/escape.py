"""Untrusted text made safe for each output: terminal, Markdown, HTML, CSV.

Everything a card, file, tag or path supplies is data. Two things are removed from
every human-readable output: control characters (C0, DEL, C1, and whole ESC/CSI/OSC
sequences, which can retitle a terminal or hide text) and line breaks inside a value
(which would break a table row). Markdown then gets every character that could start
markup backslash-escaped, so a card can neither open a tag, a link, an image, a code
span nor a new table cell; HTML output is escaped by Jinja's autoescape. Links are
only ever built from http(s) URLs: any other scheme (`javascript:`, `data:`,
`vbscript:` ...) is shown as text, never as a target.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

#: ESC sequences first (CSI ... final byte; OSC/DCS/APC/PM/SOS ... BEL or ST), then lone controls.
_ESCAPE_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]P^_X][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]?"
)
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_SPACES = re.compile(r"[\t\n\r]+")
#: Characters that open or close inline Markdown (HTML, entities, links, images, code, emphasis,
#: table cells, strikethrough) or an email autolink: always escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~@#])")
#: Bare-URL autolinks (GFM): break `scheme://` and `www.` so no link is born from text.
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)")
#: What makes a block when a value starts a line (heading, list, quote, rule, setext).
_MD_LINE_START = re.compile(r"^(\d{0,9})([+\-=>!.)])")
_SAFE_SCHEMES = frozenset({"http", "https"})


def clean(value: object) -> str:
    """Text without control characters or line breaks: safe for a terminal and one table cell."""
    text = _ESCAPE_SEQUENCES.sub("", str(value))
    text = _CONTROLS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def md(value: object) -> str:
    """Inline Markdown text that renders as exactly these characters and never as markup."""
    text = _MD_SPECIAL.sub(r"\\\1", clean(value))
    text = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), text)
    return _MD_LINE_START.sub(r"\1\\\2", text)


def safe_url(value: object) -> str | None:
    """An http(s) URL fit for a link target, percent-encoded; None for anything else."""
    text = clean(value)
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        return None
    # Keep the URL's own structure; encode what could end a Markdown link or break an attribute.
    return quote(text, safe="/:?#[]@!$&'*+,;=%~-._")


def md_link(text: object, url: object) -> str:
    """`[text](url)` when the URL is http(s); the text alone otherwise."""
    target = safe_url(url) if url else None
    label = md(text)
    if target is None:
        return label
    target = target.replace("(", "%28").replace(")", "%29").replace("'", "%27")
    return f"[{label}](<{target}>)"


def csv_cell(value: object) -> str:
    """A spreadsheet cell that a spreadsheet will not run as a formula."""
    text = clean(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
