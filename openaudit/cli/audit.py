"""`openaudit audit`: parse the references, run the pipeline, stream the report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from openaudit.cli.common import audit_inputs, from_json_option, output_option
from openaudit.report import FORMATS as _REGISTERED

FORMATS = tuple(_REGISTERED)


@click.command(
    epilog="Exit codes: 0 audited; 2 usage or input error; 3 a model could not be audited."
)
@audit_inputs
@from_json_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@output_option
def audit(fmt: str, output: Path | None, **opts: Any) -> None:
    """Audit MODELS (owner/name, owner/name@REV or a Hub URL) for licence terms and openness.

    Every dimension cites its evidence; what cannot be decided is "unknown".
    HF_TOKEN is used for gated repositories and never printed or stored.
    Table and JSON reports are written model by model, in input order, as each is done.
    """
    from openaudit.cli.common import audit_plan, open_output, stop_on_signals, stored_audit
    from openaudit.cli.progress import Progress
    from openaudit.pipeline import Run
    from openaudit.report import write

    missing: list[str] = []
    stored = stored_audit(opts)
    if stored is not None:
        with open_output(output) as out:
            write(stored, (_note(v, missing) for v in stored.models), fmt, out)
        _exit_if_missing(missing, len(stored.models))
        return
    refs, options = audit_plan(opts)
    with (
        Run(options) as run,
        Progress(len(refs), quiet=opts["quiet"], verbose=opts["verbose"]) as progress,
        open_output(output) as out,
        stop_on_signals(run),
    ):
        verdicts = run.verdicts(refs, progress=progress)
        write(run.scorecard(), (_note(v, missing) for v in verdicts), fmt, out)
    if run.stop_signal is not None:
        click.echo(f"openaudit: interrupted; the report lists {len(missing)} unfinished", err=True)
        sys.exit(128 + run.stop_signal)
    _exit_if_missing(missing, len(refs))


def _exit_if_missing(missing: list[str], total: int) -> None:
    if missing:
        click.echo(
            f"openaudit: {len(missing)} of {total} not audited or incomplete: {', '.join(missing)}",
            err=True,
        )
        sys.exit(3)


def _note(verdict: Any, missing: list[str]) -> Any:
    """Collect the models not audited, or audited with evidence a passing failure kept unread."""
    from openaudit.hub.retry import UNFINISHED

    if not verdict.audited or any(e.reason in UNFINISHED for e in verdict.errors):
        missing.append(verdict.id)
    return verdict
