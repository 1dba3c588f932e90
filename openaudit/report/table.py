"""The default terminal output: one row per model, readable in 80 columns.

Problems follow the table, one per model and subject, wrapped to 80 columns, so a batch never hides a model
that could not be audited.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable
from typing import TextIO

from openaudit.model import Scorecard, Verdict
from openaudit.report.escape import clean

WIDTH = 80

COLUMNS: tuple[tuple[str, int], ...] = (
    ("MODEL", 26),
    ("LICENCE", 14),
    ("STATUS", 10),
    ("COMMERCIAL", 11),
    ("WEIGHTS", 7),
    ("OSAID", 6),
)
_OSAID = {"conformant": "yes", "not-conformant": "no", "insufficient-information": "?"}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cut_id(repo_id: str, width: int) -> str:
    """Keep the end of a long repo id: variants differ at the end (-GGUF, -Instruct, -v0.2)."""
    return repo_id if len(repo_id) <= width else "…" + repo_id[-(width - 1) :]


def row(v: Verdict) -> list[str]:
    licence = ",".join(v.licence_ids) or "-"
    return [
        v.id,
        licence,
        v.dimension("licence").status,
        v.dimension("commercial_use").status,
        v.dimension("weights").status,
        _OSAID.get(v.osaid, v.osaid),
    ]


def _line(v: Verdict) -> str:
    model, *rest = (clean(c) for c in row(v))
    cells = [_cut_id(model, COLUMNS[0][1])]
    cells += [_cut(c, w) for c, (_, w) in zip(rest, COLUMNS[1:], strict=True)]
    return " ".join(c.ljust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)).rstrip()


def _notes(v: Verdict) -> list[str]:
    notes = []
    for p in v.errors:
        note = clean(f"! {v.id}: {p.subject}: {p.reason}: {p.detail}").rstrip(": ")
        notes.append(
            textwrap.fill(note, width=WIDTH, subsequent_indent="    ", break_on_hyphens=False)
        )
    return notes


def stream(header: Scorecard, verdicts: Iterable[Verdict], out: TextIO) -> None:
    """Rows as models come; the problems (kept as short lines) follow the table."""
    out.write(" ".join(name.ljust(width) for name, width in COLUMNS).rstrip() + "\n")
    notes: list[str] = []
    try:
        for v in verdicts:
            out.write(_line(v) + "\n")
            out.flush()
            notes.extend(_notes(v))
    finally:
        if notes:
            out.write("\n" + "\n".join(notes) + "\n")
        out.write("\nDetails and evidence: --format markdown or --format json.\n")
        out.flush()


def render(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    stream(scorecard, scorecard.models, buffer)
    return buffer.getvalue()
