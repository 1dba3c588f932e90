"""report: render a Scorecard; never judges.

Each format is one module exposing `render(scorecard: Scorecard) -> str`,
registered in FORMATS; a new format is one new module and one line here.
"""

from __future__ import annotations

import importlib

from openaudit.model import Scorecard

FORMATS: dict[str, str] = {
    "table": "openaudit.report.table",
    "json": "openaudit.report.json_format",
    "markdown": "openaudit.report.markdown",
}


def render(scorecard: Scorecard, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    module = importlib.import_module(FORMATS[fmt])
    text: str = module.render(scorecard)
    return text


__all__ = ["FORMATS", "render"]
