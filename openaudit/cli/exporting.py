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

from openaudit.cli.common import fail
from openaudit.model import Scorecard

F = TypeVar("F", bound=Callable[..., Any])

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
        "--output-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Write one <owner>__<name> file per model here, instead of a YAML stream on standard output.",
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
    """The options of `openaudit audit` that choose and fetch models, plus --output-dir."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def run_audit(opts: dict[str, Any]) -> Scorecard:
    """Gather the references and audit them, exactly as `openaudit audit` does."""
    from openaudit.cli.common import gather_refs
    from openaudit.pipeline import AuditOptions, audit

    refs = gather_refs(
        opts["models"],
        opts["paths"],
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
