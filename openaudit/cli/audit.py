"""`openaudit audit`: parse the references, run the pipeline, print the report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from openaudit.cli.common import audit_inputs, output_option

FORMATS = ("table", "json", "markdown")


@click.command(
    epilog="Exit codes: 0 audited; 2 usage or input error; 3 a model could not be audited."
)
@audit_inputs
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@output_option
def audit(fmt: str, output: Path | None, **opts: Any) -> None:
    """Audit MODELS (owner/name or owner/name@REV) for licence terms and openness.

    Every dimension cites its evidence; what cannot be decided is "unknown".
    HF_TOKEN is used for gated repositories and never printed or stored.
    """
    from openaudit.cli.common import run_audit, write_output
    from openaudit.report import render

    scorecard = run_audit(opts)
    write_output(render(scorecard, fmt), output)
    missing = [v.id for v in scorecard.models if not v.audited]
    if missing:
        click.echo(
            f"openaudit: {len(missing)} of {len(scorecard.models)} not audited: {', '.join(missing)}",
            err=True,
        )
        sys.exit(3)
