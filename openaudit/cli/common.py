"""Small helpers shared by the commands: errors, output files, gathering references."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

import click

from openaudit.model import ModelRef, Scorecard

if TYPE_CHECKING:
    from openaudit.pipeline import AuditOptions

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> NoReturn:
    """One line per problem naming the input, never a traceback."""
    for line in message.splitlines() or [""]:
        click.echo(f"openaudit: {line}", err=True)
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


@contextmanager
def open_output(output: Path | None) -> Iterator[TextIO]:
    """Where a streamed report goes: stdout, or `output` replaced whole when the run ends.

    The file is written beside its target and renamed, so a reader never sees half a
    report; an interrupt (Ctrl-C) still renames what was finished (formats close their
    document on the way out).
    """
    if output is None:
        yield sys.stdout
        return
    tmp = output.with_name(output.name + ".tmp")
    try:
        fh = tmp.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write ({exc.strerror or exc.__class__.__name__})")
    try:
        with fh:
            yield fh
    except KeyboardInterrupt:
        tmp.replace(output)
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
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
    listing: dict[str, Any] | None = None,
) -> list[ModelRef]:
    """Every distinct reference from every source, in the order given; input errors exit 2."""
    from openaudit.hub.local import LocalSourceError, cache_refs, find_model_folders, folder_ref
    from openaudit.sources import SourceError, refs_from_file, refs_from_lines, unique_refs

    refs: list[ModelRef] = []
    try:
        named, errors = refs_from_lines(models, "argument", revision)
        if errors:  # every bad argument, not only the first
            raise SourceError("\n".join(e.split(": ", 1)[1] for e in errors))
        refs.extend(replace(r, origin="cli") for r in named)
        if from_file is not None:
            refs.extend(refs_from_file(from_file, revision))
        if listing:
            refs.extend(_listed(listing, revision))
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
        fail(
            "nothing to audit: give model ids, --path, --from-file, --author/--search/--filter "
            "or --hf-cache"
        )
    return unique_refs(refs)


def _listed(listing: dict[str, Any], revision: str | None) -> list[ModelRef]:
    from openaudit.hub.client import HubError
    from openaudit.hub.listing import listed_refs

    try:
        refs = listed_refs(
            endpoint=listing["endpoint"],
            author=listing["author"],
            search=listing["search"],
            filters=listing["filters"],
            revision=revision,
            timeout=listing["timeout"],
        )
    except HubError as exc:
        p = exc.problem
        fail(f"{p.subject}: {p.reason}: {p.detail}")
    if not refs:
        fail(f"{listing_name(listing)}: the Hub lists no model")
    return refs


def listing_name(listing: dict[str, Any]) -> str:
    parts = [f"--{k} {listing[k]}" for k in ("author", "search") if listing[k]]
    return " ".join(parts + [f"--filter {f}" for f in listing["filters"]])


_CHOOSE: tuple[Callable[[Any], Any], ...] = (
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
        help="File of model ids or Hub URLs, one per line ('-': standard input).",
    ),
    click.option("--author", help="Every model of this user or organisation on the Hub."),
    click.option("--search", help="Every model whose id contains this text on the Hub."),
    click.option(
        "--filter",
        "filters",
        multiple=True,
        help="Every model with this tag on the Hub (with --author/--search: all must hold).",
    ),
    click.option(
        "--revision", help="Revision for ids without @REV (branch, tag or commit). Default: main."
    ),
)

#: How models are fetched and judged: shared by every command that audits (audit, the exports,
#: check, lock, notices), so the same option means the same thing everywhere.
FETCH_OPTIONS: tuple[Callable[[Any], Any], ...] = (
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
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=20.0,
        show_default=True,
        help="Seconds per request, the whole answer included (a slow body counts).",
    ),
    click.option(
        "--deadline",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds for the whole batch; models not finished by then are reported incomplete.",
    ),
    click.option(
        "--model-deadline",
        type=click.FloatRange(min=0.1),
        default=300.0,
        show_default=True,
        help="Seconds for one model, its bases, datasets and links included.",
    ),
    click.option(
        "--depth",
        type=click.IntRange(0, 10),
        default=4,
        show_default=True,
        help="How many levels of base models to follow.",
    ),
    click.option(
        "--jobs",
        "-j",
        "--workers",
        "jobs",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Models fetched at once (network-bound). --workers is an alias.",
    ),
)
_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    *_CHOOSE,
    *FETCH_OPTIONS,
    click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary on stderr."),
    click.option(
        "--verbose", "-v", is_flag=True, help="Each model's result on stderr as it is done."
    ),
)


def fetch_options(func: F) -> F:
    for option in reversed(FETCH_OPTIONS):
        func = option(func)
    return func


def audit_inputs(func: F) -> F:
    """The options that choose and fetch models: shared by `audit` and the exports, so an
    export is always the audit of the same references with the same options."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def from_json_option(func: F) -> F:
    return click.option(
        "--from-json",
        "from_json",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Re-render a stored JSON audit (openaudit/audit/v1) instead of auditing; no Hub needed.",
    )(func)


#: Options that choose what to audit, which a stored audit replaces.
_INPUTS = ("models", "paths", "hf_cache", "examples", "from_file", "author", "search", "filters")


def read_audit(path: Path) -> Scorecard:
    """A stored JSON audit, or a one-line exit-2 error naming the file."""
    from openaudit.report.json_format import ReportError, read_scorecard

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        fail(f"{path}: cannot read ({reason})")
    try:
        return read_scorecard(text)
    except ReportError as exc:
        fail(f"{path}: {exc}")


def run_audit(opts: dict[str, Any]) -> Scorecard:
    """Gather the references and audit them, exactly as `openaudit audit` does; or, with
    `--from-json`, read the stored audit back."""
    from openaudit.pipeline import audit

    stored = stored_audit(opts)
    if stored is not None:
        return stored
    refs, options = audit_plan(opts)
    return audit(refs, options)


def stored_audit(opts: dict[str, Any]) -> Scorecard | None:
    """The audit `--from-json` names, if it names one; it replaces every other input."""
    stored = opts.get("from_json")
    if stored is None:
        return None
    if any(opts.get(name) for name in _INPUTS):
        fail(
            "--from-json re-renders a stored audit: give no models, --path, --from-file, "
            "--hf-cache, --examples, --author, --search or --filter with it"
        )
    return read_audit(stored)


def hub_offline() -> bool:
    """`HF_HUB_OFFLINE=1` (huggingface_hub's own switch) means `--offline`: the store answers."""
    import os

    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def audit_plan(opts: dict[str, Any]) -> tuple[list[ModelRef], AuditOptions]:
    """The references and pipeline options the command-line options ask for."""

    paths = tuple(opts["paths"])
    if opts["examples"]:
        from openaudit.resources import data_dir

        paths = (*paths, data_dir("examples") / "models")
    listed = opts["author"] or opts["search"] or opts["filters"]
    if listed and opts["offline"]:
        fail("--author, --search and --filter ask the Hub for a listing: not with --offline")
    refs = gather_refs(
        opts["models"],
        paths,
        opts["hf_cache"],
        opts["hf_cache_dir"],
        opts["from_file"],
        opts["revision"],
        listing={
            "endpoint": opts["endpoint"],
            "author": opts["author"],
            "search": opts["search"],
            "filters": tuple(opts["filters"]),
            "timeout": opts["timeout"],
        }
        if listed
        else None,
    )
    return refs, pipeline_options(opts)


def pipeline_options(opts: dict[str, Any]) -> AuditOptions:
    """The pipeline options FETCH_OPTIONS ask for."""
    from openaudit.pipeline import AuditOptions

    return AuditOptions(
        endpoint=opts["endpoint"],
        cache_dir=opts["cache_dir"],
        use_store=not opts["no_cache"],
        offline=opts["offline"] or hub_offline(),
        timeout=opts["timeout"],
        deadline=opts.get("deadline"),
        model_deadline=opts.get("model_deadline"),
        warn=lambda message: click.echo(f"openaudit: {message}", err=True),
        depth=opts["depth"],
        workers=opts["jobs"],
        rules_dirs=tuple(opts["rules_dirs"]),
    )


@contextmanager
def stop_on_signals(run: Any) -> Iterator[None]:
    """SIGINT and SIGTERM ask the run to stop: the report is finished, unfinished models marked.

    A second SIGINT while stopping falls back to the default (an immediate interrupt).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        if run.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        run.stop(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
