"""A loopback replay of the Hugging Face Hub over corpus-format folders.

Point the real ``huggingface_hub`` client at it (``HfApi(endpoint=hub.url)``,
``hf_hub_download(..., endpoint=hub.url)`` or ``HF_ENDPOINT``) to audit a labelled corpus
(``openaudit eval``), to repeat an audit on stored snapshots, or to test a client against
faults. What it serves follows the Hub's protocol as ``huggingface_hub`` 2.x uses it; the
folder format is the corpus format::

    <root>/models/<owner>/<name>/api.json      body of GET /api/models/<owner>/<name>
    <root>/models/<owner>/<name>/files/<path>  raw files (README.md, LICENSE, ...)
    <root>/datasets/<owner>/<name>/...         the same for datasets

Endpoints:

- ``GET /api/{models|datasets}/{id}`` and ``.../revision/{rev}`` (``rev`` = ``main``,
  ``refs/heads/main``, the api.json ``sha`` or an alias added with
  :meth:`ReplayHub.add_revision`), with ``?blobs=true``, ``?securityStatus=true`` and
  ``?expand=...``;
- ``GET /api/{models|datasets}/{id}/tree/{rev}[/{path}]`` (``recursive`` honoured);
- ``GET /api/{models|datasets}/{id}/refs``;
- ``GET /api/models`` and ``GET /api/datasets`` (``author``, ``search``, ``filter``, ``gated``,
  ``pipeline_tag``, ``sort``, ``direction``, ``limit``, ``full``, ``cardData``, ``expand``;
  ``Link: rel="next"`` pages when ``page_size`` is set);
- ``HEAD``/``GET /{id}/resolve/{rev}/{path}`` and ``/datasets/{id}/resolve/...`` with
  ``X-Repo-Commit``, a quoted ``ETag`` (git blob sha1), ``Content-Length`` and ``Range`` support;
- anything else (``/api/agent-harnesses`` included) answers 404.

Errors carry ``X-Error-Code`` as the Hub does (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``, ``GatedRepo``) so the client maps them to its exception classes. Files of
gated repos are served only to ``accepted_tokens`` unless ``gated_open`` is set. Corpus notes
(``_sha_synthetic``, ``_siblings_incomplete``) are never served. Faults (latency, error
statuses, resets, truncated or malformed bodies) can be injected with :meth:`ReplayHub.fail`.

Run it by hand: ``python -m openaudit.hub.replay ROOT [ROOT ...] --port 8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = [
    "CORPUS_ONLY_FIELDS",
    "FaultRule",
    "ReplayHub",
    "Repo",
    "RequestRecord",
    "git_blob_sha1",
    "load_repos",
    "serve_forever",
]

#: Fields that only the corpus has; never served.
CORPUS_ONLY_FIELDS = frozenset({"_sha_synthetic", "_siblings_incomplete"})

_DATE_FIELDS = ("createdAt", "lastModified")
_KINDS = {"models": "model", "datasets": "dataset"}
_DISABLED_MESSAGE = "Access to this resource is disabled."
# Fields of a list entry when neither `full` nor `expand` is asked (close to what the Hub sends).
_LIST_FIELDS = (
    *("id", "author", "gated", "private", "disabled", "downloads", "likes", "tags"),
    *("pipeline_tag", "library_name", "createdAt", "lastModified"),
)


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of ``data`` (what the Hub sends as the ETag of a regular file)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _has_prefix(path: str, prefix: str) -> bool:
    return path.startswith(prefix) or unquote(path).startswith(prefix)


def _synthetic_oid(repo_sha: str, name: str) -> str:
    """A stable 40-hex id for a file or folder whose bytes the snapshot does not hold."""
    return hashlib.sha1(f"{repo_sha}:{name}".encode()).hexdigest()


def _normalise_date(value: Any) -> Any:
    """Dates must end in ``Z``: the client rejects ``+00:00``."""
    if isinstance(value, str):
        if value.endswith("+00:00"):
            return value[: -len("+00:00")] + "Z"
        if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", value):
            return value + "Z"
    return value


class RequestRecord(NamedTuple):
    """One request seen by the server: path is as sent (percent-encoded), without the query."""

    method: str
    path: str
    status: int  # 0 when the connection was reset without a response
    authorized: bool  # an Authorization header was present


@dataclass
class FaultRule:
    """An injected fault for the next ``times`` requests whose path starts with ``path_prefix``."""

    path_prefix: str
    status: int | None = None
    times: int | None = 1  # None = until removed (keep such tests away from retrying calls)
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    reset: bool = False
    truncate: bool = False
    malformed: bool = False
    method: str | None = None
    body: bytes | None = None
    hits: int = 0
    #: The path itself only (`/api/models`, the listing), not every path under it.
    exact: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.exact:
            return self.path_prefix in (path, unquote(path))
        return _has_prefix(path, self.path_prefix)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class Repo:
    """One repository: its api.json (corpus-only fields kept, stripped when served), its files."""

    kind: str  # "model" | "dataset"
    api: dict[str, Any]
    files: dict[str, Path | bytes]

    @property
    def id(self) -> str:
        return str(self.api["id"])

    @property
    def sha(self) -> str:
        return str(self.api.get("sha") or "0" * 40)

    @property
    def gated(self) -> bool:
        return self.api.get("gated") in ("auto", "manual", True)

    def read(self, path: str) -> bytes | None:
        src = self.files.get(path)
        if src is None:
            return None
        return src if isinstance(src, bytes) else src.read_bytes()

    def sibling_names(self) -> list[str]:
        """Files listed in ``siblings`` then files present under ``files/`` but not listed."""
        names = [s["rfilename"] for s in self.api.get("siblings") or [] if "rfilename" in s]
        seen = set(names)
        names.extend(sorted(p for p in self.files if p not in seen))
        return names

    def sibling(self, name: str) -> dict[str, Any]:
        for s in self.api.get("siblings") or []:
            if s.get("rfilename") == name:
                return dict(s)
        return {"rfilename": name}


def load_repos(root: Path) -> dict[tuple[str, str], Repo]:
    """Read every ``<kind>s/<owner>/<name>/api.json`` under ``root``."""
    repos: dict[tuple[str, str], Repo] = {}
    for folder, kind in _KINDS.items():
        for api_path in sorted((root / folder).glob("*/*/api.json")):
            api = json.loads(api_path.read_text(encoding="utf-8"))
            files_dir = api_path.parent / "files"
            files: dict[str, Path | bytes] = {}
            if files_dir.is_dir():
                for f in sorted(files_dir.rglob("*")):
                    if f.is_file():
                        files[f.relative_to(files_dir).as_posix()] = f
            repos[(kind, str(api["id"]))] = Repo(kind, api, files)
    return repos


class _HubError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


class ReplayHub:
    """A loopback Hub over corpus-format folders. Start it, point the client at :attr:`url`.

    ``accepted_tokens``: bearer tokens allowed to download files of gated (and private) repos;
    ``denied_tokens``: tokens refused with a plain 403; ``gated_open``: serve the files of gated
    repos to anyone, as to a user who accepted their terms (private repos stay private);
    ``page_size``: paginate list and tree responses with ``Link: rel="next"`` (None = one page).
    The first root wins when two roots hold the same repo.
    """

    def __init__(
        self,
        *roots: str | Path,
        accepted_tokens: Iterable[str] = (),
        denied_tokens: Iterable[str] = (),
        page_size: int | None = None,
        gated_open: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.roots = [Path(r) for r in roots]
        self._base_repos: dict[tuple[str, str], Repo] = {}
        for root in self.roots:
            if not root.is_dir():
                raise FileNotFoundError(f"replay hub root not found: {root}")
            for key, repo in load_repos(root).items():
                self._base_repos.setdefault(key, repo)
        self._default_accepted = frozenset(accepted_tokens)
        self._default_denied = frozenset(denied_tokens)
        self._default_page_size = page_size
        self.accepted_tokens: set[str] = set(self._default_accepted)
        self.denied_tokens: set[str] = set(self._default_denied)
        self.page_size = page_size
        self.gated_open = gated_open
        self.requests: list[RequestRecord] = []
        self.faults: list[FaultRule] = []
        #: Random transient faults (see :meth:`chaos`): rate, generator, and how many were sent.
        self._chaos_rate = 0.0
        self._chaos_rng = random.Random(0)
        self.chaos_faults = 0
        self._extra_repos: dict[tuple[str, str], Repo] = {}
        self._aliases: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.RLock()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        with self._lock:
            recent = self.requests[-5:]
            total = len(self.requests)
        shown = ", ".join(f"{r.method} {r.path} {r.status}" for r in recent)
        return f"<{type(self).__name__} {where} requests={total} last=[{shown}]>"

    # ----------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self, token: str | None = None) -> dict[str, str]:
        """Environment for a subprocess (e.g. the CLI) that should talk to this server."""
        env = {
            "HF_ENDPOINT": self.url,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _Handler)
        server.hub = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"replayhub:{server.server_address[1]}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Forget requests, fault rules, added repos and aliases; restore token sets and paging."""
        with self._lock:
            self.requests.clear()
            self.faults.clear()
            self._chaos_rate = 0.0
            self._extra_repos.clear()
            self._aliases.clear()
            self.accepted_tokens = set(self._default_accepted)
            self.denied_tokens = set(self._default_denied)
            self.page_size = self._default_page_size

    def count(self, prefix: str | None = None, method: str | None = None) -> int:
        """Number of requests seen, optionally those whose path starts with ``prefix``."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (prefix is None or _has_prefix(r.path, prefix))
                and (method is None or r.method == method.upper())
            )

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if method is None or r.method == method.upper()]

    def fail(
        self,
        path_prefix: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        latency: float = 0.0,
        reset: bool = False,
        truncate: bool = False,
        malformed: bool = False,
        method: str | None = None,
        body: bytes | None = None,
        exact: bool = False,
    ) -> FaultRule:
        """Inject a fault into the next ``times`` requests under ``path_prefix``.

        ``status``: answer with that status (``headers`` added, body ``{"error": ...}`` unless
        ``body``); ``latency``: sleep first (then the normal answer, or the other fault);
        ``reset``: close the connection without a response; ``truncate``: send half the body
        (Content-Length stays the full size); ``malformed``: an invalid JSON body with a 200
        (on a HEAD /resolve: no X-Repo-Commit/ETag); ``exact``: ``path_prefix`` itself only.
        Rules are tried in the order added.
        """
        if not (status or latency or reset or truncate or malformed):
            raise ValueError("a fault needs status, latency, reset, truncate or malformed")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None)")
        rule = FaultRule(
            path_prefix,
            status,
            times,
            dict(headers or {}),
            latency,
            reset,
            truncate,
            malformed,
            method,
            body,
            exact=exact,
        )
        with self._lock:
            self.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self._chaos_rate = 0.0

    def chaos(self, rate: float, seed: int = 0) -> None:
        """Answer a fraction ``rate`` of all requests with a random transient fault.

        The faults are those of a flaky Hub or network: 500, 502, 503, 429 (``Retry-After: 0``),
        a reset connection, a truncated body, a malformed 200 body. ``seed`` makes a run
        repeatable (given the same order of requests). ``rate=0`` turns it off.
        """
        if not 0 <= rate < 1:
            raise ValueError("rate must be in [0, 1)")
        with self._lock:
            self._chaos_rate = rate
            self._chaos_rng = random.Random(seed)
            self.chaos_faults = 0

    def add_repo(
        self,
        api: Mapping[str, Any],
        files: Mapping[str, bytes | str] | None = None,
        kind: str = "model",
    ) -> Repo:
        """Serve an in-memory repo until the next :meth:`reset` (``api`` needs at least ``id``)."""
        if kind not in _KINDS.values():
            raise ValueError(f"kind must be 'model' or 'dataset', not {kind!r}")
        data = copy.deepcopy(dict(api))
        data.setdefault("sha", hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest())
        blobs: dict[str, Path | bytes] = {
            k: v.encode("utf-8") if isinstance(v, str) else v for k, v in (files or {}).items()
        }
        repo = Repo(kind, data, blobs)
        with self._lock:
            self._extra_repos[(kind, repo.id)] = repo
        return repo

    def add_revision(self, repo_id: str, ref: str, kind: str = "model") -> None:
        """Make ``ref`` (e.g. ``refs/pr/1`` or a tag) resolve to the repo's snapshot."""
        with self._lock:
            self._aliases.setdefault((kind, repo_id), {})[ref] = self._repo(kind, repo_id).sha

    def repo_ids(self, kind: str = "model") -> list[str]:
        with self._lock:
            keys = set(self._base_repos) | set(self._extra_repos)
        return sorted(i for k, i in keys if k == kind)

    # ----------------------------------------------------------------- internals
    def _repo(self, kind: str, repo_id: str) -> Repo:
        with self._lock:
            repo = self._extra_repos.get((kind, repo_id)) or self._base_repos.get((kind, repo_id))
        if repo is None:
            raise _HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _all_repos(self, kind: str) -> list[Repo]:
        with self._lock:
            merged = {**self._base_repos, **self._extra_repos}
        return [r for (k, _), r in sorted(merged.items()) if k == kind]

    def _check_revision(self, repo: Repo, rev: str) -> str:
        with self._lock:
            aliases = dict(self._aliases.get((repo.kind, repo.id), {}))
        if rev in ("main", "refs/heads/main", repo.sha) or rev in aliases:
            return repo.sha
        raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    def _take_fault(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.faults:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
            if self._chaos_rate and self._chaos_rng.random() < self._chaos_rate:
                self.chaos_faults += 1
                return self._chaos_rng.choice(_CHAOS)(path)
        return None

    def _record(self, method: str, path: str, status: int, authorized: bool) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, status, authorized))


#: The transient faults :meth:`ReplayHub.chaos` picks from, with equal odds.
_CHAOS: tuple[Callable[[str], FaultRule], ...] = (
    lambda p: FaultRule(p, status=500),
    lambda p: FaultRule(p, status=502),
    lambda p: FaultRule(p, status=503),
    lambda p: FaultRule(p, status=429, headers={"Retry-After": "0"}),
    lambda p: FaultRule(p, reset=True),
    lambda p: FaultRule(p, truncate=True),
    lambda p: FaultRule(p, malformed=True),
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    hub: ReplayHub

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a finished process, a cut connection) is not an error of
        the replay; anything else is still printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    json_body: bool = True


def _json(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(obj).encode("utf-8"), dict(headers or {}))


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return any(v.lower() in ("1", "true") for v in query.get(name, []))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ReplayHub/1.0"
    timeout = 30  # idle keep-alive connections end after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK
        # add ~40 ms to every keep-alive response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    # ------------------------------------------------------------------ dispatch
    def _handle(self, method: str) -> None:
        hub = self.server.hub
        split = urlsplit(self.path)
        raw_path = split.path
        authorized = bool(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        rule = hub._take_fault(method, raw_path)
        if rule is not None and rule.latency:
            time.sleep(rule.latency)
        if rule is not None and rule.reset:
            hub._record(method, raw_path, 0, authorized)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if rule is not None and rule.status:
            body = (
                rule.body
                if rule.body is not None
                else json.dumps({"error": f"Injected fault ({rule.status})"}).encode()
            )
            reply = _Reply(rule.status, body, dict(rule.headers))
        else:
            try:
                reply = self._route(method, raw_path, parse_qs(split.query))
            except _HubError as err:
                headers = dict(err.headers)
                if err.code:
                    headers["X-Error-Code"] = err.code
                headers.setdefault("X-Error-Message", err.message)
                reply = _json({"error": err.message}, err.status, headers)
            except Exception as err:  # a bug in the server: say so instead of hanging the client
                reply = _json({"error": f"replay hub internal error: {err!r}"}, 500)
            if rule is not None:
                reply.headers.update(rule.headers)
                if rule.malformed:
                    if method == "HEAD" and "X-Repo-Commit" in reply.headers:
                        reply.headers.pop("X-Repo-Commit", None)
                        reply.headers.pop("ETag", None)
                    else:
                        reply = _Reply(200, b'{"id": "malformed", "sha": ', reply.headers)
                        reply.headers.pop("Content-Range", None)
        truncate = rule is not None and rule.truncate
        hub._record(method, raw_path, reply.status, authorized)
        self._send(method, reply, truncate)

    def _send(self, method: str, reply: _Reply, truncate: bool) -> None:
        self.send_response(reply.status)
        headers = {k.lower(): (k, v) for k, v in reply.headers.items()}
        if "content-type" not in headers:
            ctype = "application/json; charset=utf-8" if reply.json_body else "text/plain"
            self.send_header("Content-Type", ctype)
        if "content-length" not in headers:
            self.send_header("Content-Length", str(len(reply.body)))
        if "x-request-id" not in headers:
            self.send_header("X-Request-Id", f"Root=1-{uuid.uuid4().hex}")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if method == "HEAD":
            return
        body = reply.body[: len(reply.body) // 2] if truncate else reply.body
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if truncate:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _route(self, method: str, raw_path: str, query: dict[str, list[str]]) -> _Reply:
        hub = self.server.hub
        parts = raw_path.split("/")[1:]
        if method == "POST":
            raise _HubError(405, "Method not allowed")
        if parts[:1] == ["api"] and len(parts) >= 2 and parts[1] in _KINDS:
            kind = _KINDS[parts[1]]
            rest = parts[2:]
            if not rest or rest == [""]:
                return self._list(kind, query, raw_path)
            if len(rest) < 2:
                raise _HubError(404, "Repository not found", "RepoNotFound")
            repo = hub._repo(kind, f"{unquote(rest[0])}/{unquote(rest[1])}")
            tail = rest[2:]
            if not tail:
                return self._info(repo, "main", query)
            if tail[0] == "revision" and len(tail) >= 2:
                return self._info(repo, unquote("/".join(tail[1:])), query)
            if tail[0] == "tree" and len(tail) >= 2:
                sub = unquote("/".join(tail[2:])).strip("/")
                return self._tree(repo, unquote(tail[1]), sub, query, raw_path)
            if tail == ["refs"]:
                self._check_access(repo, download=False)
                main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.sha}
                return _json({"branches": [main], "converts": [], "tags": []})
            raise _HubError(404, "Not found")
        kind = "model"
        if parts[:1] == ["datasets"]:
            kind, parts = "dataset", parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = hub._repo(kind, f"{unquote(parts[0])}/{unquote(parts[1])}")
            return self._resolve(method, repo, unquote(parts[3]), unquote("/".join(parts[4:])))
        raise _HubError(404, "Not found")

    # ------------------------------------------------------------------ endpoints
    def _auth_token(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        if value.lower().startswith("bearer "):
            return value[7:].strip()
        return None

    def _check_access(self, repo: Repo, *, download: bool) -> None:
        hub = self.server.hub
        token = self._auth_token()
        if repo.api.get("disabled"):
            raise _HubError(403, _DISABLED_MESSAGE)
        if repo.api.get("private") and token not in hub.accepted_tokens:
            raise _HubError(401 if token is None else 404, "Repository not found", "RepoNotFound")
        if not (download and repo.gated) or hub.gated_open:
            return
        if token is None:
            raise _HubError(
                401,
                f"Access to model {repo.id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in.",
                "GatedRepo",
            )
        if token in hub.denied_tokens:
            raise _HubError(
                403, f"Access to model {repo.id} is restricted: your request was not approved."
            )
        if token not in hub.accepted_tokens:
            raise _HubError(
                403,
                f"Access to model {repo.id} is restricted and you are not in the authorized "
                "list. You must accept the conditions to access this model: visit "
                f"/{repo.id} to ask for access.",
                "GatedRepo",
            )

    def _served_api(self, repo: Repo, blobs: bool = False) -> dict[str, Any]:
        data = {k: copy.deepcopy(v) for k, v in repo.api.items() if k not in CORPUS_ONLY_FIELDS}
        for key in _DATE_FIELDS:
            if key in data:
                data[key] = _normalise_date(data[key])
        if "author" not in data and "/" in repo.id:
            data["author"] = repo.id.split("/", 1)[0]
        siblings = []
        for name in repo.sibling_names():
            sib = repo.sibling(name)
            if blobs:
                content = repo.read(name)
                if content is not None:
                    sib.setdefault("size", len(content))
                    sib.setdefault("blobId", git_blob_sha1(content))
                else:
                    sib.setdefault("blobId", _synthetic_oid(repo.sha, name))
            else:
                sib = {k: v for k, v in sib.items() if k in ("rfilename", "size")}
            siblings.append(sib)
        if "siblings" in repo.api:  # a repo stored without a file list is served without one
            data["siblings"] = siblings
        return data

    def _info(self, repo: Repo, rev: str, query: dict[str, list[str]]) -> _Reply:
        self._check_access(repo, download=False)
        self.server.hub._check_revision(repo, rev)
        data = self._served_api(repo, blobs=_flag(query, "blobs"))
        if _flag(query, "securityStatus"):
            data["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
        expand = query.get("expand")
        if expand:
            data = {k: v for k, v in data.items() if k in ("id", "_id", *expand)}
        return _json(data)

    def _tree_entries(self, repo: Repo, sub: str, recursive: bool) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        dirs: set[str] = set()
        prefix = f"{sub}/" if sub else ""
        for name in sorted(repo.sibling_names()):
            if not name.startswith(prefix):
                continue
            rel = name[len(prefix) :]
            pieces = rel.split("/")
            for i in range(1, len(pieces)):
                dirs.add(prefix + "/".join(pieces[:i]))
            if not recursive and len(pieces) > 1:
                continue
            content = repo.read(name)
            sib = repo.sibling(name)
            entry: dict[str, Any] = {"type": "file", "path": name}
            if content is not None:
                entry["size"] = len(content)
                entry["oid"] = git_blob_sha1(content)
            else:
                entry["size"] = int(sib.get("size") or 0)
                entry["oid"] = _synthetic_oid(repo.sha, name)
            lfs = sib.get("lfs")
            if isinstance(lfs, dict) and {"sha256", "size"} <= lfs.keys():
                entry["lfs"] = {
                    "oid": lfs["sha256"],
                    "size": lfs["size"],
                    "pointerSize": lfs.get("pointerSize", 134),
                }
            files.append(entry)
        if not recursive:
            dirs = {d for d in dirs if "/" not in d[len(prefix) :]}
        folders = [
            {"type": "directory", "path": d, "oid": _synthetic_oid(repo.sha, d + "/")}
            for d in sorted(dirs)
        ]
        return folders + files

    def _tree(
        self, repo: Repo, rev: str, sub: str, query: dict[str, list[str]], raw_path: str
    ) -> _Reply:
        self._check_access(repo, download=False)
        self.server.hub._check_revision(repo, rev)
        entries = self._tree_entries(repo, sub, _flag(query, "recursive"))
        if sub and not entries and sub not in repo.sibling_names():
            raise _HubError(404, f"Entry not found: {sub}", "EntryNotFound")
        if sub in repo.sibling_names():
            raise _HubError(400, f"{sub} is a file, not a directory")
        return self._paged(entries, query, raw_path)

    def _paged(self, items: list[Any], query: dict[str, list[str]], raw_path: str) -> _Reply:
        size = self.server.hub.page_size
        if not size:
            return _json(items)
        start = int((query.get("cursor") or ["0"])[0])
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", str(start + size)))
            qs = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params)
            headers["Link"] = f'<{self.server.hub.url}{raw_path}?{qs}>; rel="next"'
        return _json(page, headers=headers)

    def _list(self, kind: str, query: dict[str, list[str]], raw_path: str) -> _Reply:
        hub = self.server.hub
        repos = [r for r in hub._all_repos(kind) if not r.api.get("private")]
        author = _first(query, "author")
        if author:
            repos = [r for r in repos if r.id.split("/")[0].lower() == author.lower()]
        for term in query.get("search", []):
            repos = [r for r in repos if term.lower() in r.id.lower()]
        for tag in query.get("filter", []):
            repos = [
                r
                for r in repos
                if tag in (r.api.get("tags") or [])
                or tag in (r.api.get("pipeline_tag"), r.api.get("library_name"), r.id)
            ]
        for pt in query.get("pipeline_tag", []):
            repos = [r for r in repos if r.api.get("pipeline_tag") == pt]
        gated = _first(query, "gated")
        if gated is not None:
            want = gated.lower() == "true"
            repos = [r for r in repos if r.gated == want]
        sort = _first(query, "sort")
        if sort:
            direction = (query.get("direction") or ["-1"])[0]
            repos.sort(key=lambda r: (r.api.get(sort) is None, r.api.get(sort) or 0))
            if direction == "-1":
                repos.reverse()
        limit = _first(query, "limit")
        if limit:
            repos = repos[: int(limit)]
        expand = query.get("expand")
        full = _flag(query, "full")
        items = []
        for repo in repos:
            data = self._served_api(repo)
            if expand:
                keys: tuple[str, ...] = ("id", *expand)
            elif full:
                keys = (*_LIST_FIELDS, "sha", "siblings")
            else:
                keys = _LIST_FIELDS
            if _flag(query, "cardData") or _flag(query, "full"):
                keys = (*keys, "cardData")
            items.append({k: data[k] for k in keys if k in data})
        return self._paged(items, query, raw_path)

    def _resolve(self, method: str, repo: Repo, rev: str, path: str) -> _Reply:
        hub = self.server.hub
        self._check_access(repo, download=True)
        sha = hub._check_revision(repo, rev)
        content = repo.read(path)
        if content is None:
            raise _HubError(
                404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": sha}
            )
        etag = git_blob_sha1(content)
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "text/plain; charset=utf-8"
            if path.endswith((".md", ".txt", ".json", ".yaml", ".yml")) or "LICENSE" in path
            else "application/octet-stream",
        }
        status = 200
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match and method == "GET":
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(content) - 1
            if start >= len(content):
                return _Reply(416, b"", {"Content-Range": f"bytes */{len(content)}"})
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            content = content[start : end + 1]
            status = 206
        return _Reply(status, content, headers, json_body=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openaudit.hub.replay",
        description="Serve corpus-format folders as a loopback Hugging Face Hub.",
    )
    parser.add_argument("roots", nargs="+", help="corpus-format folders (models/, datasets/)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--token", action="append", default=[], help="an accepted token")
    parser.add_argument(
        "--gated-open", action="store_true", help="serve gated repos' files without a token"
    )
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args(argv)
    hub = ReplayHub(
        *(Path(r).resolve() for r in args.roots),
        accepted_tokens=args.token,
        page_size=args.page_size,
        gated_open=args.gated_open,
        host=args.host,
        port=args.port,
    )
    return serve_forever(hub)


def serve_forever(hub: ReplayHub) -> int:
    """Start ``hub``, print its URL on stdout, and serve until interrupted."""
    with hub:
        print(hub.url, flush=True)
        print(
            f"{len(hub.repo_ids('model'))} models, {len(hub.repo_ids('dataset'))} datasets; "
            f"HF_ENDPOINT={hub.url}; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
