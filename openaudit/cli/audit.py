"""`openaudit audit`: parse the references, run the pipeline, stream the report."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from openaudit.cli.common import audit_inputs, fail, from_json_option, output_option
from openaudit.report import FORMATS as _REGISTERED

FORMATS = tuple(_REGISTERED)


@click.command(
    epilog="Exit codes: 0 audited; 2 usage or input error; 3 a model could not be audited, "
    "or was audited without evidence that exists (incomplete)."
)
@audit_inputs
@from_json_option
@click.option(
    "--format", "fmt", type=click.Choice(tuple(FORMATS)), default="table", show_default=True
)
@click.option(
    "--cyclonedx-version",
    type=click.Choice(("1.6", "1.7")),
    help="CycloneDX specification version for --format cyclonedx-json (default 1.6).",
)
@click.option(
    "--date",
    "date",
    help="The report's date (YYYY-MM-DD or ISO 8601 UTC) instead of now: same audit, same bytes.",
)
@output_option
def audit(
    fmt: str, output: Path | None, cyclonedx_version: str | None, date: str | None, **opts: Any
) -> None:
    """Audit MODELS (owner/name, owner/name@REV or a Hub URL) for licence terms and openness.

    Every dimension cites its evidence; what cannot be decided is "unknown".
    HF_TOKEN is used for gated repositories and never printed or stored.
    Table and JSON reports are written model by model, in input order, as each is done.
    """
    from openaudit.cli.common import audit_plan, open_output, stop_on_signals, stored_audit
    from openaudit.cli.progress import Progress
    from openaudit.pipeline import Run
    from openaudit.report import write

    if cyclonedx_version is not None and fmt != "cyclonedx-json":
        fail("--cyclonedx-version applies to --format cyclonedx-json only")
    options = {"cyclonedx_version": cyclonedx_version} if cyclonedx_version else {}
    when = _date(date)
    missing: list[tuple[str, bool]] = []
    stored = stored_audit(opts)
    if stored is not None:
        stored = replace(stored, generated_at=when or stored.generated_at)
        with open_output(output) as out:
            write(stored, (_note(v, missing) for v in stored.models), fmt, out, options)
        _exit_if_missing(missing, len(stored.models))
        return
    refs, plan = audit_plan(opts)
    with (
        Run(plan) as run,
        Progress(
            len(refs),
            quiet=opts["quiet"],
            verbose=opts["verbose"],
            in_flight=lambda: run.in_flight,
        ) as progress,
        open_output(output) as out,
        stop_on_signals(run),
    ):
        verdicts = run.verdicts(refs, progress=progress)
        header = run.scorecard()
        header = replace(header, generated_at=when or header.generated_at)
        write(header, (_note(v, missing) for v in verdicts), fmt, out, options)
    if run.stop_signal is not None:
        click.echo(f"openaudit: interrupted; the report lists {len(missing)} unfinished", err=True)
        sys.exit(128 + run.stop_signal)
    _exit_if_missing(missing, len(refs))


def _date(text: str | None) -> str | None:
    """`--date` as the report's timestamp (UTC, to the second), or a one-line error."""
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--date '{text}': not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)")
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _exit_if_missing(missing: list[tuple[str, bool]], total: int) -> None:
    """Exit 3 when a model was not audited, or audited without evidence that exists."""
    not_audited = [i for i, audited in missing if not audited]
    incomplete = [i for i, audited in missing if audited]
    if not_audited:
        click.echo(
            f"openaudit: {len(not_audited)} of {total} not audited: {', '.join(not_audited)}",
            err=True,
        )
    if incomplete:
        click.echo(
            f"openaudit: {len(incomplete)} of {total} incomplete (evidence not read, see "
            f"errors): {', '.join(incomplete)}",
            err=True,
        )
    if missing:
        sys.exit(3)


def _note(verdict: Any, missing: list[tuple[str, bool]]) -> Any:
    """Collect the models not audited, or audited without evidence that exists (incomplete)."""
    from openaudit.hub.retry import UNFINISHED

    unfinished = any(e.reason in UNFINISHED for e in verdict.errors)
    if not verdict.audited or not verdict.complete or unfinished:
        missing.append((verdict.id, verdict.audited))
    return verdict
