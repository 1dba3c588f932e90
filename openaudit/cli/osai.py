"""`openaudit osai`: European Open Source AI Index entries pre-filled from an audit.

Only wiring lives here: the audit is the pipeline's, each parameter's class is the
`osai-index` rule pack's (`openaudit.rules.osai_index`), the YAML is `openaudit.report.osai_entry`.
"""

from __future__ import annotations

from typing import Any

import click

from openaudit.cli.exporting import export_inputs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def osai() -> None:
    """European Open Source AI Index: export entries in the index's format."""


@osai.command(
    "export",
    epilog="Exit codes: 0 exported; 2 usage or input error; 3 a model could not be audited.",
)
@export_inputs
def export_cmd(**opts: Any) -> None:
    """Audit MODELS and write an index entry for each, pre-filled from the Hub evidence.

    Every parameter of the index gets a class (open, partial, closed), a link to its evidence
    pinned to the audited commit, and notes. Where the evidence does not decide, the class is
    left empty and the notes say a person must decide it. Takes the same inputs and options as
    `openaudit audit`; files are named <owner>__<name>.yaml.
    """
    from openaudit.cli.common import run_audit
    from openaudit.cli.exporting import write_documents
    from openaudit.report.mof_file import file_name
    from openaudit.report.osai_entry import render
    from openaudit.rules.osai_index import judge

    scorecard = run_audit(opts)
    documents = [
        (file_name(v.id, ".yaml"), render(v, judge(v.facts)))
        for v in scorecard.models
        if v.audited and v.facts is not None
    ]
    skipped = [v.id for v in scorecard.models if not v.audited]
    write_documents(documents, opts["output_dir"], skipped)
