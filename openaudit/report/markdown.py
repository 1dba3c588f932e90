"""Markdown scorecards: an index table, then one section per model with its evidence.

Rendered from a Jinja template so publishers can restyle it without touching
the judgement; autoescaping is off because the output is Markdown, and values
are escaped for table cells by a filter instead.
"""

from __future__ import annotations

import functools
from typing import Any

from openaudit.model import Scorecard
from openaudit.report.json_format import details

DIMENSION_TITLES = {
    "licence": "Licence",
    "commercial_use": "Commercial use",
    "weights": "Weights",
    "training_data": "Training data",
    "code": "Code",
    "documentation": "Documentation",
}


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("openaudit.report", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _cell
    return env


def render(scorecard: Scorecard) -> str:
    template = _environment().get_template("scorecard.md.j2")
    text: str = template.render(scorecard=scorecard, titles=DIMENSION_TITLES, details=details)
    return text
