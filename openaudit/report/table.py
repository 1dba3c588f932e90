"""The default terminal output, for a reviewer at a terminal.

One row per model in input order, written as each model is done. The width follows the
terminal (80 columns when the output is not a terminal); a cell too long for its column
wraps inside it, so an id is never cut (the owner matters as much as the `-GGUF` suffix).
Every `unknown` and `restricted` dimension gets a short "why" line; problems follow the
table grouped by cause; a legend ends it. Words are those of the scorecards
(`report.view`): `none` for no licence, OSAID in words. Colour only on a terminal, and
never when NO_COLOR is set. Card text is cleaned of control characters first, so a card
cannot retitle the terminal or hide a line.
"""

from __future__ import annotations

import io
import os
import shutil
import textwrap
from collections.abc import Iterable
from typing import TextIO

from openaudit.model import Scorecard, Verdict
from openaudit.report import view
from openaudit.report.escape import clean

WIDTH = 80

#: (heading, dimension or key, minimum width); MODEL and LICENCE share what the terminal adds.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("MODEL", "id", 13),
    ("LICENCE", "licence_ids", 10),
    ("STATUS", "licence", 10),
    ("COMMERCIAL", "commercial_use", 11),
    ("DERIVATIVES", "derivatives", 11),
    ("WEIGHTS", "weights", 7),
    ("OSAID", "osaid", 12),
)
#: Dimensions whose status gets a "why" line.
_WHY = frozenset({"unknown", "restricted"})
_ANSI = {"good": "\x1b[32m", "mid": "\x1b[33m", "bad": "\x1b[31m", "none": "\x1b[2m"}
_RESET = "\x1b[0m"
LEGEND = (
    "Legend: open/allowed = free terms; restricted/conditional = use limits or conditions; "
    "gated = behind an agreement; absent = no weights; prohibited = no commercial use; "
    "none = no licence found; unknown = the evidence read does not decide (why given). "
    "Details and evidence: --format markdown, json or csv; `openaudit report` publishes scorecards."
)


def widths(total: int) -> list[int]:
    base = [w for _, _, w in COLUMNS]
    spare = max(0, total - (sum(base) + len(base) - 1))
    base[0] += spare * 2 // 3
    base[1] += spare - spare * 2 // 3
    return base


def _tone(status: str) -> str:
    from openaudit.report.site import tone

    return tone(status)


def cells(v: Verdict) -> list[str]:
    out = []
    for _, key, _ in COLUMNS:
        if key == "id":
            out.append(v.id)
        elif key == "licence_ids":
            out.append(", ".join(v.licence_ids) or view.NO_LICENCE)
        elif key == "osaid":
            out.append(view.OSAID_WORDS.get(v.osaid, v.osaid))
        else:
            out.append(v.dimension(key).status)
    return [clean(c) for c in out]


def _wrap_id(repo_id: str, width: int) -> list[str]:
    """An id on as many lines as it needs: broken after the owner, then at hyphens; never cut."""
    owner, sep, name = repo_id.partition("/")
    pieces = [owner + sep, name] if sep else [repo_id]
    lines: list[str] = []
    for piece in pieces:
        chunks = _wrap(piece, width)
        if lines and len(lines[-1]) + len(chunks[0]) <= width:
            lines[-1] += chunks.pop(0)
        lines.extend(chunks)
    return [line for line in lines if line] or [""]


def _wrap(text: str, width: int) -> list[str]:
    # Break at "/", "-" and spaces first; a single long word is split, never dropped.
    return textwrap.wrap(text, width=width, break_on_hyphens=True, break_long_words=True) or [""]


def row_lines(v: Verdict, cols: list[int], colour: bool) -> list[str]:
    values = cells(v)
    wrapped = [_wrap_id(values[0], cols[0])]
    wrapped += [_wrap(c, w) for c, w in zip(values[1:], cols[1:], strict=True)]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = []
        for n, (w, part) in enumerate(zip(cols, wrapped, strict=True)):
            text = part[i] if i < len(part) else ""
            padded = text.ljust(w)
            if colour and n >= 2 and text:
                padded = _ANSI[_tone(values[n])] + padded + _RESET
            parts.append(padded)
        lines.append(" ".join(parts).rstrip())
    return lines


def why_lines(v: Verdict, width: int) -> list[str]:
    """One short line per unknown or restricted dimension: its reason, cut to the width."""
    out = []
    if not v.audited:
        groups = view.problem_groups(v.errors, v.id)
        return [_short(f"why not audited: {p}", width) for p in groups[:1]]
    for d in v.dimensions:
        if d.status in _WHY:
            out.append(_short(f"why {view.title(d.name).lower()} {d.status}: {d.summary}", width))
    return out


def _short(text: str, width: int) -> str:
    text = "  " + clean(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def problem_lines(v: Verdict, width: int) -> list[str]:
    return [
        textwrap.fill(
            clean(f"! {v.id}: {group}"),
            width=width,
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
        for group in view.problem_groups(v.errors, v.id)
    ]


def _settings(out: TextIO) -> tuple[int, bool]:
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return WIDTH, False
    width = max(60, shutil.get_terminal_size((WIDTH, 24)).columns)
    return width, not os.environ.get("NO_COLOR")


def stream(header: Scorecard, verdicts: Iterable[Verdict], out: TextIO) -> None:
    """Rows as models come; problems (grouped by cause) and the legend follow the table."""
    width, colour = _settings(out)
    cols = widths(width)
    out.write(
        " ".join(h.ljust(w) for (h, _, _), w in zip(COLUMNS, cols, strict=True)).rstrip() + "\n"
    )
    notes: list[str] = []
    try:
        for v in verdicts:
            out.write("\n".join([*row_lines(v, cols, colour), *why_lines(v, width)]) + "\n")
            out.flush()
            notes.extend(problem_lines(v, width))
    finally:
        if notes:
            out.write("\n" + "\n".join(notes) + "\n")
        out.write("\n" + textwrap.fill(LEGEND, width=width, break_on_hyphens=False) + "\n")
        out.flush()


def render(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    stream(scorecard, scorecard.models, buffer)
    return buffer.getvalue()
