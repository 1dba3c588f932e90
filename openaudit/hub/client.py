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
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openaudit.model import ModelRef, Problem, RepoFile, Snapshot

# A compliance tool should not report usage to anyone; must be set before import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

DEFAULT_ENDPOINT = "https://huggingface.co"
#: Files bigger than this are listed, not read: licence texts and cards are small.
MAX_FILE_BYTES = 512 * 1024

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
        retries: int = 2,
    ) -> None:
        self.endpoint = (endpoint or endpoint_from_env()).rstrip("/")
        self.timeout = timeout
        self.max_file_bytes = max_file_bytes
        self.retries = retries
        from huggingface_hub import HfApi

        self._api = HfApi(endpoint=self.endpoint)

    def resolve_info(self, ref: ModelRef) -> dict[str, Any]:
        """The repo's metadata at the requested revision, as the Hub's JSON field names.

        `model_info` is the one call huggingface_hub never retries, so rate limits and
        passing server errors are retried here, a bounded number of times, honouring
        Retry-After up to MAX_WAIT seconds; what still fails is reported, not raised.
        """
        for attempt in range(self.retries + 1):
            try:
                if ref.kind == "dataset":
                    info: Any = self._api.dataset_info(
                        ref.repo_id,
                        revision=ref.revision,
                        timeout=self.timeout,
                        files_metadata=True,
                    )
                else:
                    info = self._api.model_info(
                        ref.repo_id,
                        revision=ref.revision,
                        timeout=self.timeout,
                        files_metadata=True,
                    )
                return info_to_json(info)
            except Exception as exc:  # every client failure becomes a reported Problem
                problem = problem_from_exception(ref.repo_id, exc)
                if problem.reason not in _RETRYABLE or attempt == self.retries:
                    raise HubError(problem) from None
                time.sleep(_wait(exc, attempt))
        raise AssertionError("unreachable")

    def fetch(self, ref: ModelRef, info: Mapping[str, Any] | None = None) -> Snapshot:
        """Read metadata and the files that matter at one commit."""
        info = dict(info) if info is not None else self.resolve_info(ref)
        commit = info.get("sha")
        if not isinstance(commit, str):
            raise HubError(Problem(ref.repo_id, "malformed", "the Hub's answer has no commit sha"))
        sizes = {
            s["rfilename"]: s.get("size")
            for s in info.get("siblings") or []
            if isinstance(s, dict) and "rfilename" in s
        }
        names = list(sizes) or ["README.md"]
        files: list[RepoFile] = []
        problems: list[Problem] = []
        for name in wanted_files(names, info.get("cardData")):
            size = sizes.get(name)
            if isinstance(size, int) and size > self.max_file_bytes:
                problems.append(
                    Problem(name, "too-large", f"{size} bytes; read up to {self.max_file_bytes}")
                )
                continue
            try:
                files.append(self.download(ref, commit, name))
            except Exception as exc:
                problems.append(problem_from_exception(name, exc))
        card = next((f for f in files if f.path == "README.md" and f.text), None)
        if card is not None and card.text is not None:
            from openaudit.hub.local import parse_front_matter

            problem = parse_front_matter(card.text)[1]
            if problem is not None:
                problems.append(problem)
        return Snapshot(
            ref=ref,
            commit=commit,
            info=info,
            files=tuple(files),
            problems=tuple(problems),
            origin="hub",
            endpoint=self.endpoint,
        )

    def download(self, ref: ModelRef, commit: str, name: str) -> RepoFile:
        """One file at a pinned commit: one GET, read into memory up to the size bound.

        The commit is already known, so `hf_hub_download`'s HEAD (to learn it) and its cache
        tree (written, then thrown away) would be pure cost. The request goes through
        `huggingface_hub`'s own session, headers (token, user agent) and `hf_raise_for_status`,
        so gating, not-found and server errors raise the exceptions `problem_from_exception`
        maps, exactly as a download by the library would.
        """
        from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
        from huggingface_hub.utils import _headers

        url = hf_hub_url(
            ref.repo_id, name, repo_type=ref.kind, revision=commit, endpoint=self.endpoint
        )
        limit = self.max_file_bytes
        with get_session().stream(
            "GET",
            url,
            headers=_headers.build_hf_headers(),
            timeout=self.timeout,
            follow_redirects=True,
        ) as resp:
            hf_raise_for_status(resp)
            chunks: list[bytes] = []
            got = 0
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                got += len(chunk)
                if got > limit:
                    break
            length = resp.headers.get("Content-Length")
        data = b"".join(chunks)
        size = int(length) if length and length.isdigit() and got <= limit else len(data)
        return repo_file(name, data, max(size, len(data)), limit)


def read_repo_file(name: str, path: Path, limit: int) -> RepoFile:
    """Read a small text file, bounded; binary content is kept as listed-only."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    return repo_file(name, data, path.stat().st_size, limit)


def repo_file(name: str, data: bytes, size: int, limit: int) -> RepoFile:
    """A file's first `limit` bytes as text (binary content is kept as listed-only)."""
    truncated = len(data) > limit
    data = data[:limit]
    digest = hashlib.sha256(data).hexdigest()
    try:
        text: str | None = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1") if b"\x00" not in data else None
    return RepoFile(path=name, size=size, text=text, sha256=digest, truncated=truncated)


def problem_from_exception(subject: str, exc: BaseException) -> Problem:
    """Map huggingface_hub's exceptions (driven by X-Error-Code) to reason codes.

    GatedRepoError subclasses RepositoryNotFoundError, so it is tested first; a
    token's presence decides between "no token" and "terms not accepted".
    """
    from huggingface_hub import errors

    status = _status(exc)
    detail = _first_line(exc)
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
        return Problem(subject, "malformed", f"unreadable answer from the Hub ({name}: {detail})")
    return Problem(subject, "error", f"{name}: {detail}")


#: Failures worth another try: the next answer may differ.
_RETRYABLE = frozenset({"rate-limited", "server-error", "network", "timeout"})
#: The longest Retry-After honoured; a longer wait is reported as rate-limited instead.
MAX_WAIT = 30.0


def _wait(exc: BaseException, attempt: int) -> float:
    """Seconds before the next try: the server's Retry-After if it gave one, else 1, 2, 4 ..."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(retry_after), MAX_WAIT) if retry_after is not None else float(2**attempt)
    except ValueError:  # an HTTP date: not worth parsing for a bounded wait
        return float(2**attempt)


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
        out["siblings"] = [
            {k: v for k, v in (("rfilename", s.rfilename), ("size", s.size)) if v is not None}
            for s in siblings
        ]
    st = getattr(info, "safetensors", None)
    if st is not None:
        out["safetensors"] = {"parameters": dict(st.parameters), "total": st.total}
    return out
