"""Small helpers shared by the commands: errors, output files, gathering references."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from openaudit.model import ModelRef, Scorecard

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
    datasets = [r for r in refs if r.kind == "dataset"]
    if datasets:
        fail(
            f"'datasets/{datasets[0].repo_id}' is a dataset: openaudit audits models "
            "(a model's datasets are read as its training data)"
        )
    if not refs:
        fail("nothing to audit: give model ids, --path, --from-file or --hf-cache")
    return refs


_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    click.argument("models", nargs=-1),
    click.option(
        "--path",
        "paths",
        multiple=True,
        type=click.Path(path_type=Path),
        help="A model folder on disk (Hub layout), or a folder of them. Repeatable.",
    ),
    click.option("--hf-cache", is_flag=True, help="Every model in the local Hugging Face cache."),
    click.option(
        "--examples", is_flag=True, help="The example model folders shipped with openaudit."
    ),
    click.option(
        "--hf-cache-dir",
        type=click.Path(path_type=Path),
        help="Where that cache is (default: HF_HUB_CACHE).",
    ),
    click.option(
        "--from-file",
        "from_file",
        type=click.Path(path_type=Path),
        help="File of model ids, one per line.",
    ),
    click.option(
        "--revision", help="Revision for ids without @REV (branch, tag or commit). Default: main."
    ),
    click.option(
        "--offline", is_flag=True, help="Use the evidence store only; name what is missing."
    ),
    click.option(
        "--cache-dir",
        type=click.Path(path_type=Path),
        envvar="OPENAUDIT_CACHE_DIR",
        help="Evidence store folder (env OPENAUDIT_CACHE_DIR).",
    ),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the evidence store."),
    click.option("--endpoint", envvar="HF_ENDPOINT", help="Hub URL (env HF_ENDPOINT)."),
    click.option(
        "--rules",
        "rules_dirs",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Extra rule pack (pack.yml or a folder of packs). Repeatable.",
    ),
    click.option(
        "--timeout", type=float, default=20.0, show_default=True, help="Seconds per Hub request."
    ),
    click.option(
        "--depth",
        type=click.IntRange(0, 10),
        default=4,
        show_default=True,
        help="How many levels of base models to follow.",
    ),
    click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True),
)


def audit_inputs(func: F) -> F:
    """The options that choose and fetch models: shared by `audit` and the exports, so an
    export is always the audit of the same references with the same options."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def run_audit(opts: dict[str, Any]) -> Scorecard:
    """Gather the references and audit them, exactly as `openaudit audit` does."""
    from openaudit.pipeline import AuditOptions, audit

    paths = tuple(opts["paths"])
    if opts["examples"]:
        from openaudit.resources import data_dir

        paths = (*paths, data_dir("examples") / "models")
    refs = gather_refs(
        opts["models"],
        paths,
        opts["hf_cache"],
        opts["hf_cache_dir"],
        opts["from_file"],
        opts["revision"],
    )
    options = AuditOptions(
        endpoint=opts["endpoint"],
        cache_dir=opts["cache_dir"],
        use_store=not opts["no_cache"],
        offline=opts["offline"],
        timeout=opts["timeout"],
        depth=opts["depth"],
        workers=opts["workers"],
        rules_dirs=tuple(opts["rules_dirs"]),
    )
    return audit(refs, options)
