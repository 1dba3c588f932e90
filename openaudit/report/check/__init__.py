"""Render a pre-merge check (`openaudit check`): text, JSON, SARIF 2.1.0, Markdown.

Each format is one module exposing `render(result: CheckResult) -> str`, registered in
FORMATS; a new format is one new module and one line here. Renderers never judge: the
violations and the exit code come from `openaudit.policy.result`.
"""

from __future__ import annotations

import importlib

from openaudit.policy.result import CheckResult
from openaudit.report.escape import clean

FORMATS: dict[str, str] = {
    "text": "openaudit.report.check.text",
    "json": "openaudit.report.check.json_format",
    "sarif": "openaudit.report.check.sarif",
    "markdown": "openaudit.report.check.markdown",
}


def render(result: CheckResult, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    text: str = importlib.import_module(FORMATS[fmt]).render(result)
    return text


__all__ = ["FORMATS", "clean", "render"]
