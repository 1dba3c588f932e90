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
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import Any, Protocol

from openaudit.model import DeclaredLicence, LicenseEntry, LicenseExpression, LicenseMatch

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
    r"(?:copyright\b[ \t]*(?:\([cC]\)|©|\d{4}|by\b|:|$)|\([cC]\)[ \t]*\d{4}|©[ \t]*\d{4})"
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
        words, _ = _tokens((root / item["file"]).read_text(encoding="utf-8"))
        shingles = frozenset(_shingles(words))
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
        )
        for h in shingles:
            postings.setdefault(h, []).append(len(refs))
        refs.append(ref)
    # Boilerplate shared by many texts ("of this license", "as is without warranty") only
    # slows the first, ranking pass; scores are computed on the full shingle sets.
    common = max(8, len(refs) // 8)
    return _Index(tuple(refs), {h: tuple(v) for h, v in postings.items() if len(v) <= common})


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


def identify_text(
    text: str, kb: KnowledgeBaseLike | None = None, *, folder: Path | None = None
) -> LicenseMatch:
    """Name the licence (or use policy) a file's text is, with the score and the runners-up.

    Never guesses: below `THRESHOLD`, between variants the phrases cannot tell
    apart, or for a reference the knowledge base does not know, `license_id` is
    None and `candidates` says what came closest.
    """
    idx = _index(str(folder or texts_dir()))
    words, offsets = _tokens(text)
    if len(words) < SHINGLE:
        return LicenseMatch(None, 0.0, THRESHOLD, method="too-short", total_words=len(words))
    shingles = _shingles(words)
    # Distinct shingles each reference shares with the input, counted in C.
    hits = Counter(chain.from_iterable(map(idx.postings.get, set(shingles), repeat(()))))
    if not hits:
        return LicenseMatch(None, 0.0, THRESHOLD, method="no-match", total_words=len(words))
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
    candidates = tuple((s.ref.id, round(s.score, 4)) for s in ranked[:3])
    top = ranked[0]
    chosen, how = _tiebreak(ranked, words) if top.score >= THRESHOLD - VARIANT_MARGIN else (top, "")
    if chosen is not None and chosen is not top:
        others = [c for c in candidates if c[0] != chosen.ref.id]
        candidates = ((chosen.ref.id, round(chosen.score, 4)), *others[:2])
    best = chosen or top
    first, last = best.span
    outside = len(words) - (last - first + 1)
    common: dict[str, Any] = {
        "candidates": candidates,
        "kind": "policy" if best.ref.kind == "policy" else "licence",
        "policy_for": best.ref.policy_for,
        "reference": f"texts/{best.ref.file}",
        "lines": (_line_of(offsets, first), _line_of(offsets, min(last, len(words) - 1))),
        "coverage": round(best.coverage, 4),
        "outside_words": outside,
        "total_words": len(words),
    }
    score = round(best.score, 4)
    if chosen is None:
        return LicenseMatch(None, score, THRESHOLD, method="ambiguous-variant", **common)
    if best.score < THRESHOLD:
        return LicenseMatch(None, score, THRESHOLD, method="below-threshold", **common)
    if best.ref.requires:
        haystack = f" {' '.join(words)} "
        if not any(_has(p, haystack) for p in best.ref.requires):
            return LicenseMatch(None, score, THRESHOLD, method="other-version", **common)
    licence_id = _resolve(best.ref, kb)
    if licence_id is None:
        return LicenseMatch(None, score, THRESHOLD, method="not-in-kb", **common)
    if outside > SLACK_WORDS:
        method = "contained"
    elif best.score >= 0.999:
        method = "exact"
    else:
        method = "full"
    return LicenseMatch(licence_id, score, THRESHOLD, method=method + how, **common)


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
