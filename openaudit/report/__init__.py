"""report: render a Scorecard; never judges.

Each format is one module exposing `render(scorecard: Scorecard) -> str`,
registered in FORMATS; a new format is one new module and one line here. A format
that can write each model as it comes also exposes
`stream(header: Scorecard, verdicts: Iterable[Verdict], out: TextIO)` (the header is the
run's Scorecard without models); `write` then streams it, and collects for the others.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from openaudit.model import Scorecard, Verdict

FORMATS: dict[str, str] = {
    "table": "openaudit.report.table",
    "json": "openaudit.report.json_format",
    "markdown": "openaudit.report.markdown",
    "csv": "openaudit.report.csv_format",
    "spdx-json": "openaudit.report.spdx_json",
    "spdx3-json": "openaudit.report.spdx3_json",
    "cyclonedx-json": "openaudit.report.cyclonedx_json",
}


def _accepted(function: Any, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options a format's `render` takes (`cyclonedx_version` ...): others are not its own."""
    if not options:
        return {}
    parameters = inspect.signature(function).parameters
    return {k: v for k, v in options.items() if k in parameters}


def render(scorecard: Scorecard, fmt: str, options: Mapping[str, Any] | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    module = importlib.import_module(FORMATS[fmt])
    text: str = module.render(scorecard, **_accepted(module.render, options))
    return text


def streams(fmt: str) -> bool:
    """Whether `fmt` writes each model as it comes (bounded memory, first result at once)."""
    return hasattr(importlib.import_module(FORMATS[fmt]), "stream")


def write(
    header: Scorecard,
    verdicts: Iterable[Verdict],
    fmt: str,
    out: TextIO,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Write the report of `verdicts` to `out`, streaming when the format can."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    module = importlib.import_module(FORMATS[fmt])
    if hasattr(module, "stream"):
        module.stream(header, verdicts, out)
        return
    from dataclasses import replace

    scorecard = replace(header, models=tuple(verdicts))
    out.write(module.render(scorecard, **_accepted(module.render, options)))


__all__ = ["FORMATS", "render", "streams", "write"]
