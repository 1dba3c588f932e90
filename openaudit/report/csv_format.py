"""CSV for spreadsheets: one row per model, in input order, the same words as the scorecards.

Cells are cleaned of control characters and line breaks, and a cell a spreadsheet would run
as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`, so a hostile card's name stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

from openaudit.model import DIMENSIONS, Scorecard, Verdict
from openaudit.report import view
from openaudit.report.escape import csv_cell

HEADER = (
    "id",
    "revision",
    "source",
    "audited",
    "complete",
    "licence_ids",
    *DIMENSIONS,
    "osaid",
    "mof_class",
    "problems",
)


def row(v: Verdict) -> list[str]:
    statuses = []
    for name in DIMENSIONS:
        try:
            statuses.append(v.dimension(name).status)
        except KeyError:
            statuses.append("")
    cells = [
        v.id,
        v.revision or "",
        v.source,
        "yes" if v.audited else "no",
        "yes" if view.complete(v) else "no",
        " ".join(v.licence_ids) or view.NO_LICENCE,
        *statuses,
        view.OSAID_WORDS.get(v.osaid, v.osaid),
        str(v.mof_class) if v.mof_class else "unclassified",
        "; ".join(view.problem_groups(v.errors, v.id)),
    ]
    return [csv_cell(c) for c in cells]


def stream(header: Scorecard, verdicts: Iterable[Verdict], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for v in verdicts:
        writer.writerow(row(v))
        out.flush()


def render(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    stream(scorecard, scorecard.models, buffer)
    return buffer.getvalue()
