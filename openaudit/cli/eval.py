"""`openaudit eval`: replay a labelled corpus on loopback, audit it, measure agreement.

The CLI only wires things together: the replay server (`openaudit.hub.replay`), the audit
pipeline with a fresh temporary evidence store, and the scoring (`openaudit.evaluate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from openaudit.cli.common import output_option

if TYPE_CHECKING:
    from openaudit.model import Scorecard

_LOOPBACK = "127.0.0.1,localhost"


@click.command("eval", epilog="Exit codes: 0 measured; 2 unreadable corpus or labels.")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labels file (default: CORPUS/labels.json).",
)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
@output_option
@click.option(
    "--anonymous",
    is_flag=True,
    help="Refuse gated repos' files, as the Hub does without a token (default: serve them).",
)
@click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True)
@click.option("--timeout", type=float, default=20.0, show_default=True)
def eval_(
    corpus: Path,
    labels_path: Path | None,
    fmt: str,
    output: Path | None,
    anonymous: bool,
    workers: int,
    timeout: float,
) -> None:
    """Measure agreement with expert labels on CORPUS, beside a naive baseline.

    CORPUS is a folder of Hub snapshots in corpus format with a labels.json. It is replayed
    by a loopback server, every model is audited with a fresh evidence store, and each
    dimension is scored against the labels; the baseline trusts the licence tag alone.
    """
    import json

    from openaudit.cli.common import fail, write_output
    from openaudit.evaluate import LabelError, evaluate, load_corpus, render_text, to_json
    from openaudit.kb import load_kb

    try:
        labelled = load_corpus(corpus, labels_path)
    except LabelError as exc:
        fail(str(exc))
    if not labelled.model_ids:
        fail(f"{corpus}: no models/<owner>/<name>/api.json found")
    scorecard = _audit(corpus, labelled.model_ids, anonymous, workers, timeout)
    evaluation = evaluate(scorecard, labelled, load_kb())
    if fmt == "json":
        text = json.dumps(to_json(evaluation), indent=2) + "\n"
    else:
        text = render_text(evaluation)
    write_output(text, output)


def _audit(
    corpus: Path, ids: Sequence[str], anonymous: bool, workers: int, timeout: float
) -> Scorecard:
    """Audit `ids` against a loopback replay of `corpus`, with a throw-away evidence store."""
    import os
    import tempfile

    from openaudit.hub.replay import ReplayHub
    from openaudit.model import ModelRef
    from openaudit.pipeline import AuditOptions, audit

    # A proxy configured for the Internet must not swallow loopback requests.
    for var in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(var, "")
        if "127.0.0.1" not in current:
            os.environ[var] = f"{current},{_LOOPBACK}" if current else _LOOPBACK
    with (
        tempfile.TemporaryDirectory(prefix="openaudit-eval-") as store,
        ReplayHub(corpus, gated_open=not anonymous) as hub,
    ):
        # The corpus is a frozen snapshot: links to the live web are not part of it.
        options = AuditOptions(
            endpoint=hub.url,
            cache_dir=Path(store),
            timeout=timeout,
            workers=workers,
            link_hosts=frozenset(_LOOPBACK.split(",")),
        )
        return audit([ModelRef(i) for i in ids], options)
