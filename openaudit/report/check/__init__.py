"""Render a pre-merge check (`openaudit check`): text, JSON, SARIF 2.1.0, Markdown.

Each format is one module exposing `render(result: CheckResult) -> str`, registered in
FORMATS; a new format is one new module and one line here. Renderers never judge: the
violations and the exit code come from `openaudit.policy.result`.
"""

from __future__ import annotations

import importlib
import re

from openaudit.policy.result import CheckResult

FORMATS: dict[str, str] = {
    "text": "openaudit.report.check.text",
    "json": "openaudit.report.check.json_format",
    "sarif": "openaudit.report.check.sarif",
    "markdown": "openaudit.report.check.markdown",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Untrusted text (a card, a path, a string in code) without control or bidi characters."""
    return _CONTROL.sub("", text)


def render(result: CheckResult, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    text: str = importlib.import_module(FORMATS[fmt]).render(result)
    return text


__all__ = ["FORMATS", "clean", "render"]
