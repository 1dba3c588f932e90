"""Licence identification: declared values to knowledge-base ids, licence texts to ids.

Two different questions, two different standards of proof:

* A *declared* value (a card's `license` / `license_name`, a Hub tag, an SPDX
  expression) is a claim the publisher made. It is mapped exactly, by id, SPDX
  id or a knowledge-base alias, and SPDX expressions are parsed with the
  `license-expression` package. Nothing is matched fuzzily: a near miss
  ("Llama 3.1 Licence v2") is reported as unknown, because guessing a publisher's
  claim is how a restricted model ends up labelled open.
* A licence *file* is evidence to recognise. It is compared with the reference
  texts in `licenses/texts/` (listed in `manifest.yml`) after normalisation.

The text method, and why (measured on ../shared/license-texts and the corpus):

* Normalised word 5-gram shingles, hashed. Five words are long enough that
  shared boilerplate between unrelated licences scores low, and short enough that
  one changed word (a version number, a name) costs only five shingles.
* `coverage` = share of the reference's shingles found in the input (containment,
  so a licence appended to a README or preceded by a header is still found).
  `density` = share of the input's shingles, inside the span where the licence was
  found, that belong to the reference (so a reference that is a subset of the
  input's licence, BSD-2 inside BSD-3, loses points for the extra clause).
  `score` = harmonic mean of the two (a Dice coefficient restricted to the span).
  Jaccard over the whole file was rejected: it punishes every README that carries
  a licence, and cannot say where the licence is. A token diff ratio
  (difflib) gave the same ranking about 100 times slower.
* Text outside the span is not judged; it is counted (`outside_words`) and
  `method` says `contained`, so a reviewer knows part of the file was not
  compared (an extra clause appended to a licence would sit there).
* Close variants (Llama 3 / 3.1 / 3.2 / 3.3, CC versions, GPL / LGPL, BSD
  2 / 3 / Clear) share most of their text. When texts of one `family` score within
  `VARIANT_MARGIN` of the best, the manifest's `distinguishing` and `excludes`
  phrases decide; if they cannot, the answer is unknown with the candidates.
* A reference may `require` a phrase (its version line): a close text without it
  is another version of that licence, and is reported as unknown
  (`method="other-version"`) rather than given the terms of the version the
  knowledge base describes.
* A reference whose id is not in the knowledge base (a text kept for recognition
  only, e.g. the 2026 NVIDIA Open Model Agreement) yields `license_id=None` with
  `method="not-in-kb"`, so an unreviewed document never inherits another's terms.

* A file is more than one text. After the best text, the words outside it are matched
  again (`parts`, joined into an SPDX `expression` with `license-expression`: AND, or OR
  when a notice offers the choice). A copy that holds only the start of a reference is
  `partial` with the share found: its end was never read. A statement that names a
  licence without holding it ("Licensed under the Apache License, Version 2.0") is a
  `notice` (openaudit.kb.notices): the name is exact, its version the one written.
* The matched span is then compared word by word with its reference (difflib on the
  normalised words, after taking off the common start and end, so an unchanged copy
  costs a list comparison). Only what normalisation drops may differ (copyright lines,
  years, holders, placeholders) plus a missing title or a missing "how to apply"
  appendix; every other added, removed or changed run is a `TextChange` with its lines,
  and text outside every licence that is not a title or a notice is `outside`. Nothing
  here decides what a change means: the rules treat it as unread terms until a person
  has reviewed the text (openaudit.facts.licence_text).

The index (normalised shingles of every reference text) is built once per
process; identifying one licence file then takes well under a millisecond to a
few milliseconds.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import Any, Protocol

from openaudit.model import (
    DeclaredLicence,
    LicenseEntry,
    LicenseExpression,
    LicenseMatch,
    LicensePart,
    TextChange,
)

#: Words per shingle (see module docstring).
SHINGLE = 5
#: Score at or above which a text is named. Measured: every reference text scores 1.0
#: against itself, reflowed or with a copyright header >= 0.99; the closest wrong
#: variant of any reference scores below 0.9 (BSD-2 vs BSD-3: about 0.89).
THRESHOLD = 0.92
#: Texts of one family scoring within this of the best are told apart by phrases.
VARIANT_MARGIN = 0.06
#: Hits further apart than this (in words) belong to different passages of a file.
GAP = 80
#: Words outside the matched span up to which the whole file counts as the licence.
SLACK_WORDS = 12
#: Candidates examined in detail per input (ranked by coverage first) ...
DETAILED = 8
#: ... as long as this much of them is present (or half the best coverage, if lower).
MIN_COVERAGE = 0.3
#: Share of a reference's start a truncated copy must hold to be named `partial`.
PARTIAL_MIN = 0.5
#: Licence texts looked for in one file, and the words a further one needs at least.
MAX_PARTS = 4
MIN_PART_WORDS = 40
#: Words at the start of a reference that a copy may lack (its title: "MIT License").
TITLE_WORDS = 12
#: Changes listed per file, and words quoted per change.
MAX_CHANGES = 50
QUOTE_WORDS = 40
#: Characters of a file read for notices (a notice sits near the top or bottom of a short file).
MAX_NOTICE_CHARS = 200_000


class KnowledgeBaseLike(Protocol):
    """What identification needs from `openaudit.kb.loader.KnowledgeBase`."""

    def get(self, licence_id: str) -> LicenseEntry | None: ...

    def find(self, name: str) -> LicenseEntry | None: ...

    def by_spdx(self, spdx: str) -> LicenseEntry | None: ...


# --------------------------------------------------------------------------- normalise

_CHARS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00a0": " ", "\u2022": "*", "\u00b7": "*", "\u25aa": "*", "\u25e6": "*",
    "\u2023": "*", "\u2043": "*",
}  # fmt: skip
_SPECIAL_CHARS = re.compile("[" + "".join(_CHARS) + "]")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
# Tags and template placeholders may be wrapped over a line break; `_keep_newlines` keeps it.
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>|<!--.*?-->", re.S)
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,60}\]|\{[^{}]{1,60}\}")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Horizontal space and punctuation only: a pattern that crossed a line break would
# shift every later line number. A "line" of more than 300 characters is a whole
# licence flattened onto one line, not a copyright line.
_COPYRIGHT_LINE = re.compile(
    r"^[^\w\n]*(?:portions[ \t]+)?"
    r"(?:copyright\b[ \t]*(?:\([cC]\)|©|\d{4}|by\b|:|[\[<{]|$)|\([cC]\)[ \t]*\d{4}|©[ \t]*\d{4})"
    r".{0,300}$|^[^\w\n]*all rights reserved[^\w\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_PAREN_MARKER = re.compile(r"\((?:[a-zA-Z]|[ivxIVX]{1,5}|\d{1,2})\)")
_LINE_MARKER = re.compile(
    r"^[ >]*(?:[-*+]|\d{1,2}(?:\.\d{1,2})*[.)]|[a-zA-Z][.)]|[ivxIVX]{1,5}[.)]|#+)(?=\s)",
    re.MULTILINE,
)
_INLINE_MARKER = re.compile(r"\s(?:\d{1,2}(?:\.\d{1,2})*\.|[a-z]\.|[ivx]{1,5}\.)(?=\s+[A-Z\"'])")
_NONCOMMERCIAL = re.compile(r"non[\s-]+commercial")
_PLUSPLUS = re.compile(r"\+\+")
_TOKEN = re.compile(r"[^\W_]+(?:\.\d+)*")


def _phrase(pattern: str) -> re.Pattern[str]:
    """A phrase pattern whose spaces match any run of whitespace, line breaks included."""
    return re.compile(pattern.replace(" ", r"\s+"), re.S)


#: Holder names that licence templates leave as variables (BSD and friends).
_HOLDER_PHRASES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "neither",
        _phrase(r"neither the name of\s+(?:(?!\bnor\b).){1,160}?\s+nor the names of"),
        "neither the name of the copyright holder nor the names of",
    ),
    (
        "provided",
        _phrase(r"is provided by\s+(?:(?!\bas is\b).){1,160}?['\"\s]+as is\b"),
        "is provided by the copyright holders and contributors as is",
    ),
    (
        "liable",
        _phrase(r"in no event shall\s+(?:(?!\bbe liable\b).){1,160}?\s+be liable"),
        "in no event shall the copyright holder be liable",
    ),
)
_SPELLING = re.compile(r"\blicenc(e|es|ed|ing)\b")


def _keep_newlines(replacement: str) -> Any:
    """A substitution that keeps the line count, so token line numbers stay true."""

    def sub(match: re.Match[str]) -> str:
        return replacement + "\n" * match.group(0).count("\n")

    return sub


def _sub_lines(pattern: re.Pattern[str], needle: str, text: str) -> str:
    """Blank `pattern` only on lines holding `needle`: unanchored patterns are slow on big texts."""
    if needle not in text:
        return text
    return "\n".join(pattern.sub(" ", ln) if needle in ln else ln for ln in text.split("\n"))


def _prepare(text: str) -> str:
    """Everything but tokenisation; keeps every newline so tokens map back to lines."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = _SPECIAL_CHARS.sub(lambda m: _CHARS[m.group(0)], text)
    text = text.replace("\t", " ").replace("\r", "")
    text = _MD_ESCAPE.sub(r"\1", text)
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub(_keep_newlines(" "), text)
    text = _sub_lines(_URL, "://", text)
    text = _sub_lines(_URL, "www.", text)
    text = _sub_lines(_EMAIL, "@", text)
    text = _COPYRIGHT_LINE.sub("", text)
    if "[" in text or "{" in text:
        text = _PLACEHOLDER.sub(_keep_newlines(" "), text)
    if "++" in text:
        text = _PLUSPLUS.sub(" pp ", text)
    text = _PAREN_MARKER.sub(" ", text)
    text = _LINE_MARKER.sub(" ", text)
    text = _INLINE_MARKER.sub(" ", text)
    text = text.lower()
    if "commercial" in text:
        text = _NONCOMMERCIAL.sub("noncommercial", text)
    for trigger, pattern, replacement in _HOLDER_PHRASES:
        if trigger in text:
            text = pattern.sub(_keep_newlines(replacement), text)
    return text


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """Normalised words, and for each line the number of words before it (see `_line_of`)."""
    prepared = _prepare(text)
    if "licenc" in prepared:
        prepared = _SPELLING.sub(r"licens\1", prepared)
    words: list[str] = []
    offsets: list[int] = []
    for line in prepared.split("\n"):
        offsets.append(len(words))
        words.extend(_TOKEN.findall(line))
    return words, offsets


def _line_of(offsets: list[int], word: int) -> int:
    """1-based line of the word at index `word`."""
    return bisect_right(offsets, word)


def normalise(text: str) -> str:
    """The comparable form of a licence text: lower-case words separated by single spaces.

    Drops what varies between copies of one licence and says nothing about its
    terms: case, whitespace and line wrapping, punctuation, curly quotes and
    dashes, copyright and "all rights reserved" lines, list numbering and
    bullets, URLs and e-mail addresses, Markdown/HTML markup, template
    placeholders (`[yyyy]`, `<copyright holders>`), the copyright-holder names
    templates leave variable (BSD's "Neither the name of X"), and British
    spelling of licence. Version numbers ("3.1", "2.0") are kept whole, since
    they tell variants apart.
    """
    return " ".join(_tokens(text)[0])


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Reference:
    id: str
    kind: str
    file: str
    family: str | None
    spdx: str | None
    aliases: tuple[str, ...]
    policy_for: str | None
    distinguishing: tuple[str, ...]
    excludes: tuple[str, ...]
    requires: tuple[str, ...]
    shingles: frozenset[int]
    #: The normalised words and, per line, the words before it (for quoting changes).
    words: tuple[str, ...] = ()
    offsets: tuple[int, ...] = ()
    #: Words of the title line: a copy without its title has changed no term.
    title: int = 0
    #: Word index after which the text is instructions, not terms ("How to apply ..."):
    #: a copy that stops there has removed nothing.
    optional_from: int | None = None


@dataclass(frozen=True)
class _Index:
    refs: tuple[_Reference, ...]
    postings: dict[int, tuple[int, ...]]


def texts_dir() -> Path:
    """The reference texts, in a checkout or an installed wheel."""
    from openaudit.resources import data_dir

    return data_dir("licenses") / "texts"


def _shingles(words: Sequence[str]) -> list[int]:
    """Hashes of every run of `SHINGLE` words (zip and map keep the loop in C)."""
    return list(map(hash, zip(*(words[i:] for i in range(SHINGLE)), strict=False)))


@lru_cache(maxsize=4)
def _index(folder: str) -> _Index:
    """Built once per process (about 0.3 s): every reference text, normalised and shingled."""
    import yaml

    root = Path(folder)
    manifest = yaml.safe_load((root / "manifest.yml").read_text(encoding="utf-8"))
    refs: list[_Reference] = []
    postings: dict[int, list[int]] = {}
    for item in manifest["texts"]:
        words, offsets = _tokens((root / item["file"]).read_text(encoding="utf-8"))
        shingles = frozenset(_shingles(words))
        title = offsets[1] if len(offsets) > 1 and offsets[1] <= 12 else 0
        optional_from = _phrase_end(words, normalise(item.get("optional_after") or ""))
        ref = _Reference(
            id=str(item["id"]),
            kind=str(item.get("kind", "licence")),
            file=str(item["file"]),
            family=item.get("family"),
            spdx=item.get("spdx"),
            aliases=tuple(item.get("aliases") or ()),
            policy_for=item.get("license"),
            distinguishing=tuple(normalise(p) for p in item.get("distinguishing") or ()),
            excludes=tuple(normalise(p) for p in item.get("excludes") or ()),
            requires=tuple(normalise(p) for p in item.get("requires") or ()),
            shingles=shingles,
            words=tuple(words),
            offsets=tuple(offsets),
            title=title,
            optional_from=optional_from,
        )
        for h in shingles:
            postings.setdefault(h, []).append(len(refs))
        refs.append(ref)
    # Boilerplate shared by many texts ("of this license", "as is without warranty") only
    # slows the first, ranking pass; scores are computed on the full shingle sets.
    common = max(8, len(refs) // 8)
    return _Index(tuple(refs), {h: tuple(v) for h, v in postings.items() if len(v) <= common})


def _phrase_end(words: Sequence[str], phrase: str) -> int | None:
    """Index of the word after the first occurrence of `phrase` in `words`, if any."""
    if not phrase:
        return None
    needle = phrase.split()
    for i in range(len(words) - len(needle) + 1):
        if list(words[i : i + len(needle)]) == needle:
            return i + len(needle)
    return None


def reference_ids(folder: Path | None = None) -> tuple[tuple[str, str, str], ...]:
    """(id, kind, file) of every reference text, for listings and tests."""
    idx = _index(str(folder or texts_dir()))
    return tuple((r.id, r.kind, r.file) for r in idx.refs)


# --------------------------------------------------------------------------- identify text


@dataclass
class _Scored:
    ref: _Reference
    coverage: float
    density: float
    score: float
    span: tuple[int, int]


def _best_passage(positions: list[int], shingles: list[int]) -> tuple[int, int, int, int]:
    """The run of hits with the most distinct shingles: (first, last, distinct, hits), so stray
    shared phrases elsewhere in a README do not stretch the span."""
    breaks = [i for i, (a, b) in enumerate(pairwise(positions), start=1) if b - a > GAP]
    best = (0, 0, -1, 0)
    for lo, hi in zip([0, *breaks], [*breaks, len(positions)], strict=True):
        run = positions[lo:hi]
        distinct = len({shingles[p] for p in run})
        if distinct > best[2]:
            best = (run[0], run[-1], distinct, len(run))
    return best


def _score(ref: _Reference, shingles: list[int], positions: list[int]) -> _Scored:
    if not positions:
        return _Scored(ref, 0.0, 0.0, 0.0, (0, 0))
    first, last, distinct, in_span = _best_passage(positions, shingles)
    coverage = distinct / len(ref.shingles)
    density = in_span / (last - first + 1)
    score = 2 * coverage * density / (coverage + density) if coverage + density else 0.0
    return _Scored(ref, coverage, density, score, (first, last + SHINGLE - 1))


def _has(phrase: str, haystack: str) -> bool:
    return f" {phrase} " in haystack


def _tiebreak(ranked: list[_Scored], words: list[str]) -> tuple[_Scored | None, str]:
    """Among close scores of one family, let the data's phrases decide (or refuse to)."""
    top = ranked[0]
    if top.ref.family is None:
        return top, ""
    group = [
        s
        for s in ranked
        if s.ref.family == top.ref.family and top.score - s.score <= VARIANT_MARGIN
    ]
    if len({s.ref.id for s in group}) < 2:
        return top, ""
    haystack = f" {' '.join(words)} "
    viable = [
        s
        for s in group
        if not any(_has(p, haystack) for p in s.ref.excludes)
        and (not s.ref.distinguishing or any(_has(p, haystack) for p in s.ref.distinguishing))
    ]
    with_phrase = [s for s in viable if any(_has(p, haystack) for p in s.ref.distinguishing)]
    for pool in (with_phrase, viable):
        if len({s.ref.id for s in pool}) == 1:
            return pool[0], "+phrase"
    return None, ""


def _resolve(ref: _Reference, kb: KnowledgeBaseLike | None) -> str | None:
    """The knowledge-base id a reference text stands for; None when the KB lacks it."""
    if kb is None or ref.kind == "policy":
        return ref.id
    for key in (ref.id, *ref.aliases):
        entry = _lookup(kb, "get", key)
        if entry is not None:
            return entry.id
    if ref.spdx:
        entry = _lookup(kb, "by_spdx", ref.spdx)
        if entry is not None:
            return entry.id
    return None


def _lookup(kb: Any, method: str, key: str) -> LicenseEntry | None:
    fn = getattr(kb, method, None)
    if fn is None:
        return None
    try:
        found = fn(key)
    except (KeyError, LookupError, ValueError):
        return None
    if isinstance(found, list | tuple):
        return found[0] if len(found) == 1 else None
    return found if hasattr(found, "id") else None


@dataclass
class _Found:
    """The outcome of matching one run of words against every reference."""

    ranked: list[_Scored]
    best: _Scored | None
    #: "named", "partial", or the reason nothing was named (`LicenseMatch.method`).
    state: str
    how: str = ""
    licence_id: str | None = None
    changes: tuple[TextChange, ...] = ()


def _rank(idx: _Index, words: list[str]) -> list[_Scored]:
    """References sharing text with `words`, best first, one entry per id."""
    shingles = _shingles(words)
    # Distinct shingles each reference shares with the input, counted in C.
    hits = Counter(chain.from_iterable(map(idx.postings.get, set(shingles), repeat(()))))
    if not hits:
        return []
    coverage = {r: n / len(idx.refs[r].shingles) for r, n in hits.items()}
    by_coverage = sorted(coverage, key=coverage.__getitem__, reverse=True)
    floor = min(MIN_COVERAGE, coverage[by_coverage[0]] / 2)
    detailed = [r for r in by_coverage[:DETAILED] if coverage[r] >= floor]
    scored = []
    for r in detailed:
        ref_shingles = idx.refs[r].shingles
        positions = [i for i, h in enumerate(shingles) if h in ref_shingles]
        scored.append(_score(idx.refs[r], shingles, positions))
    scored.sort(key=lambda s: (s.score, s.coverage), reverse=True)
    # One entry per id (Gemma has two dated texts): keep the better.
    ranked: list[_Scored] = []
    seen: set[str] = set()
    for s in scored:
        if s.ref.id not in seen:
            seen.add(s.ref.id)
            ranked.append(s)
    return ranked


def _match_words(idx: _Index, words: list[str], kb: KnowledgeBaseLike | None) -> _Found:
    """The licence text `words` hold, a partial one, or why there is none."""
    ranked = _rank(idx, words)
    if not ranked:
        return _Found([], None, "no-match")
    top = ranked[0]
    maybe_partial = top.coverage >= PARTIAL_MIN and top.density >= 0.9
    if top.score >= THRESHOLD - VARIANT_MARGIN or maybe_partial:
        chosen, how = _tiebreak(ranked, words)
    else:
        chosen, how = top, ""
    if chosen is not None and chosen is not top:
        ranked = [chosen, *(s for s in ranked if s is not chosen)]
    if chosen is None:
        return _Found(ranked, top, "ambiguous-variant")
    found = _Found(ranked, chosen, "named", how)
    if chosen.score < THRESHOLD:
        found.state = "below-threshold"
        if not maybe_partial:
            return found
        changes, share = _compare(chosen, words, partial=True)
        if share is None:
            return found
        found.state, found.changes = "partial", changes
        chosen.coverage = share
    if chosen.ref.requires:
        haystack = f" {' '.join(words)} "
        if not any(_has(p, haystack) for p in chosen.ref.requires):
            found.state = "other-version"
            return found
    found.licence_id = _resolve(chosen.ref, kb)
    if found.licence_id is None:
        found.state = "not-in-kb"
        return found
    if found.state == "named":
        found.changes = _compare(chosen, words, partial=False)[0]
        tail = found.changes[-1] if found.changes else None
        if tail is not None and tail.kind == "removed" and tail.lines[0] > chosen.span[1]:
            # The text stops before the reference does: a truncated copy, not a deleted clause.
            changes, share = _compare(chosen, words, partial=True)
            if share is not None:
                found.state, found.changes = "partial", changes
                chosen.coverage = share
    return found


def _compare(
    found: _Scored, words: list[str], *, partial: bool
) -> tuple[tuple[TextChange, ...], float | None]:
    """Word-level differences between the matched span and its reference text.

    Only what normalisation removes (copyright lines, years, holders, template
    placeholders) may differ; a missing title, and a missing tail of instructions
    (`optional_after`) are not changes. For a partial text, the missing end is not a
    change either: it is returned as the share covered (None if the text is not the
    start of the reference).
    """
    ref = found.ref
    first, last = found.span
    seg = words[first : last + 1]
    if tuple(seg) == ref.words:
        return (), 1.0
    ops = _opcodes(seg, ref.words)
    solid = [k for k, op in enumerate(ops) if op[0] == "equal" and op[2] - op[1] >= SHINGLE]
    if not solid:
        return (), None
    head, tail = ops[solid[0]], ops[solid[-1]]
    # File words before the first and after the last solid block of the reference are not
    # the licence (a notice or title that shares a few words with it): they are outside.
    found.span = (first + head[1], first + tail[2] - 1)
    core = ops[solid[0] : solid[-1] + 1]
    share: float | None = None
    if partial:
        matched = sum(op[2] - op[1] for op in core if op[0] == "equal")
        if head[3] <= max(ref.title, TITLE_WORDS) and matched >= 0.9 * (tail[4] - head[3]):
            share = tail[4] / len(ref.words)
        if share is None or share < PARTIAL_MIN:
            return (), None
    changes = []
    if head[3] > max(ref.title, TITLE_WORDS):  # the reference's opening words are missing
        changes.append(
            _change("insert", first + head[1], first + head[1], 0, head[3], seg, ref, first)
        )
    for tag, i1, i2, j1, j2 in core:
        if tag == "equal" or _immaterial(seg[i1:i2], ref.words[j1:j2]):
            continue
        changes.append(_change(tag, first + i1, first + i2, j1, j2, seg, ref, first))
    missing_end = tail[4] < len(ref.words)
    optional = ref.optional_from is not None and tail[4] >= ref.optional_from
    if missing_end and not partial and not optional:
        at = first + tail[2]
        changes.append(_change("insert", at, at, tail[4], len(ref.words), seg, ref, first))
    return tuple(changes[:MAX_CHANGES]), share


#: Words that differ between copies without changing a term: list markers a reflowed copy
#: keeps or drops ("a)", "iv."), and a model size in a product's name ("Qwen-7B").
_MARKER = re.compile(r"[a-z]|[ivx]{1,4}|\d{1,2}|\d+(?:\.\d+)?[bmk]")


def _immaterial(added: Sequence[str], removed: Sequence[str]) -> bool:
    """A change of the template's variable parts only: markers, sizes, a copyright line."""
    if all(_MARKER.fullmatch(w) for w in chain(added, removed)):
        return True
    # A reference flattened onto long lines keeps its copyright line inside a line.
    return not added and 0 < len(removed) <= 12 and removed[0] == "copyright"


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, with the common start and end taken off first: a copy of a licence
    differs in a few places, so this keeps the diff near linear (GPL-3.0: ~50 -> ~5 ms)."""
    n = min(len(a), len(b))
    pre = 0
    while pre < n and a[pre] == b[pre]:
        pre += 1
    post = 0
    while post < n - pre and a[len(a) - 1 - post] == b[len(b) - 1 - post]:
        post += 1
    ops: list[tuple[str, int, int, int, int]] = [("equal", 0, pre, 0, pre)] if pre else []
    middle = SequenceMatcher(None, a[pre : len(a) - post], b[pre : len(b) - post], autojunk=False)
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        ops.append((tag, i1 + pre, i2 + pre, j1 + pre, j2 + pre))
    if post:
        ops.append(("equal", len(a) - post, len(a), len(b) - post, len(b)))
    return ops


def _change(
    tag: str, a1: int, a2: int, j1: int, j2: int, seg: list[str], ref: _Reference, first: int
) -> TextChange:
    kind = {"replace": "changed", "delete": "added", "insert": "removed"}[tag]
    ref_lines = (
        _line_of(list(ref.offsets), j1),
        _line_of(list(ref.offsets), max(j1, j2 - 1)),
    )
    return TextChange(
        kind,  # type: ignore[arg-type]
        (a1, max(a1, a2 - 1)),  # word indices: `_lines_of_changes` turns them into lines
        ref_lines,
        _quote(seg[a1 - first : a2 - first]),
        _quote(ref.words[j1:j2]),
    )


def _quote(words: Sequence[str]) -> str:
    if len(words) <= QUOTE_WORDS:
        return " ".join(words)
    return " ".join(words[:QUOTE_WORDS]) + f" ... (+{len(words) - QUOTE_WORDS} words)"


def _at_lines(changes: Iterable[TextChange], offsets: list[int], shift: int) -> list[TextChange]:
    """Word indices of `_change` to 1-based lines of the file."""
    return [
        replace(
            c,
            lines=(_line_of(offsets, c.lines[0] + shift), _line_of(offsets, c.lines[1] + shift)),
        )
        for c in changes
    ]


def _spdx_of(licence_id: str, kb: KnowledgeBaseLike | None, ref: _Reference | None) -> str:
    entry = _lookup(kb, "get", licence_id) if kb is not None else None
    spdx = getattr(entry, "spdx", None) or (ref.spdx if ref else None)
    if spdx and re.fullmatch(r"[A-Za-z0-9.+-]+", spdx) and not spdx.lower().startswith("other"):
        return str(spdx)
    return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", licence_id)


def _notice_lookup(idx: _Index, kb: KnowledgeBaseLike | None) -> Any:
    """Name -> KB id for notices: the knowledge base's exact lookup, else the manifest's names."""
    if kb is not None:

        def find(name: str) -> str | None:
            entry = _lookup(kb, "find", name)
            if entry is None or entry.id in ("other", "unknown"):
                return None
            return entry.id

        return find
    from openaudit.kb.loader import normalise as fold

    table: dict[str, str] = {}
    for ref in idx.refs:
        if ref.kind == "licence":
            for name in (ref.id, ref.spdx, *ref.aliases):
                if name:
                    table.setdefault(fold(name), ref.id)
    return lambda name: table.get(fold(name))


def identify_text(
    text: str, kb: KnowledgeBaseLike | None = None, *, folder: Path | None = None
) -> LicenseMatch:
    """Name the licence(s) or use policy a file's text holds, with the evidence.

    Never guesses: below `THRESHOLD`, between variants the phrases cannot tell
    apart, or for a reference the knowledge base does not know, no licence is named
    and `candidates` says what came closest. A file may hold several licences
    (`parts`, `expression`), a partial text (`method="partial"`, `coverage`), or only
    a notice naming one (`method="notice"`); words differing from the reference are
    `changes`, text outside every licence is `outside`.
    """
    idx = _index(str(folder or texts_dir()))
    words, offsets = _tokens(text)
    found = _match_words(idx, words, kb) if len(words) >= SHINGLE else _Found([], None, "")
    texts: list[tuple[_Found, int]] = []
    if found.licence_id is not None:
        texts.append((found, 0))
        texts.extend(_more_texts(idx, words, found, kb))
    notices = _notices(text, idx, kb, offsets, texts)
    if not texts and not notices:
        return _unnamed(found, words, offsets)
    match = _assemble(texts, notices, words, offsets, kb)
    hidden = _terms_on_copyright_lines(text)
    if hidden:
        outside = tuple(sorted({*match.outside, *hidden}))
        match = replace(match, outside=outside)
    return match


#: Words that make a copyright line more than a holder's name ("Copyright 2024 Acme.
#: Commercial use prohibited."): normalisation drops copyright lines, so they are looked
#: for here and such a line is reported as text outside the licence.
_TERMS_WORDS = re.compile(
    r"\b(?:non[\s-]*commercial|commercial|prohibit\w*|forbid\w*|restrict\w*|research|"
    r"only|except|not|without|permission|licen[cs]\w*|terms?|use)\b",
    re.IGNORECASE,
)


def _terms_on_copyright_lines(text: str) -> list[tuple[int, int, int]]:
    out = []
    for m in _COPYRIGHT_LINE.finditer(text[:MAX_NOTICE_CHARS]):
        # The holder's name may hold any word ("Example Research Lab, Inc."): only what
        # follows its first sentence counts.
        rest = re.split(r"[.;:]\s+", m.group(0), maxsplit=1)[1:]
        if rest and _TERMS_WORDS.search(rest[0]):
            at = text.count("\n", 0, m.start()) + 1
            out.append((at, at, len(m.group(0).split())))
    return out


def _unnamed(found: _Found, words: list[str], offsets: list[int]) -> LicenseMatch:
    if len(words) < SHINGLE:
        return LicenseMatch(None, 0.0, THRESHOLD, method="too-short", total_words=len(words))
    best = found.best
    if best is None:
        return LicenseMatch(None, 0.0, THRESHOLD, method="no-match", total_words=len(words))
    first, last = best.span
    return LicenseMatch(
        None,
        round(best.score, 4),
        THRESHOLD,
        candidates=tuple((s.ref.id, round(s.score, 4)) for s in found.ranked[:3]),
        method=found.state,
        kind="policy" if best.ref.kind == "policy" else "licence",
        policy_for=best.ref.policy_for,
        reference=f"texts/{best.ref.file}",
        lines=(_line_of(offsets, first), _line_of(offsets, min(last, len(words) - 1))),
        coverage=round(best.coverage, 4),
        outside_words=len(words) - (last - first + 1),
        total_words=len(words),
    )


def _more_texts(
    idx: _Index, words: list[str], found: _Found, kb: KnowledgeBaseLike | None
) -> list[tuple[_Found, int]]:
    """Further licence texts in the words outside the ones found (MPL-2.0 then MIT)."""
    assert found.best is not None
    spans = [found.best.span]
    out: list[tuple[_Found, int]] = []
    for _ in range(MAX_PARTS - 1):
        gaps = [g for g in _gaps(spans, len(words)) if g[1] - g[0] >= MIN_PART_WORDS]
        added = False
        for lo, hi in gaps:
            more = _match_words(idx, words[lo:hi], kb)
            if more.licence_id is None or more.state != "named" or more.best is None:
                continue
            out.append((more, lo))
            a, b = more.best.span
            spans.append((a + lo, b + lo))
            added = True
            break
        if not added:
            break
    return out


def _gaps(spans: list[tuple[int, int]], total: int) -> list[tuple[int, int]]:
    """Word ranges [lo, hi) outside every span."""
    out = []
    pos = 0
    for a, b in sorted(spans):
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b + 1)
    if pos < total:
        out.append((pos, total))
    return out


def _notices(
    text: str,
    idx: _Index,
    kb: KnowledgeBaseLike | None,
    offsets: list[int],
    texts: list[tuple[_Found, int]],
) -> list[Any]:
    """Notices outside the recognised texts (a text quotes its own "how to apply" notice).

    The texts' lines are blanked first, keeping line numbers: a GPL text holds dozens of
    "under the terms of" that are its own words, not notices.
    """
    from openaudit.kb.notices import find_notices

    lines = text[:MAX_NOTICE_CHARS].split("\n")
    for f, shift in texts:
        assert f.best is not None
        a, b = f.best.span
        first, last = _line_of(offsets, a + shift), _line_of(offsets, b + shift)
        lines[first - 1 : last] = [""] * len(lines[first - 1 : last])
    rest = "\n".join(lines)
    if not rest.strip():
        return []
    return find_notices(rest, _notice_lookup(idx, kb))


def _assemble(
    texts: list[tuple[_Found, int]],
    notices: list[Any],
    words: list[str],
    offsets: list[int],
    kb: KnowledgeBaseLike | None,
) -> LicenseMatch:
    """One result from the texts and notices found: main part, expression, changes, outside."""
    parts: list[tuple[int, LicensePart]] = []
    spans: list[tuple[int, int]] = []
    changes: list[TextChange] = []
    for f, shift in texts:
        assert f.best is not None and f.licence_id is not None
        a, b = f.best.span
        spans.append((a + shift, b + shift))
        method = "partial" if f.state == "partial" else _text_method(f.best, len(words))
        lines = (_line_of(offsets, a + shift), _line_of(offsets, min(b + shift, len(words) - 1)))
        part = LicensePart(
            f.licence_id,
            method + f.how,
            lines,
            round(f.best.score, 4),
            _spdx_of(f.licence_id, kb, f.best.ref),
            round(f.best.coverage, 4),
        )
        parts.append((lines[0], part))
        changes.extend(_at_lines(f.changes, offsets, shift))
    for n in notices:
        spdx = _spdx_of(n.licence_id, kb, None)
        part = LicensePart(n.licence_id, "notice", (n.line, n.line), 1.0, spdx, quote=n.quote)
        parts.append((n.line, part))
    ordered = [p for _, p in sorted(parts, key=lambda x: x[0])]
    main_found = texts[0][0] if texts else None
    main = next((p for p in ordered if p.method != "notice"), ordered[0])
    if main_found is not None:
        main = next(p for p in ordered if p.lines == parts[0][1].lines and p.method != "notice")
    ids = tuple(dict.fromkeys([main.license_id, *(p.license_id for p in ordered)]))
    choice = any(n.operator == "OR" for n in notices)
    outside_ranges = _gaps(spans, len(words)) if spans else [(0, len(words))]
    outside_words = sum(hi - lo for lo, hi in outside_ranges) if spans else 0
    if (
        main.method.startswith("partial")
        and outside_ranges
        and outside_ranges[-1][0] == len(words) - 1
    ):
        outside_ranges = outside_ranges[:-1]  # the word the cut went through
    unexplained = _unexplained(outside_ranges, words, offsets, ids, notices, kb)
    best = main_found.best if main_found else None
    common: dict[str, Any] = {
        "candidates": tuple((s.ref.id, round(s.score, 4)) for s in main_found.ranked[:3])
        if main_found
        else tuple((p.license_id or "", p.score) for p in ordered[:3]),
        "kind": "policy" if best is not None and best.ref.kind == "policy" else "licence",
        "policy_for": best.ref.policy_for if best is not None else None,
        "reference": f"texts/{best.ref.file}" if best is not None else None,
        "lines": main.lines,
        "coverage": main.coverage if best is not None else 0.0,
        "outside_words": outside_words,
        "total_words": len(words),
        "parts": tuple(ordered),
        "ids": tuple(i for i in ids if i),
        "expression": _expression(ordered, choice),
        "outside": tuple(unexplained),
        "changes": tuple(changes),
    }
    return LicenseMatch(main.license_id, main.score, THRESHOLD, method=main.method, **common)


def _text_method(best: _Scored, total: int) -> str:
    first, last = best.span
    outside = total - (last - first + 1)
    if outside > SLACK_WORDS:
        return "contained"
    return "exact" if best.score >= 0.999 else "full"


def _expression(parts: Sequence[LicensePart], choice: bool) -> str | None:
    """`A AND B` (all apply) or, when a notice offers a choice, `A OR B`, via license-expression."""
    keys = list(dict.fromkeys(p.spdx for p in parts if p.spdx))
    if not keys:
        return None
    joined = (" OR " if choice else " AND ").join(keys)
    try:
        return str(_licensing().parse(joined, validate=False))
    except Exception:
        return joined


#: A copyright statement inside a notice line ("..., Copyright (c) Meta Platforms, Inc. All
#: Rights Reserved."): a holder's name, no term. Bounded to the usual length of one.
_INLINE_COPYRIGHT = re.compile(
    r" copyright (?:c )?(?:\d{4} )?(?:\S+ ){0,8}?all rights reserved | copyright (?:c )?(?:\d{4} )?(?:\S+ ){0,6}$"
)


@lru_cache(maxsize=1)
def _boilerplate() -> tuple[tuple[str, ...], frozenset[str]]:
    """Standard notice sentences (Apache's file header, GPL's "how to apply"), normalised:
    they sit around licence names and add no term (`notice_boilerplate` in the manifest)."""
    import yaml

    manifest = yaml.safe_load((texts_dir() / "manifest.yml").read_text(encoding="utf-8"))
    phrases = [normalise(p) for p in manifest.get("notice_boilerplate") or ()]
    words = frozenset(str(manifest.get("notice_words") or "").split())
    return tuple(sorted((f" {p} " for p in phrases if p), key=len, reverse=True)), words


def _unexplained(
    ranges: list[tuple[int, int]],
    words: list[str],
    offsets: list[int],
    ids: tuple[str | None, ...],
    notices: list[Any],
    kb: KnowledgeBaseLike | None,
) -> list[tuple[int, int, int]]:
    """Outside text that is not a title or a notice of a licence found: (lines, words)."""
    boilerplate, notice_words = _boilerplate()
    allowed = set(notice_words)
    for i in ids:
        if not i:
            continue
        allowed.update(_TOKEN.findall(i.lower()))
        entry = _lookup(kb, "get", i) if kb is not None else None
        for name in (getattr(entry, "name", ""), getattr(entry, "spdx", "")):
            allowed.update(_TOKEN.findall(str(name or "").lower()))
    out = []
    for lo, hi in ranges:
        seg = f" {' '.join(words[lo:hi])} "
        for phrase in boilerplate:
            if phrase in seg:
                seg = seg.replace(phrase, " ")
        if "copyright" in seg:
            seg = _INLINE_COPYRIGHT.sub(" ", seg)
        if all(w in allowed for w in seg.split()):
            continue
        out.append((_line_of(offsets, lo), _line_of(offsets, hi - 1), hi - lo))
    return out


# --------------------------------------------------------------------------- declared values


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def _map_symbol(key: str, kb: KnowledgeBaseLike) -> str | None:
    """An expression symbol to a KB id: Hub id, SPDX id, or alias; exact only."""
    for method, value in (("get", key), ("get", key.lower()), ("by_spdx", key), ("find", key)):
        entry = _lookup(kb, method, value)
        if entry is not None:
            return entry.id
    return None


def parse_expression(expr: str, kb: KnowledgeBaseLike) -> LicenseExpression:
    """Parse an SPDX licence expression and map each licence symbol to a KB id.

    `license-expression` does the parsing (operator precedence, parentheses,
    WITH exceptions), so `MIT OR Apache-2.0 AND BSD-3-Clause` groups the way SPDX
    says. Symbols that are neither SPDX ids nor KB ids or aliases are kept in
    `unknown`; nothing is dropped silently.
    """
    from license_expression import ExpressionError, LicenseWithExceptionSymbol

    licensing = _licensing()
    try:
        parsed = licensing.parse(expr, validate=False, simple=False)
    except (ExpressionError, TypeError, ValueError) as exc:
        return LicenseExpression(expr, None, error=str(exc))
    if parsed is None:
        return LicenseExpression(expr, None, error="empty expression")
    symbols: list[tuple[str, str | None]] = []
    exceptions: list[str] = []
    for sym in licensing.license_symbols(parsed, unique=True, decompose=False):
        if isinstance(sym, LicenseWithExceptionSymbol):
            exceptions.append(str(sym.exception_symbol.key))
            sym = sym.license_symbol
        key = str(sym.key)
        symbols.append((key, _map_symbol(key, kb)))
    operators = tuple(
        sorted({op for op in ("AND", "OR", "WITH") if re.search(rf"\b{op}\b", str(parsed))})
    )
    return LicenseExpression(
        expression=expr,
        rendered=str(parsed),
        ids=tuple(dict.fromkeys(i for _, i in symbols if i)),
        symbols=tuple(symbols),
        unknown=tuple(k for k, i in symbols if i is None),
        operators=operators,
        exceptions=tuple(exceptions),
    )


_EXPRESSION_HINT = re.compile(r"\s(?:AND|OR|WITH)\s|[()]", re.IGNORECASE)


def identify_declared(value: str, kb: KnowledgeBaseLike) -> DeclaredLicence:
    """Map a declared licence value to KB ids: exact id, SPDX id, alias, or expression.

    Accepts a Hub id (`llama3.1`), a Hub tag (`license:mit`), an SPDX id
    (`Apache-2.0`), an SPDX expression, or a name the KB lists as an alias
    ("Llama 3.1 Community License Agreement"). Anything else is unknown: a
    declared value is the publisher's claim and is not second-guessed.
    """
    raw = value.strip()
    key = raw[len("license:") :] if raw.lower().startswith("license:") else raw
    if not key:
        return DeclaredLicence(value, (), "none")
    attempts = (
        ("get", key, "id"),
        ("by_spdx", key, "spdx"),
        ("get", key.lower(), "id"),
        ("find", key, "alias"),
    )
    for method, candidate, how in attempts:
        entry = _lookup(kb, method, candidate)
        if entry is not None:
            return DeclaredLicence(value, (entry.id,), how)
    if _EXPRESSION_HINT.search(key):
        parsed = parse_expression(key, kb)
        if parsed.error is None:
            return DeclaredLicence(
                value, parsed.ids, "expression", unknown=parsed.unknown, expression=parsed
            )
    return DeclaredLicence(value, (), "none", unknown=(key,))


def identify_many(
    texts: Iterable[tuple[str, str]], kb: KnowledgeBaseLike | None = None
) -> list[tuple[str, LicenseMatch]]:
    """(name, text) pairs to matches: one index for the lot (benchmarks, the CLI)."""
    return [(name, identify_text(text, kb)) for name, text in texts]
