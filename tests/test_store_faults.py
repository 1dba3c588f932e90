"""A store that helps: read-only, full, corrupt, damaged, of another schema or endpoint.

The read-only store is a genuine SQLite read-only connection (`mode=ro`, what SQLite opens on
a read-only disk) and the full disk a genuine SQLITE_FULL (`PRAGMA max_page_count`), both
forced on the audit's own connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from openaudit.hub import store as store_module
from tests.fakehub import FakeHub
from tests.helpers import audit_json, by_id, run_cli

MODELS = ["acme/tiny-apache-encoder", "acme/nc-summarizer", "trap-org/mit-lora-on-llama-2"]
_connect = sqlite3.connect


def _summary(doc: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        i: (m["audited"], m["licence"]["status"], m["commercial_use"]["status"])
        for i, m in by_id(doc).items()
    }


def test_a_read_only_store_audits_offline_and_lists(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = audit_json(fixture_hub.url, tmp_path, *MODELS)
    assert warm.code == 0

    def read_only(path: Any, *args: Any, **kw: Any) -> sqlite3.Connection:
        uri = f"{Path(str(path).removeprefix('file:').split('?')[0]).as_uri()}?mode=ro"
        kw.pop("uri", None)
        return _connect(uri, *args, uri=True, **kw)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    fixture_hub.reset()
    offline = audit_json(fixture_hub.url, tmp_path, *MODELS, extra=("--offline",))
    assert offline.code == 0, offline.stderr
    assert _summary(offline.json()) == _summary(warm.json())
    assert offline.stderr.count("read-only") == 1
    assert fixture_hub.count() == 0
    listed = run_cli("cache", "list", "--cache-dir", str(tmp_path))
    assert listed.code == 0
    assert "acme/tiny-apache-encoder" in listed.stdout
    # Online too: the batch completes, nothing new is stored, one warning.
    online = audit_json(fixture_hub.url, tmp_path, "acme/unlicensed-classifier", *MODELS)
    assert online.code == 0
    assert online.stderr.count("read-only") == 1


def test_a_full_disk_completes_the_batch_with_one_warning(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = audit_json(fixture_hub.url, tmp_path / "clean", *MODELS)

    store_module.Store(tmp_path / "full").close()  # the schema fits; nothing more will

    def full(*args: Any, **kw: Any) -> sqlite3.Connection:
        conn = _connect(*args, **kw)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the first growth
        return conn

    monkeypatch.setattr(store_module.sqlite3, "connect", full)
    run = audit_json(fixture_hub.url, tmp_path / "full", *MODELS, extra=("--jobs", "2"))
    assert run.code == 0, run.stderr
    assert _summary(run.json()) == _summary(clean.json())
    assert run.stderr.count("cannot be written") == 1
    assert "full" in run.stderr


def test_a_corrupt_store_is_named_with_its_fix_and_clear_always_works(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    (tmp_path / "evidence.sqlite3").write_bytes(b"this is not a database" * 100)
    run = audit_json(fixture_hub.url, tmp_path, MODELS[0])
    assert run.code == 0  # the audit goes on without the store
    assert "corrupt" in run.stderr and "openaudit cache clear --cache-dir" in run.stderr
    listed = run_cli("cache", "list", "--cache-dir", str(tmp_path))
    assert listed.code == 2 and "openaudit cache clear" in listed.stderr
    cleared = run_cli("cache", "clear", "--cache-dir", str(tmp_path))
    assert cleared.code == 0
    assert run_cli("cache", "list", "--cache-dir", str(tmp_path)).code == 0


def test_a_damaged_row_is_fetched_again(fixture_hub: FakeHub, tmp_path: Path) -> None:
    model = MODELS[0]
    first = audit_json(fixture_hub.url, tmp_path, f"{model}")
    commit = first.json()["models"][0]["revision"]
    conn = _connect(tmp_path / "evidence.sqlite3")
    conn.execute("UPDATE snapshots SET files='{not json' WHERE repo=?", (model,))
    conn.commit()
    conn.close()
    fixture_hub.reset()
    again = audit_json(fixture_hub.url, tmp_path, f"{model}@{commit}")
    assert again.code == 0
    assert _summary(again.json()) == _summary(first.json())
    assert fixture_hub.count(f"/api/models/{model}") == 1  # read again, not trusted
    assert "damaged row" in again.stderr


def test_another_schema_version_is_named(fixture_hub: FakeHub, tmp_path: Path) -> None:
    audit_json(fixture_hub.url, tmp_path, MODELS[0])
    conn = _connect(tmp_path / "evidence.sqlite3")
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    run = audit_json(fixture_hub.url, tmp_path, MODELS[0])
    assert run.code == 0
    assert "schema version 99" in run.stderr and "openaudit cache clear" in run.stderr


def test_a_mirror_snapshot_does_not_answer_for_another_endpoint(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    model = MODELS[0]
    first = audit_json(fixture_hub.url, tmp_path, model).json()
    commit = first["models"][0]["revision"]
    conn = _connect(tmp_path / "evidence.sqlite3")
    conn.execute("UPDATE snapshots SET endpoint='https://mirror.example' WHERE repo=?", (model,))
    conn.commit()
    conn.close()
    fixture_hub.reset()
    audit_json(fixture_hub.url, tmp_path, f"{model}@{commit}")
    assert fixture_hub.count(f"/{model}/resolve/") > 0  # read from this endpoint, not the mirror's


def test_hf_hub_offline_means_offline(fixture_hub: FakeHub, tmp_path: Path) -> None:
    warm = audit_json(fixture_hub.url, tmp_path, *MODELS)
    fixture_hub.reset()
    run = run_cli(
        "audit",
        *MODELS,
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path),
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert run.code == 0, run.stderr
    assert _summary(run.json()) == _summary(warm.json())
    assert fixture_hub.count() == 0
