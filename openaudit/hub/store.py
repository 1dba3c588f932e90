"""The evidence store: snapshots kept in SQLite, keyed by kind, repo and commit.

A commit is immutable on the Hub, so a snapshot stored for it is never fetched
again; that is what makes audits repeatable offline and cheap in CI. Branch
names ("main") resolve to a commit, and the last resolution is remembered so
`--offline` can say which commit it audited. Writes are single transactions:
a crash leaves either the old row or the new one, never half a snapshot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openaudit.model import ModelRef, Problem, RepoFile, Snapshot
from openaudit.resources import cache_root

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    kind TEXT NOT NULL, repo TEXT NOT NULL, commit_sha TEXT NOT NULL,
    info TEXT NOT NULL, files TEXT NOT NULL, problems TEXT NOT NULL,
    endpoint TEXT NOT NULL, fetched_at TEXT NOT NULL,
    PRIMARY KEY (kind, repo, commit_sha)
);
CREATE TABLE IF NOT EXISTS refs (
    kind TEXT NOT NULL, repo TEXT NOT NULL, revision TEXT NOT NULL,
    commit_sha TEXT NOT NULL, resolved_at TEXT NOT NULL,
    PRIMARY KEY (kind, repo, revision)
);
CREATE TABLE IF NOT EXISTS links (
    kind TEXT NOT NULL, repo TEXT NOT NULL, commit_sha TEXT NOT NULL,
    related TEXT NOT NULL, related_commit TEXT, reason TEXT, detail TEXT,
    PRIMARY KEY (kind, repo, commit_sha, related)
);
CREATE TABLE IF NOT EXISTS gated_reads (
    kind TEXT NOT NULL, repo TEXT NOT NULL, commit_sha TEXT NOT NULL, credential TEXT NOT NULL,
    PRIMARY KEY (kind, repo, commit_sha)
);
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY, data BLOB NOT NULL, judged_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identified (
    sha256 TEXT NOT NULL, kb_version TEXT NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (sha256, kb_version)
);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, sha256 TEXT NOT NULL, text TEXT NOT NULL,
    previous_sha256 TEXT, fetched_at TEXT NOT NULL
);
"""


def default_cache_dir() -> Path:
    """`--cache-dir` beats `OPENAUDIT_CACHE_DIR` beats the platform cache dir."""
    return cache_root()


@dataclass(frozen=True)
class StoredEntry:
    kind: str
    repo: str
    commit: str
    fetched_at: str
    files: int
    revisions: tuple[str, ...]


@dataclass(frozen=True)
class StoredText:
    url: str
    sha256: str
    text: str
    previous_sha256: str | None
    fetched_at: str


class StoreError(Exception):
    """The store file cannot be opened or is not an openaudit store."""


class Store:
    """Thread-safe access to one SQLite file."""

    def __init__(
        self,
        directory: Path,
        *,
        endpoint: str | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        """Open (or create) the store; a store that cannot be written is opened read-only.

        `endpoint`: snapshots read from another endpoint (a mirror) are not answered for this
        one. `warn` receives one line per degradation (read-only, a failed write, a bad row).
        """
        self.directory = directory
        self.path = directory / "evidence.sqlite3"
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self._warn = warn or (lambda message: None)
        self._said: set[str] = set()
        #: Writes failed (disk full, read-only): the run goes on without storing.
        self.read_only = False
        self._lock = threading.Lock()
        self._local = threading.local()
        fix = f"run `openaudit cache clear --cache-dir {directory}` to start afresh"
        try:
            self._conn = self._open_rw(directory)
        except sqlite3.DatabaseError as exc:
            if _corrupt(exc):
                raise StoreError(
                    f"the evidence store {self.path} is corrupt ({exc}): {fix}"
                ) from None
            self._conn = self._open_ro(exc)
        except OSError as exc:
            self._conn = self._open_ro(exc)
        self._check_schema(fix)

    def _open_rw(self, directory: Path) -> sqlite3.Connection:
        directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_DDL)
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_ro(self, cause: BaseException) -> sqlite3.Connection:
        """The store as it is, for reading: `--offline` and `cache list` work on a read-only disk."""
        if not self.path.is_file():
            raise StoreError(f"cannot open the evidence store at {self.path}: {cause}") from None
        last: BaseException = cause
        for query in ("mode=ro", "mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"{self.path.as_uri()}?{query}", uri=True, check_same_thread=False
                )
                conn.execute("SELECT count(*) FROM snapshots").fetchone()
            except sqlite3.Error as exc:
                last = exc
                continue
            self.read_only = True
            self._say(
                f"the evidence store {self.path} is read-only: reading it, storing nothing new"
            )
            return conn
        if isinstance(last, sqlite3.DatabaseError) and _corrupt(last):
            raise StoreError(
                f"the evidence store {self.path} is corrupt ({last}): run "
                f"`openaudit cache clear --cache-dir {self.directory}` to start afresh"
            ) from None
        raise StoreError(f"cannot open the evidence store at {self.path}: {last}") from None

    def _check_schema(self, fix: str) -> None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(
                f"the evidence store {self.path} is unreadable ({exc}): {fix}"
            ) from None
        if row is not None and str(row[0]) != str(SCHEMA_VERSION):
            self._conn.close()
            raise StoreError(
                f"the evidence store {self.path} has schema version {row[0]}; this openaudit "
                f"reads version {SCHEMA_VERSION}: {fix}"
            )

    def _say(self, message: str) -> None:
        """Each kind of degradation is said once per run."""
        key = message.split(":", 1)[0]
        if key not in self._said:
            self._said.add(key)
            self._warn(message)

    def _write_failed(self, exc: BaseException) -> None:
        self.read_only = True
        self._say(
            f"the evidence store {self.path} cannot be written ({exc}): "
            "the audit goes on without storing"
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes made by this thread inside the block go in one transaction at its end.

        One bundle (a model, its bases, datasets and links) is then one commit instead of
        a dozen; the block's writes are kept even when it ends by an exception, so what
        was read is not read again. Reads inside the block see what was committed before it.
        """
        if getattr(self._local, "pending", None) is not None:
            yield
            return
        pending: list[tuple[bool, str, Any]] = []
        self._local.pending = pending
        try:
            yield
        finally:
            self._local.pending = None
            if pending and not self.read_only:
                try:
                    with self._tx() as conn:
                        for many, sql, params in pending:
                            if many:
                                conn.executemany(sql, params)
                            else:
                                conn.execute(sql, params)
                except sqlite3.Error as exc:
                    self._write_failed(exc)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection | _Deferred]:
        pending = getattr(self._local, "pending", None)
        if self.read_only:
            yield _Deferred([])  # nothing is written; the run goes on
        elif pending is None:
            try:
                with self._tx() as conn:
                    yield conn
            except sqlite3.Error as exc:
                self._write_failed(exc)
        else:
            yield _Deferred(pending)

    # -- revisions -------------------------------------------------------------------------
    def resolve(self, kind: str, repo: str, revision: str) -> str | None:
        """The commit a revision name last resolved to, or the commit itself if stored."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT commit_sha FROM refs WHERE kind=? AND repo=? AND revision=?",
                (kind, repo, revision),
            ).fetchone()
            if row:
                return str(row[0])
            row = conn.execute(
                "SELECT commit_sha FROM snapshots WHERE kind=? AND repo=? AND commit_sha=?",
                (kind, repo, revision),
            ).fetchone()
        return str(row[0]) if row else None

    # -- snapshots -------------------------------------------------------------------------
    def get(self, ref: ModelRef, commit: str) -> Snapshot | None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT info, files, problems, endpoint FROM snapshots "
                "WHERE kind=? AND repo=? AND commit_sha=?",
                (ref.kind, ref.repo_id, commit),
            ).fetchone()
        if row is None:
            return None
        info, files, problems, endpoint = row
        if self.endpoint is not None and endpoint.rstrip("/") != self.endpoint:
            return None  # another endpoint's snapshot (a mirror's) does not answer for this one
        try:
            return Snapshot(
                ref=ref,
                commit=commit,
                info=json.loads(info),
                files=tuple(RepoFile(**f) for f in json.loads(files)),
                problems=tuple(Problem(**p) for p in json.loads(problems)),
                origin="store",
                endpoint=endpoint,
            )
        except (ValueError, TypeError, KeyError) as exc:
            # A damaged row is not evidence: it is fetched again (and replaced) when online.
            self._say(
                f"a damaged row in {self.path} ({ref.repo_id}@{commit[:12]}: {exc}): read again"
            )
            return None

    def put(self, snapshot: Snapshot, credential: str | None = None) -> None:
        """Store a snapshot and remember which commit its requested revision named.

        `credential` (`client.credential_id()`) is who read it: files refused by gating are
        refused again to the same reader, so `is_complete` accepts them for that reader only.
        """
        if snapshot.commit is None:
            return
        if credential is not None and any(p.reason in _GATING for p in snapshot.problems):
            with self._write() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO gated_reads VALUES (?,?,?,?)",
                    (snapshot.ref.kind, snapshot.ref.repo_id, snapshot.commit, credential),
                )
        ref = snapshot.ref
        now = _now()
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO snapshots VALUES (?,?,?,?,?,?,?,?)",
                (
                    ref.kind,
                    ref.repo_id,
                    snapshot.commit,
                    json.dumps(dict(snapshot.info), sort_keys=True),
                    json.dumps([asdict(f) for f in snapshot.files]),
                    json.dumps([asdict(p) for p in snapshot.problems]),
                    snapshot.endpoint,
                    now,
                ),
            )
        self.remember(ref, snapshot.commit)

    # -- what an audited commit was audited with -----------------------------------------
    def get_links(self, snapshot: Snapshot) -> dict[str, str | Problem]:
        """Related repos (bases, datasets) as resolved when this commit was first audited.

        Re-auditing a pinned commit then reads the same bases and datasets, from the
        store, with no request: a pinned audit is reproducible.
        """
        if snapshot.commit is None:
            return {}
        ref = snapshot.ref
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT related, related_commit, reason, detail FROM links "
                "WHERE kind=? AND repo=? AND commit_sha=?",
                (ref.kind, ref.repo_id, snapshot.commit),
            ).fetchall()
        return {
            key: commit if commit else Problem(key, reason or "error", detail or "")
            for key, commit, reason, detail in rows
        }

    def put_links(self, snapshot: Snapshot, links: dict[str, str | Problem]) -> None:
        if snapshot.commit is None:
            return
        ref = snapshot.ref
        rows: list[tuple[str, str, str, str, str | None, str | None, str | None]] = []
        for key, target in links.items():
            if isinstance(target, Problem):
                if target.reason not in _LASTING:
                    continue  # a network failure is not what the commit was audited with
                rows.append(
                    (
                        ref.kind,
                        ref.repo_id,
                        snapshot.commit,
                        key,
                        None,
                        target.reason,
                        target.detail,
                    )
                )
            else:
                rows.append((ref.kind, ref.repo_id, snapshot.commit, key, target, None, None))
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?,?,?,?,?)", rows)

    def is_complete(self, snapshot: Snapshot, credential: str | None = None) -> bool:
        """A snapshot with transient problems (network, gating) is fetched again when online."""
        if all(p.reason in _LASTING for p in snapshot.problems):
            return True
        if credential is None or snapshot.commit is None:
            return False
        if not all(p.reason in _LASTING or p.reason in _GATING for p in snapshot.problems):
            return False
        ref = snapshot.ref
        with self._tx() as conn:
            row = conn.execute(
                "SELECT credential FROM gated_reads WHERE kind=? AND repo=? AND commit_sha=?",
                (ref.kind, ref.repo_id, snapshot.commit),
            ).fetchone()
        return row is not None and row[0] == credential

    def entries(self) -> list[StoredEntry]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT s.kind, s.repo, s.commit_sha, s.fetched_at, s.files, "
                "group_concat(r.revision) FROM snapshots s LEFT JOIN refs r "
                "ON r.kind=s.kind AND r.repo=s.repo AND r.commit_sha=s.commit_sha "
                "GROUP BY s.kind, s.repo, s.commit_sha ORDER BY s.kind, s.repo, s.fetched_at"
            ).fetchall()
        return [
            StoredEntry(
                kind=k,
                repo=r,
                commit=c,
                fetched_at=t,
                files=len(json.loads(f)),
                revisions=tuple(sorted((revs or "").split(","))) if revs else (),
            )
            for k, r, c, t, f, revs in rows
        ]

    def clear(self, repo: str | None = None) -> int:
        """Remove everything, or one repo's snapshots; returns how many snapshots went."""
        with self._tx() as conn:
            if repo is None:
                n = conn.execute("DELETE FROM snapshots").rowcount
                conn.execute("DELETE FROM refs")
                conn.execute("DELETE FROM urls")
                conn.execute("DELETE FROM links")
                conn.execute("DELETE FROM identified")
                conn.execute("DELETE FROM gated_reads")
                conn.execute("DELETE FROM verdicts")
            else:
                n = conn.execute("DELETE FROM snapshots WHERE repo=?", (repo,)).rowcount
                conn.execute("DELETE FROM refs WHERE repo=?", (repo,))
                conn.execute("DELETE FROM links WHERE repo=?", (repo,))
        return int(n)

    # -- verdicts already judged, by evidence key (`openaudit.judged`) ---------------------
    def get_verdict(self, key: str) -> bytes | None:
        with self._tx() as conn:
            row = conn.execute("SELECT data FROM verdicts WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def put_verdict(self, key: str, data: bytes) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO verdicts VALUES (?,?,?)", (key, data, _now()))

    # -- licence texts already identified ------------------------------------------------
    def get_identified(self, sha256: str, kb_version: str) -> str | None:
        """What a licence text was identified as under this knowledge-base version (JSON)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT result FROM identified WHERE sha256=? AND kb_version=?",
                (sha256, kb_version),
            ).fetchone()
        return str(row[0]) if row else None

    def put_identified(self, sha256: str, kb_version: str, result: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO identified VALUES (?,?,?)", (sha256, kb_version, result)
            )

    # -- texts behind links ----------------------------------------------------------------
    def get_text(self, url: str) -> StoredText | None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT url, sha256, text, previous_sha256, fetched_at FROM urls WHERE url=?",
                (url,),
            ).fetchone()
        return StoredText(*row) if row else None

    def put_text(self, url: str, sha256: str, text: str) -> tuple[StoredText, StoredText | None]:
        """Keep the newest text and the hash it replaced; returns (new, the one it replaced)."""
        old = self.get_text(url)
        previous = (
            old.sha256 if old and old.sha256 != sha256 else (old.previous_sha256 if old else None)
        )
        now = _now()
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO urls VALUES (?,?,?,?,?)", (url, sha256, text, previous, now)
            )
        return StoredText(url, sha256, text, previous, now), old

    def remember(self, ref: ModelRef, commit: str) -> None:
        """Record that `ref`'s revision names `commit` now, without rewriting the snapshot."""
        if ref.revision == commit:
            return
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO refs VALUES (?,?,?,?,?)",
                (ref.kind, ref.repo_id, ref.revision or "main", commit, _now()),
            )


class _Deferred:
    """Records statements for `Store.batch` to run in its one transaction."""

    def __init__(self, pending: list[tuple[bool, str, Any]]) -> None:
        self.pending = pending

    def execute(self, sql: str, params: Any = ()) -> None:
        self.pending.append((False, sql, params))

    def executemany(self, sql: str, params: Any) -> None:
        self.pending.append((True, sql, list(params)))


#: Problems that belong to the commit itself; network failures and gating (which depends on
#: the token of the run) are not kept, so the next run tries those files again.
_LASTING = frozenset({"too-large", "not-found", "malformed"})
#: Refusals that depend on who reads: final for the same credential, not for another.
_GATING = frozenset({"gated-no-token", "gated-not-accepted", "access-denied"})


def _corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
