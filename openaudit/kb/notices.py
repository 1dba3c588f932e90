"""Licence notices: statements that name a licence without holding its text.

"Licensed under the Apache License, Version 2.0", "Llama 2 is licensed under the LLAMA 2
Community License", an `SPDX-License-Identifier:` line, a "see LICENSE" pointer with a
name. Like licensee's reference matcher, such a statement identifies the licence it
names, but only by name: the terms read are those of the licence's standard text, which
the file does not hold, so a notice is weaker evidence than a text (method `notice`).

A name is resolved exactly, through the knowledge base's ids, SPDX ids, names and aliases
(the same lookup as a card's declared value), trying the longest run of words first. A
name followed by a version the lookup did not consume is refused, so "Llama 3.2" can
never come out as Llama 2 or as a bare family: the version the words name is the version
identified, or nothing is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: Words that open a licence statement. Bounded, so a hostile file costs linear time.
_TRIGGER = re.compile(
    r"spdx-license-identifier\s*:"
    r"|\b(?:dual[- ]?)?licen[cs]ed\s+(?:under|as|with)\b"
    r"|\b(?:released|distributed|available|published|provided|offered)\s+under\b"
    r"|\bunder\s+the\s+terms\s+of\b"
    r"|\bsubject\s+to\s+the\s+terms\s+of\b"
    r"|\bgoverned\s+by\b"
    r"|\buses?\s+the\b(?=[^.\n]{0,40}\blicen[cs]e)"
    r"|^\s*licen[cs]e\s*:",
    re.IGNORECASE | re.MULTILINE,
)
#: A statement ends at a sentence end (a period not inside a version number) or a blank line.
_END = re.compile(r"\.(?!\s{0,2}\d)|\n\s*\n|;")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[.+\-][A-Za-z0-9]+)*\+?")
_VERSION = re.compile(r"^(?:v|version)?\d+(?:\.\d+)*\+?$", re.IGNORECASE)
_CHOICE = re.compile(r"\b(?:or|either|dual|choice|option|alternatively)\b", re.IGNORECASE)
#: Words per statement read after a trigger, and the longest name tried.
_STATEMENT_WORDS = 40
_NAME_WORDS = 9
#: Statements read per text.
_MAX_STATEMENTS = 200
#: Words of the paragraph around a statement above which it is a licence's prose, not a notice.
_PARAGRAPH_WORDS = 90
#: Names too generic to identify anything by themselves.
_NOT_NAMES = frozenset({"other", "unknown", "license", "licence", "the", "a", "this"})


@dataclass(frozen=True)
class Notice:
    """One licence named by a statement."""

    licence_id: str
    #: 1-based line of the name.
    line: int
    #: The statement, as written (bounded).
    quote: str
    #: Operator joining it to the previous name of the same statement ("OR" for a choice).
    operator: str
    #: Character offsets of the statement in the text.
    start: int
    end: int


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_notices(
    text: str, lookup: Callable[[str], str | None], *, limit: int = 20
) -> list[Notice]:
    """Every licence named by a statement in `text`, in order, at most `limit`."""
    out: list[Notice] = []
    pos = 0
    # Bounded in statements read, not only in notices found: a hostile file of a hundred
    # thousand "licensed under" costs no more than a few hundred.
    for _ in range(_MAX_STATEMENTS):
        if len(out) >= limit:
            break
        trigger = _TRIGGER.search(text, pos)
        if trigger is None:
            break
        stop = _END.search(text, trigger.end(), trigger.end() + 600)
        end = stop.start() if stop else min(len(text), trigger.end() + 600)
        statement = text[trigger.start() : end]
        if _paragraph_words(text, trigger.start()) > _PARAGRAPH_WORDS:
            # A licence's own prose ("... distributed under the GNU General Public License
            # (GPL), the law of ...") is not a notice: notices stand in short paragraphs.
            pos = max(end, trigger.end())
            continue
        names = _names(text[trigger.end() : end], lookup)
        choice = bool(_CHOICE.search(statement))
        for i, (licence_id, offset) in enumerate(names):
            at = trigger.end() + offset
            op = "OR" if choice and i else "AND"
            quote = " ".join(statement.split())[:300]
            out.append(Notice(licence_id, _line(text, at), quote, op, trigger.start(), end))
        pos = max(end, trigger.end())
    return out


def _paragraph_words(text: str, at: int) -> int:
    """Words in the paragraph (between blank lines) holding offset `at`, bounded."""
    start = max(text.rfind("\n\n", max(0, at - 4000), at), at - 4000, 0)
    stop = text.find("\n\n", at, at + 4000)
    return len(text[start : stop if stop >= 0 else at + 4000].split())


def _names(span: str, lookup: Callable[[str], str | None]) -> list[tuple[str, int]]:
    """Licence names in a statement: the longest run of words the lookup resolves."""
    raw = [(m.group(0), m.start()) for m in _WORD.finditer(span)][:_STATEMENT_WORDS]
    words: list[tuple[str, int]] = []
    for w, at in raw:
        if words and words[-1][0].lower() in ("v", "ver") and w[:1].isdigit():
            words[-1] = (words[-1][0] + w, words[-1][1])  # "v. 2.0" is "v2.0"
        else:
            words.append((w, at))
    found: list[tuple[str, int]] = []
    i = 0
    while i < len(words):
        hit = None
        for n in range(min(_NAME_WORDS, len(words) - i), 0, -1):
            name = " ".join(w for w, _ in words[i : i + n])
            if n == 1 and name.lower() in _NOT_NAMES:
                continue
            follower = " ".join(w for w, _ in words[i + n : i + n + 2])
            if _VERSION.match(follower.split(" ")[0] if follower else "") or _VERSION.match(
                follower.replace(" ", "")
            ):
                continue  # "Llama 3.2": a name without its version is another licence
            resolved = lookup(name)
            if resolved is not None:
                hit = (resolved, n)
                break
        if hit is None:
            i += 1
            continue
        if hit[0] not in (f for f, _ in found):
            found.append((hit[0], words[i][1]))
        i += hit[1]
    return found
