"""Small helpers shared by the commands: errors, output files, gathering references."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from openaudit.model import ModelRef

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> NoReturn:
    """One line naming the input, never a traceback."""
    click.echo(f"openaudit: {message}", err=True)
    sys.exit(code)


def output_option(func: F) -> F:
    return click.option(
        "--output",
        "-o",
        type=click.Path(path_type=Path),
        help="Write the report to this file instead of standard output.",
    )(func)


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        fail(f"{output}: cannot write ({exc.strerror or exc.__class__.__name__})")


def gather_refs(
    models: tuple[str, ...],
    paths: tuple[Path, ...],
    hf_cache: bool,
    hf_cache_dir: Path | None,
    from_file: Path | None,
    revision: str | None,
) -> list[ModelRef]:
    """Every reference from every source, in the order given; input errors exit 2."""
    from openaudit.hub.local import LocalSourceError, cache_refs, find_model_folders, folder_ref
    from openaudit.sources import SourceError, parse_ref, refs_from_file

    refs: list[ModelRef] = []
    try:
        refs.extend(parse_ref(m, revision) for m in models)
        if from_file is not None:
            refs.extend(refs_from_file(from_file, revision))
        for path in paths:
            folders = find_model_folders(path)
            if not folders:
                fail(f"{path}: no model folder (README.md or config.json) found")
            refs.extend(folder_ref(f) for f in folders)
    except (SourceError, LocalSourceError) as exc:
        fail(str(exc))
    if hf_cache:
        cached, problems = cache_refs(hf_cache_dir)
        for p in problems:
            click.echo(f"openaudit: {p.subject}: {p.detail}", err=True)
        refs.extend(cached)
    if not refs:
        fail("nothing to audit: give model ids, --path, --from-file or --hf-cache")
    return refs
