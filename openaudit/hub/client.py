"""Read one repository at one revision from the Hub through `huggingface_hub`.

The client is the real `huggingface_hub` one, pointed at `endpoint` per call
(never through the import-time `HF_ENDPOINT` constant alone), so the same code
runs against the Hub, a mirror, or the loopback fake Hub of the tests. Every
failure becomes a `Problem` with a short reason code: a batch audit must name
what it could not read, never stop on it.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from openaudit.hub import http
from openaudit.hub.retry import TRANSIENT, DeadlineExceeded, Retrier, Transient
from openaudit.model import ModelRef, Problem, RepoFile, Snapshot
from openaudit.safe import (
    MAX_DEPTH,
    Malformed,
    clean_text,
    clean_tree,
    load_json,
    scrub,
    was_cut,
)

# A compliance tool should not report usage to anyone; must be set before import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

DEFAULT_ENDPOINT = "https://huggingface.co"
#: Files bigger than this are listed, not read: licence texts and cards are small.
MAX_FILE_BYTES = 512 * 1024
#: A metadata answer bigger than this is refused (the Hub's largest are a few hundred KB).
MAX_INFO_BYTES = 16 * 1024 * 1024
#: Deeper metadata is refused before parsing (parts deeper than `safe.MAX_DEPTH` are cut).
MAX_INFO_DEPTH = 512
_COMMIT = re.compile(r"[0-9a-f]{40}")
#: A listing page bigger than this is not read (a page of 1,000 ids with commits is ~100 KB).
MAX_LIST_BYTES = 8 * 1024 * 1024
_T = TypeVar("_T")

_LICENCE_FILE = re.compile(
    r"^(licen[cs]e|copying|notice|use[_-]?policy|acceptable[_-]?use[_-]?policy|responsible[_-]?use)"
    r"([._-].*)?$",
    re.IGNORECASE,
)
#: Small files the facts stage reads besides licence files.
_ALWAYS = ("README.md", "adapter_config.json", "config.json")


class HubError(Exception):
    """A repository could not be read; carries the Problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.subject}: {problem.reason}: {problem.detail}")
        self.problem = problem


def endpoint_from_env() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


def wanted_files(names: Iterable[str], card: Mapping[str, Any] | None) -> list[str]:
    """Pick the files worth reading: the card, configs, licence-like files, `license_link` target."""
    names = list(names)
    present = set(names)
    picked = [n for n in _ALWAYS if n in present]
    picked += sorted(
        n for n in names if "/" not in n and _LICENCE_FILE.match(n) and n not in picked
    )
    link = (card or {}).get("license_link")
    if isinstance(link, str) and not re.match(r"^[a-z]+://", link):
        target = link.lstrip("./")
        if target in present and target not in picked:
            picked.append(target)
    return picked


class HubClient:
    """Fetches snapshots; one instance per run, safe to share between threads."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        timeout: float = 20.0,
        max_file_bytes: int = MAX_FILE_BYTES,
        retrier: Retrier | None = None,
    ) -> None:
        self.endpoint = (endpoint or endpoint_from_env()).rstrip("/")
        self.timeout = timeout
        self.max_file_bytes = max_file_bytes
        #: Shared with the link reader: one policy, one budget per run.
        self.retrier = retrier or Retrier()

    def resolve_info(self, ref: ModelRef) -> dict[str, Any]:
        """The repo's metadata at the requested revision, as the Hub's JSON field names.

        One GET, retried under the run's policy; an answer that does not parse is
        transient (a cut or garbled body), never a fact about the repository.
        """
        url = f"{self._info_url(ref)}?blobs=true"

        def once() -> dict[str, Any]:
            answer = http.get(url, timeout=self.timeout, limit=MAX_INFO_BYTES)
            if answer.truncated:
                raise HubError(
                    Problem(ref.repo_id, "too-large", f"metadata over {MAX_INFO_BYTES} bytes")
                )
            return parse_info(ref, answer.body)

        return self._retried(ref, once)

    def current_commit(self, ref: ModelRef) -> str:
        """The commit the ref's revision points to now: one small request (`expand=sha`), for
        a drift check that needs nothing else. Failures are the same `HubError`s as
        `resolve_info`; an answer without a commit id is a transient bad answer."""
        url = f"{self._info_url(ref)}?expand=sha"

        def once() -> str:
            answer = http.get(url, timeout=self.timeout, limit=MAX_INFO_BYTES)
            try:
                data = load_json(answer.body, max_depth=8)
            except Malformed as exc:
                raise Transient("bad-answer", f"unreadable answer from the Hub ({exc})") from None
            sha = data.get("sha") if isinstance(data, dict) else None
            if answer.truncated or not isinstance(sha, str) or not _COMMIT.fullmatch(sha):
                raise Transient("bad-answer", "the Hub's answer names no commit")
            return sha

        return self._retried(ref, once)

    def listed_commits(self, author: str, wanted: set[str], max_pages: int) -> dict[str, str]:
        """The commit `main` points to now for each of `wanted` the Hub lists under `author`:
        one request per page of the listing (`expand=sha`) instead of one per model.

        Stops once every wanted id is found or after `max_pages` pages; a next page is only
        followed on this endpoint (the token goes nowhere else). Ids it does not list, or an
        answer that does not parse, are simply not in the result.
        """
        url: str | None = f"{self.endpoint}/api/models?author={quote(author, safe='')}&expand=sha"
        found: dict[str, str] = {}
        for _ in range(max_pages):
            if url is None or wanted <= found.keys():
                break
            answer = self._retried(
                ModelRef(author),
                partial(http.get, url, timeout=self.timeout, limit=MAX_LIST_BYTES),
            )
            try:
                items = load_json(answer.body, max_bytes=MAX_LIST_BYTES, max_depth=8)
            except Malformed:
                break
            for item in items if isinstance(items, list) and not answer.truncated else ():
                repo = item.get("id") if isinstance(item, dict) else None
                sha = item.get("sha") if isinstance(item, dict) else None
                # Types first: an id may be a list (unhashable), a commit a number.
                if not (isinstance(repo, str) and isinstance(sha, str) and _COMMIT.fullmatch(sha)):
                    continue
                if repo in wanted:
                    found[repo] = sha
            url = _next_page(answer.headers, self.endpoint)
        return found

    def _info_url(self, ref: ModelRef) -> str:
        path = f"{self.endpoint}/api/{ref.kind}s/{ref.repo_id}"
        if ref.revision:
            path += f"/revision/{quote(ref.revision, safe='')}"
        return path

    def _retried(self, ref: ModelRef, once: Callable[[], _T]) -> _T:
        """`once` under the run's retry policy; every client failure becomes a `HubError`."""
        try:
            return self.retrier.call(once, transient)
        except HubError:
            raise
        except Exception as exc:  # every client failure becomes a reported Problem
            raise HubError(problem_from_exception(ref.repo_id, exc)) from None

    def fetch(self, ref: ModelRef, info: Mapping[str, Any] | None = None) -> Snapshot:
        """Read metadata and the files that matter at one commit."""
        info = dict(info) if info is not None else self.resolve_info(ref)
        commit = info.get("sha")
        if not isinstance(commit, str):
            raise HubError(Problem(ref.repo_id, "malformed", "the Hub's answer has no commit sha"))
        listed = {
            s["rfilename"]: s
            for s in info.get("siblings") or []
            if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
        }
        names = list(listed) or ["README.md"]
        files: list[RepoFile] = []
        problems: list[Problem] = []
        for name in wanted_files(names, info.get("cardData")):
            size = listed.get(name, {}).get("size")
            if isinstance(size, int) and size > self.max_file_bytes:
                problems.append(
                    Problem(name, "too-large", f"{size} bytes; read up to {self.max_file_bytes}")
                )
                continue
            try:
                files.append(self.download(ref, commit, name, size))
            except Exception as exc:
                problems.append(problem_from_exception(name, exc))
        card = next((f for f in files if f.path == "README.md" and f.text), None)
        if card is not None and card.text is not None:
            from openaudit.cardtext import parse_front_matter

            problem = parse_front_matter(card.text)[1]
            if problem is not None:
                problems.append(problem)
        if was_cut(info):
            problems.append(
                Problem("metadata", "malformed", f"parts nested deeper than {MAX_DEPTH} not read")
            )
        return Snapshot(
            ref=ref,
            commit=commit,
            info=info,
            files=tuple(files),
            problems=tuple(problems),
            origin="hub",
            endpoint=self.endpoint,
        )

    def download(self, ref: ModelRef, commit: str, name: str, size: int | None = None) -> RepoFile:
        """One file at a pinned commit: one bounded GET per try, under the run's retry policy.

        The commit is already known, so `hf_hub_download`'s HEAD (to learn it), its cache
        tree and its own retries (up to 7 requests and 23 s of sleep) would be pure cost.
        The request goes through `huggingface_hub`'s session, headers and
        `hf_raise_for_status` (`http.get`), so errors map as for a library download.
        """
        from huggingface_hub import hf_hub_url

        url = hf_hub_url(
            ref.repo_id, name, repo_type=ref.kind, revision=commit, endpoint=self.endpoint
        )

        def once() -> RepoFile:
            answer = http.get(url, timeout=self.timeout, limit=self.max_file_bytes)
            check_body(answer.body, answer.truncated, answer.headers)
            unsigned = not (answer.headers.get("x-linked-etag") or answer.headers.get("etag"))
            if unsigned and size is not None and not answer.truncated and len(answer.body) != size:
                # No ETag to check, and not the size the listing gives: a garbled answer must
                # never be read as the card or the licence.
                raise Transient(
                    "bad-answer", f"received {len(answer.body)} bytes, the listing says {size}"
                )
            return repo_file(name, answer.body, answer.truncated, size)

        return self.retrier.call(once, transient)


def read_repo_file(name: str, path: Path, limit: int) -> RepoFile:
    """Read a small text file, bounded; binary content is kept as listed-only."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    truncated = len(data) > limit
    return repo_file(name, data[:limit], truncated, path.stat().st_size)


def repo_file(name: str, data: bytes, truncated: bool, size: int | None) -> RepoFile:
    """Decode a file's bytes; text is cleaned at this boundary (control characters, surrogates)."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text: str | None = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1") if b"\x00" not in data else None
    return RepoFile(
        path=name,
        size=size if size is not None else len(data),
        text=clean_text(text) if text is not None else None,
        sha256=digest,
        truncated=truncated,
    )


def check_body(body: bytes, truncated: bool, headers: Mapping[str, str]) -> None:
    """A whole body that does not match the answer's own ETag is a transient failure.

    The Hub's ETag for a file is its git blob id (a sha256 for LFS files): a body cut
    short or garbled on the way is caught here, and retried, never read as the file.
    """
    if truncated:
        return
    etag = (headers.get("x-linked-etag") or headers.get("etag") or "").removeprefix("W/")
    etag = etag.strip('"').lower()
    if re.fullmatch(r"[0-9a-f]{40}", etag):
        header = f"blob {len(body)}\0".encode()
        if hashlib.sha1(header + body, usedforsecurity=False).hexdigest() != etag:
            raise Transient("bad-answer", "the file received does not match its ETag")
    elif re.fullmatch(r"[0-9a-f]{64}", etag) and hashlib.sha256(body).hexdigest() != etag:
        raise Transient("bad-answer", "the file received does not match its ETag")


def parse_info(ref: ModelRef, body: bytes) -> dict[str, Any]:
    """The metadata answer, checked and cleaned.

    A body that does not parse is transient (cut or garbled on the way); one nested
    deeper than any real answer is the repository's own doing, a final `malformed`.
    """
    from huggingface_hub.hf_api import DatasetInfo, ModelInfo

    try:
        data = load_json(body, max_depth=MAX_INFO_DEPTH)
    except Malformed as exc:
        if "nested deeper" in str(exc):
            raise HubError(
                Problem(ref.repo_id, "malformed", f"the Hub's answer is {exc}")
            ) from None
        raise Transient("bad-answer", f"unreadable answer from the Hub ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise Transient("bad-answer", "unreadable answer from the Hub (no repository id)")
    try:
        info: Any = (DatasetInfo if ref.kind == "dataset" else ModelInfo)(**data)
        out = info_to_json(info)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Transient(
            "bad-answer", f"unreadable answer from the Hub ({type(exc).__name__})"
        ) from None
    cleaned, _ = clean_tree(out)
    return dict(cleaned)


def transient(exc: BaseException) -> Transient | None:
    """The retry policy's view of an exception: worth another try, with the server's wait."""
    if isinstance(exc, Transient):
        return exc
    if isinstance(exc, HubError):
        return None
    problem = problem_from_exception("", exc)
    if problem.reason not in TRANSIENT:
        return None
    return Transient(problem.reason, problem.detail, server_wait(exc))


def problem_from_exception(subject: str, exc: BaseException) -> Problem:
    """Map huggingface_hub's exceptions (driven by X-Error-Code) to reason codes.

    GatedRepoError subclasses RepositoryNotFoundError, so it is tested first; a
    token's presence decides between "no token" and "terms not accepted".
    """
    from huggingface_hub import errors

    status = _status(exc)
    detail = scrub(_first_line(exc))
    if isinstance(exc, errors.GatedRepoError):
        if status == 401 or not _token_present():
            return Problem(
                subject,
                "gated-no-token",
                "gated: set HF_TOKEN with a token that accepted the terms",
            )
        return Problem(
            subject, "gated-not-accepted", "gated: the token's user has not accepted the terms"
        )
    if isinstance(exc, errors.DisabledRepoError):
        return Problem(subject, "disabled", "the repository is disabled")
    if isinstance(exc, errors.RevisionNotFoundError):
        return Problem(subject, "revision-not-found", "no such revision")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return Problem(subject, "not-found", "repository not found (deleted, renamed or private)")
    if isinstance(exc, errors.LocalEntryNotFoundError):
        # Raised for any failed download with nothing cached (5xx, timeouts, resets): transient.
        return Problem(
            subject, "network", "the file could not be downloaded (network or server error)"
        )
    if isinstance(exc, errors.RemoteEntryNotFoundError | errors.EntryNotFoundError):
        return Problem(subject, "not-found", "file not found at this revision")
    if isinstance(exc, Transient):
        return Problem(subject, exc.reason, scrub(exc.detail))
    if isinstance(exc, DeadlineExceeded):
        return Problem(subject, "deadline", "not read: the deadline was reached first")
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return Problem(subject, "offline-missing", "offline mode is on")
    if status is not None:
        if status == 429:
            return Problem(subject, "rate-limited", f"HTTP 429 from the Hub: {detail}")
        if status in (401, 403):
            return Problem(subject, "access-denied", f"HTTP {status}: {detail}")
        if status == 404:
            return Problem(subject, "not-found", f"HTTP 404: {detail}")
        if status >= 500:
            return Problem(subject, "server-error", f"HTTP {status} from the Hub")
        return Problem(subject, "error", f"HTTP {status}: {detail}")
    name = type(exc).__name__
    if "Timeout" in name:
        return Problem(subject, "timeout", "the Hub did not answer in time")
    if isinstance(exc, ConnectionError | OSError) or _is_transport_error(exc):
        return Problem(subject, "network", f"could not reach the Hub ({name})")
    if isinstance(exc, ValueError | KeyError | TypeError):
        return Problem(subject, "bad-answer", f"unreadable answer from the Hub ({name}: {detail})")
    return Problem(subject, "error", f"{name}: {detail}")


def server_wait(exc: BaseException) -> float | None:
    """Seconds the server asked for: `Retry-After` (seconds or a date), else `RateLimit` t=."""
    from email.utils import parsedate_to_datetime

    from huggingface_hub.utils._http import parse_ratelimit_headers

    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None or not hasattr(headers, "get"):
        return None
    value = headers.get("Retry-After")
    if value is not None:
        value = str(value).strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    limit = parse_ratelimit_headers(dict(headers))
    if limit is not None and limit.remaining == 0:
        return float(limit.reset_in_seconds)
    return None


def _is_transport_error(exc: BaseException) -> bool:
    """A connection refused, reset or cut short, whichever HTTP library raised it."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "NetworkError", "ProtocolError", "ConnectError"})


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def credential_id() -> str:
    """Who reads gated files: "anonymous", or a one-way digest of the token.

    The evidence store keeps this beside a snapshot whose files gating refused, so a pinned
    re-audit by the same reader needs no request, while a new token is tried at once. Only
    16 hex digits of a salted SHA-256 are kept: the token cannot be recovered from them.
    """
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        return "anonymous"
    return "token:" + hashlib.sha256(b"openaudit-credential\0" + token.encode()).hexdigest()[:16]


def _token_present() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value


def info_to_json(info: Any) -> dict[str, Any]:
    """Turn ModelInfo/DatasetInfo back into the Hub's JSON field names.

    The store and the local sources share this shape, so the facts stage reads
    one format whatever the origin.
    """
    out: dict[str, Any] = {"id": info.id, "sha": info.sha}
    simple = {
        "author": "author",
        "private": "private",
        "gated": "gated",
        "disabled": "disabled",
        "downloads": "downloads",
        "likes": "likes",
        "library_name": "library_name",
        "pipeline_tag": "pipeline_tag",
        "tags": "tags",
        "config": "config",
        "gguf": "gguf",
        "security_repo_status": "securityRepoStatus",
        "children_model_count": "childrenModelCount",
        "base_models": "baseModels",
        "description": "description",
        "citation": "citation",
    }
    for attr, key in simple.items():
        value = getattr(info, attr, None)
        if value is not None:
            out[key] = value
    for attr, key in (("created_at", "createdAt"), ("last_modified", "lastModified")):
        value = getattr(info, attr, None)
        if value is not None:
            out[key] = _iso(value)
    card = getattr(info, "card_data", None)
    if card is not None:
        out["cardData"] = card.to_dict()
    siblings = getattr(info, "siblings", None)
    if siblings is not None:
        out["siblings"] = [_sibling(s) for s in siblings]
    st = getattr(info, "safetensors", None)
    if st is not None:
        out["safetensors"] = {"parameters": dict(st.parameters), "total": st.total}
    return out


def _sibling(s: Any) -> dict[str, Any]:
    """A file entry; the blob id and LFS hash let a download be checked against the list."""
    entry = {
        k: v
        for k, v in (("rfilename", s.rfilename), ("size", s.size), ("blobId", s.blob_id))
        if v is not None
    }
    lfs = getattr(s, "lfs", None)
    if lfs is not None:
        entry["lfs"] = {"size": lfs.size, "sha256": lfs.sha256}
    return entry


def _next_page(headers: Mapping[str, str], endpoint: str) -> str | None:
    """The `Link: rel="next"` page (read by httpx's parser), only when it is on `endpoint`."""
    import httpx2

    url = httpx2.Response(200, headers=headers).links.get("next", {}).get("url")
    return url if url and url.startswith(endpoint.rstrip("/") + "/") else None
