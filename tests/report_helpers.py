"""Shared by the report tests: one report of the fixtures plus a hostile folder, and a checker
that renders Markdown as site generators do (markdown-it-py with raw HTML enabled)."""

from __future__ import annotations

import re
from pathlib import Path

from tests import hostile
from tests.helpers import run_cli

#: Fixture models the report tests publish: a community licence, a pickle/remote-code repo,
#: a gated one, a non-commercial one and an unreadable one, beside the hostile local folder.
MODELS = (
    "acme/llama-3.1-acme-chat",
    "fixture-org/llama-3.1-fixture-8b",
    "acme/tiny-apache-encoder",
    "acme/nc-summarizer",
    "acme/auto-gated-vit",
    "trap-org/remote-code-model",
    "cover-org/mit-with-extra-terms",
    "acme/disabled-model",
)


def make_report(hub_url: str, tmp: Path, *extra: str) -> tuple[Path, int, str]:
    folder = hostile.make(tmp / "hostile")
    out = tmp / "report"
    run = run_cli(
        "report",
        *MODELS,
        "--path",
        str(folder),
        "--out",
        str(out),
        "--endpoint",
        hub_url,
        "--cache-dir",
        str(tmp / "cache"),
        "--date",
        "2026-01-02",
        *extra,
    )
    return out, run.code, run.stderr


def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


_PIPE = re.compile(r"(?<!\\)\|")


def table_shapes(text: str) -> list[tuple[int, int]]:
    """(header cells, row cells) for every table row whose cell count differs from its header."""
    bad = []
    header: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = len(_PIPE.findall(line)) - 1
        if header is None:
            header = cells
        elif cells != header:
            bad.append((header, cells))
    return bad
