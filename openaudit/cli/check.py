"""`openaudit check` and `openaudit lock`: the pre-merge gate on a codebase's models."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from openaudit.cli.common import output_option

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "json", "sarif", "markdown")

_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
    click.option(
        "--lockfile",
        "lock_path",
        type=click.Path(path_type=Path),
        help="Lockfile (default: the nearest openaudit.lock up from the first PATH).",
    ),
)


def _inputs(func: F) -> F:
    from openaudit.cli.common import fetch_options

    for option in reversed(_OPTIONS):
        func = option(func)
    return fetch_options(func)


def _audit_options(opts: dict[str, Any]) -> Any:
    from openaudit.cli.common import pipeline_options

    return pipeline_options(opts)


def _paths(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    from openaudit.cli.common import fail

    chosen = paths or (Path("."),)
    for p in chosen:
        if not p.exists():
            fail(f"{p}: no such file or folder")
    return chosen


@click.command(
    epilog="Exit codes: 0 pass; 1 policy violation; 2 usage or input error; "
    "3 a model could not be audited (unless --no-fail-on-unknown)."
)
@_inputs
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    help="Policy file for every PATH (default: the nearest openaudit-policy.yaml, else the default policy).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="An earlier `check --format json` report, or the target branch's openaudit.lock: only what it lacks fails.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@output_option
@click.option(
    "--write",
    "extra",
    multiple=True,
    metavar="FORMAT=FILE",
    help="Also write FORMAT to FILE (e.g. sarif=openaudit.sarif). Repeatable.",
)
@click.option("--warn-only", is_flag=True, help="Report violations but exit 0 for them.")
@click.option(
    "--fail-on-unknown/--no-fail-on-unknown",
    default=True,
    show_default=True,
    help="Exit 3 when a model could not be audited.",
)
@click.option("--no-drift", is_flag=True, help="Do not compare locked models with their main.")
def check(
    fmt: str,
    output: Path | None,
    extra: tuple[str, ...],
    warn_only: bool,
    fail_on_unknown: bool,
    policy_file: Path | None,
    baseline: Path | None,
    no_drift: bool,
    **opts: Any,
) -> None:
    """Check the models PATHS (default: .) use against the policy: the pre-merge gate.

    Finds model references in Python, notebooks and [tool.openaudit] manifests, audits each
    model (at the revision pinned in code, else the lockfile's commit, else main) and judges
    the verdicts against openaudit-policy.yaml. Each violation cites rule, model, code
    location and the audit's evidence.
    """
    from openaudit.check import BaselineError, CheckOptions, run_check
    from openaudit.cli.common import fail, write_output
    from openaudit.lockfile import LockError
    from openaudit.policy import PolicyError
    from openaudit.report.check import render

    writes = _parse_writes(extra)
    options = CheckOptions(
        paths=_paths(opts.pop("paths")),
        audit=_audit_options(opts),
        policy_file=policy_file,
        lock_path=opts["lock_path"],
        baseline=baseline,
        drift=not no_drift,
        fail_on_unknown=fail_on_unknown,
    )
    try:
        result = run_check(options)
    except (PolicyError, LockError, BaselineError) as exc:
        fail(str(exc))
    write_output(render(result, fmt), output)
    for extra_fmt, path in writes:
        write_output(render(result, extra_fmt), path)
    code = result.exit_code(warn_only=warn_only, fail_on_unknown=fail_on_unknown)
    if code == 3:
        click.echo(f"openaudit: not audited: {', '.join(result.not_audited)}", err=True)
    sys.exit(code)


def _parse_writes(extra: tuple[str, ...]) -> list[tuple[str, Path]]:
    from openaudit.cli.common import fail

    out = []
    for item in extra:
        fmt, sep, path = item.partition("=")
        if not sep or fmt not in FORMATS or not path:
            fail(f"--write {item}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}")
        out.append((fmt, Path(path)))
    return out


@click.command(
    epilog="Exit codes: 0 written; 2 usage or input error; 3 a model could not be audited."
)
@_inputs
@click.option(
    "--update", is_flag=True, help="Re-pin every model to its current main (accept drift)."
)
def lock(update: bool, **opts: Any) -> None:
    """Write openaudit.lock: each model PATHS use, pinned to the commit audited."""
    from openaudit import __version__
    from openaudit.check import default_lock_path
    from openaudit.cli.common import fail, write_output
    from openaudit.lockfile import LockError, entry_for, read, render
    from openaudit.model import ModelRef
    from openaudit.pipeline import audit
    from openaudit.sources.code import scan

    paths = _paths(opts.pop("paths"))
    lock_path = opts["lock_path"] or default_lock_path(paths)
    try:
        old = read(lock_path) if lock_path.is_file() and not update else {}
    except LockError as exc:
        fail(str(exc))
    keys = list(
        dict.fromkeys(
            (r.repo_id, r.revision) for r in scan(paths).refs if r.status == "hub" and r.repo_id
        )
    )
    refs = [
        ModelRef(i, revision=rev or (old[(i, rev)].commit if (i, rev) in old else None))
        for i, rev in keys
    ]
    scorecard = audit(refs, _audit_options(opts)) if refs else None
    verdicts = scorecard.models if scorecard is not None else ()
    entries = [
        entry_for(v, key[1])
        for key, v in zip(keys, verdicts, strict=True)
        if v.audited and v.revision
    ]
    write_output(render(entries, __version__), lock_path)
    click.echo(f"openaudit: {lock_path}: {len(entries)} models pinned", err=True)
    missing = [v.id for v in verdicts if not v.audited or not v.revision]
    if missing:
        click.echo(f"openaudit: not audited, not pinned: {', '.join(missing)}", err=True)
        sys.exit(3)


#: `licenses/vocabulary/distribution.yml` modes (a test keeps the two equal).
MODES = ("internal", "hosted-api", "bundled-app", "published-finetune")


@click.command(
    epilog="Exit codes: 0 written; 2 usage or input error; 3 a model could not be audited."
)
@_inputs
@click.option(
    "--distribution",
    "mode",
    type=click.Choice(MODES),
    required=True,
    help="How the models are shipped: it decides which duties apply.",
)
@output_option
def notices(mode: str, output: Path | None, **opts: Any) -> None:
    """Write a third-party notices file (Markdown) for the models PATHS use.

    Each model's licence text (from its repository, else the knowledge base), the attribution
    and naming duties, the acceptable-use policies that bind users and the terms to pass on,
    selected by how the models are shipped.
    """
    from openaudit import __version__
    from openaudit.check import model_refs, references
    from openaudit.cli.common import fail, write_output
    from openaudit.lockfile import LockError
    from openaudit.notices import build, render
    from openaudit.pipeline import Run

    paths = _paths(opts.pop("paths"))
    try:
        _, groups, lock = references(paths, opts["lock_path"])
    except LockError as exc:
        fail(str(exc))
    refs, _ = model_refs(groups, lock)
    used_at: dict[str, list[Any]] = {}
    for (repo_id, _rev), found in groups.items():
        used_at.setdefault(repo_id, []).extend(found)
    with Run(_audit_options(opts)) as run:
        bundles = list(run.bundles(refs))
        pairs = [(b, run.verdict(b)) for b in bundles]
        kb = run.kb
    audited = [(b, v) for b, v in pairs if v.audited]
    write_output(render(build(audited, used_at, kb, mode), mode, __version__), output)
    missing = [v.id for _, v in pairs if not v.audited]
    if missing:
        click.echo(f"openaudit: not audited, no notice: {', '.join(missing)}", err=True)
        sys.exit(3)
