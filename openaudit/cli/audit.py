"""`openaudit audit`: parse the references, run the pipeline, print the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openaudit.cli.common import fail, output_option, write_output

FORMATS = ("table", "json", "markdown")


@click.command(
    epilog="Exit codes: 0 audited; 2 usage or input error; 3 a model could not be audited."
)
@click.argument("models", nargs=-1)
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A model folder on disk (Hub layout), or a folder of them. Repeatable.",
)
@click.option("--hf-cache", is_flag=True, help="Audit every model in the local Hugging Face cache.")
@click.option("--examples", is_flag=True, help="Audit the example model folders shipped with openaudit.")
@click.option(
    "--hf-cache-dir",
    type=click.Path(path_type=Path),
    help="Where that cache is (default: HF_HUB_CACHE).",
)
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(path_type=Path),
    help="File of model ids, one per line.",
)
@click.option(
    "--revision", help="Revision for ids without @REV (branch, tag or commit). Default: main."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@output_option
@click.option(
    "--offline", is_flag=True, help="Audit from the evidence store only; name what is missing."
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    envvar="OPENAUDIT_CACHE_DIR",
    help="Evidence store folder (env OPENAUDIT_CACHE_DIR).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the evidence store.")
@click.option("--endpoint", envvar="HF_ENDPOINT", help="Hub URL (env HF_ENDPOINT).")
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra rule pack (pack.yml or a folder of packs). Repeatable.",
)
@click.option(
    "--timeout", type=float, default=20.0, show_default=True, help="Seconds per Hub request."
)
@click.option(
    "--depth",
    type=click.IntRange(0, 10),
    default=4,
    show_default=True,
    help="How many levels of base models to follow.",
)
@click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True)
def audit(
    models: tuple[str, ...],
    paths: tuple[Path, ...],
    hf_cache: bool,
    examples: bool,
    hf_cache_dir: Path | None,
    from_file: Path | None,
    revision: str | None,
    fmt: str,
    output: Path | None,
    offline: bool,
    cache_dir: Path | None,
    no_cache: bool,
    endpoint: str | None,
    rules_dirs: tuple[Path, ...],
    timeout: float,
    depth: int,
    workers: int,
) -> None:
    """Audit MODELS (owner/name or owner/name@REV) for licence terms and openness.

    Every dimension cites its evidence; what cannot be decided is "unknown".
    HF_TOKEN is used for gated repositories and never printed or stored.
    """
    from openaudit.cli.common import gather_refs
    from openaudit.pipeline import AuditOptions
    from openaudit.pipeline import audit as run_audit
    from openaudit.report import render

    if examples:
        from openaudit.resources import data_dir

        paths = (*paths, data_dir("examples") / "models")
    refs = gather_refs(models, paths, hf_cache, hf_cache_dir, from_file, revision)
    options = AuditOptions(
        endpoint=endpoint,
        cache_dir=cache_dir,
        use_store=not no_cache,
        offline=offline,
        timeout=timeout,
        depth=depth,
        workers=workers,
        rules_dirs=rules_dirs,
    )
    scorecard = run_audit(refs, options)
    write_output(render(scorecard, fmt), output)
    missing = [v.id for v in scorecard.models if not v.audited]
    if missing:
        click.echo(
            f"openaudit: {len(missing)} of {len(scorecard.models)} not audited: {', '.join(missing)}",
            err=True,
        )
        sys.exit(3)
    if not scorecard.models:
        fail("nothing was audited")
