"""`openaudit report`: publishable scorecards (Markdown, badges, optionally a static HTML site)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from openaudit.cli.common import audit_inputs, fail

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z?)?$")


@click.command(
    epilog="Exit codes: 0 written; 2 usage or input error; 3 a model could not be audited "
    "(its scorecard says why)."
)
@audit_inputs
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write: README.md (the leaderboard), <owner>/<name>.md, badges/, html/.",
)
@click.option("--html", is_flag=True, help="Also write a static HTML site under OUT/html.")
@click.option(
    "--from-json",
    "from_json",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Render a stored `audit --format json` report instead of auditing.",
)
@click.option(
    "--since",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier JSON report: add 'Changed since' (licence, gating, weights, files, terms, verdicts).",
)
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder of Jinja templates overriding the built-in ones (same file names).",
)
@click.option("--date", help="The date to print (YYYY-MM-DD), so a re-run gives identical files.")
def report(
    out_dir: Path,
    html: bool,
    from_json: Path | None,
    since: Path | None,
    templates: Path | None,
    date: str | None,
    **opts: Any,
) -> None:
    """Write published scorecards for MODELS: one Markdown file per model and an index.

    Inputs are those of `openaudit audit`, or --from-json AUDIT.json.
    """
    from dataclasses import replace

    from openaudit.report.site import Options, build

    if date is not None and not _DATE.match(date):
        fail(f"--date '{date}': expected YYYY-MM-DD")
    scorecard = _read(from_json) if from_json is not None else _audit(opts)
    if date is not None:
        scorecard = replace(scorecard, generated_at=date)
    previous = _read(since) if since is not None else None
    files = build(scorecard, Options(html=html, templates=templates, since=previous))
    _write(out_dir, files, quiet=bool(opts.get("quiet")))
    missing = [v.id for v in scorecard.models if not v.audited]
    if missing:
        click.echo(
            f"openaudit: {len(missing)} of {len(scorecard.models)} not audited: {', '.join(missing)}",
            err=True,
        )
        sys.exit(3)


def _audit(opts: dict[str, Any]) -> Any:
    from openaudit.cli.common import run_audit

    return run_audit(opts)


def _read(path: Path) -> Any:
    from openaudit.report.json_format import read_scorecard

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc.__class__.__name__})")
    try:
        return read_scorecard(text)
    except ValueError as exc:
        fail(f"{path}: {exc}")


def _write(out_dir: Path, files: dict[str, str], quiet: bool) -> None:
    try:
        for rel, text in files.items():
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8", newline="\n")
            tmp.replace(target)
    except OSError as exc:
        fail(f"{out_dir}: cannot write ({exc.strerror or exc.__class__.__name__})")
    if not quiet:
        click.echo(f"openaudit: wrote {len(files)} files to {out_dir}", err=True)
