"""What the export commands (`mof export`, `osai export`) share: the audit's inputs and options,
and writing one file per model or a YAML stream.

An export is an audit rendered another way, so it takes the same references and options as
`openaudit audit` and runs the same pipeline: a file pre-filled from other evidence, or other
rules, than the audit's would let the two disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from openaudit.cli.common import audit_inputs, fail

F = TypeVar("F", bound=Callable[..., Any])

_OUTPUT_DIR = click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write one <owner>__<name> file per model here, instead of a YAML stream on standard output.",
)


def export_inputs(func: F) -> F:
    """`openaudit audit`'s inputs and options, plus where to write the files."""
    return audit_inputs(_OUTPUT_DIR(func))


def write_documents(
    documents: Sequence[tuple[str, str]], output_dir: Path | None, skipped: Sequence[str]
) -> None:
    """One file per (name, text) in `output_dir`, else a YAML stream; exit 3 if a model was skipped."""
    if output_dir is None:
        click.echo("".join(f"---\n{text}" for _, text in documents), nl=False)
    else:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            for name, text in documents:
                tmp = output_dir / f".{name}.tmp"
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(output_dir / name)
                click.echo(str(output_dir / name), err=True)
        except OSError as exc:
            fail(f"{output_dir}: cannot write ({exc.strerror or exc.__class__.__name__})")
    if skipped:
        click.echo(f"openaudit: not audited, nothing exported: {', '.join(skipped)}", err=True)
        sys.exit(3)
