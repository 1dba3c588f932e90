"""`openaudit cache`: see and empty the evidence store."""

from __future__ import annotations

import json
from pathlib import Path

import click

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    envvar="OPENAUDIT_CACHE_DIR",
    help="Evidence store folder (env OPENAUDIT_CACHE_DIR).",
)


@click.group()
def cache() -> None:
    """The evidence store: snapshots kept per repository and commit."""


@cache.command("list")
@cache_dir_option
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def list_(cache_dir: Path | None, fmt: str) -> None:
    """List stored snapshots (kind, repo, commit, revisions that named it, when fetched)."""
    from openaudit.hub import Store, default_cache_dir

    store = Store(cache_dir or default_cache_dir())
    entries = store.entries()
    store.close()
    if fmt == "json":
        rows = [e.__dict__ | {"revisions": list(e.revisions)} for e in entries]
        click.echo(json.dumps({"store": str(store.path), "snapshots": rows}, indent=2))
        return
    click.echo(f"store: {store.path} ({len(entries)} snapshots)")
    for e in entries:
        names = ",".join(e.revisions) or "-"
        click.echo(f"{e.kind:7} {e.repo:40} {e.commit[:12]} {names:10} {e.fetched_at}")


@cache.command()
@cache_dir_option
@click.argument("repo", required=False)
def clear(cache_dir: Path | None, repo: str | None) -> None:
    """Remove every stored snapshot, or those of REPO (owner/name)."""
    from openaudit.hub import Store, default_cache_dir

    store = Store(cache_dir or default_cache_dir())
    removed = store.clear(repo)
    store.close()
    click.echo(f"removed {removed} snapshot(s){' of ' + repo if repo else ''} from {store.path}")
