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
    from openaudit.cli.common import fail
    from openaudit.hub import Store, StoreError, default_cache_dir

    try:
        store = Store(cache_dir or default_cache_dir())
    except StoreError as exc:
        fail(str(exc))
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
    from openaudit.hub import Store, StoreError, default_cache_dir

    directory = cache_dir or default_cache_dir()
    try:
        store = Store(directory)
    except StoreError as exc:
        # A store that cannot be opened (corrupt, another schema) is removed whole: clearing
        # must always work, since it is the fix every store error names.
        removed_files = _remove_store_files(directory)
        click.echo(f"removed the unreadable evidence store ({exc}): {', '.join(removed_files)}")
        return
    if store.read_only:
        store.close()
        from openaudit.cli.common import fail

        fail(f"{store.path}: the evidence store is read-only; nothing was removed")
    removed = store.clear(repo)
    store.close()
    if repo is None:  # the schema-check memo goes too (it is only ever a shortcut)
        import shutil

        shutil.rmtree(directory / "validated", ignore_errors=True)
    click.echo(f"removed {removed} snapshot(s){' of ' + repo if repo else ''} from {store.path}")


def _remove_store_files(directory: Path) -> list[str]:
    removed = []
    for name in ("evidence.sqlite3", "evidence.sqlite3-wal", "evidence.sqlite3-shm"):
        path = directory / name
        try:
            path.unlink()
            removed.append(str(path))
        except FileNotFoundError:
            continue
        except OSError as exc:
            from openaudit.cli.common import fail

            fail(f"{path}: cannot remove ({exc.strerror or exc})")
    return removed
