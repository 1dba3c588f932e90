"""`openaudit mof`: the Model Openness Framework on Model Openness Tool model files.

Only reading arguments and printing live here; the classification is
`openaudit.rules.mof`, so the audit and this command cannot disagree.
"""

from __future__ import annotations

import json
from typing import Any

import click

from openaudit.cli.exporting import export_inputs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def mof() -> None:
    """Model Openness Framework: classify (and export) MOT model files."""


@mof.command("classify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json gives the Model Openness Tool's own classification object per file.",
)
def classify_cmd(files: tuple[str, ...], fmt: str) -> None:
    """Compute the MOF class (I to III, or Unclassified) of MOT model YAML FILES.

    The class, label and per-class progress are those mot.isitopen.ai shows.
    A file that cannot be read or breaks the schema is reported on stderr with
    the field at fault; the others are still classified, and the exit code is 2.
    """
    from openaudit.rules.mof import classify, to_api, warning_to_dict
    from openaudit.rules.mof_file import MofFileError, read_release

    results: list[dict[str, Any]] = []
    failed = False
    for file in files:
        try:
            release = read_release(file)
        except MofFileError as exc:
            click.echo(f"openaudit: {exc.file}: {exc.field}: {exc.message}", err=True)
            failed = True
            continue
        classification = classify(release)
        results.append(
            {
                "file": file,
                "name": release.name,
                "classification": to_api(classification),
                "warnings": [warning_to_dict(w) for w in classification.warnings],
            }
        )
    if fmt == "json":
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        _table(results)
    if failed:
        raise SystemExit(2)


def _table(results: list[dict[str, Any]]) -> None:
    rows = [("FILE", "NAME", "CLASS", "I", "II", "III")]
    for r in results:
        c = r["classification"]
        pct = [f"{float(c['progress'][k]):.0f}%" for k in ("1", "2", "3")]
        rows.append((r["file"], r["name"], c["label"], *pct))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            continue
        for w in results[i - 1]["warnings"]:
            click.echo(f"    warning: {w['message']}")


@mof.command(
    "export",
    epilog="Exit codes: 0 exported; 2 usage or input error; 3 a model could not be audited.",
)
@export_inputs
def export_cmd(**opts: Any) -> None:
    """Audit MODELS and write a MOT model file for each, pre-filled from the Hub evidence.

    Each component the evidence shows released is listed with its licence (SPDX id) and a
    location pinned to the audited commit; components only a person can confirm are left out
    and named in a comment block at the top. `openaudit mof classify` on the file gives the
    class the audit gives. Takes the same inputs and options as `openaudit audit`.
    """
    from openaudit.cli.common import run_audit
    from openaudit.cli.exporting import write_documents
    from openaudit.report.mof_file import file_name, render

    scorecard = run_audit(opts)
    documents = [(file_name(v.id, ".yml"), render(v)) for v in scorecard.models if v.audited]
    skipped = [v.id for v in scorecard.models if not v.audited]
    write_documents(documents, opts["output_dir"], skipped)
