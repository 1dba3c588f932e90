"""Licence and use-policy texts behind links (`license_link: https://...`, links in the card).

Such a text is not part of the repository's commit, so it can change under the
same commit: each online audit reads it again, keeps it in the evidence store
with its hash, and says when the hash differs from the stored one. Reads are
bounded in size, time and redirects; offline, the stored copy is used and a
link never read is listed, never guessed.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from openaudit.hub.memo import Once
from openaudit.hub.retry import TRANSIENT, DeadlineExceeded, Retrier, Transient
from openaudit.hub.store import Store
from openaudit.model import LinkedText, Problem, Snapshot

MAX_LINK_BYTES = 512 * 1024
MAX_LINKS = 4
_MD_LINK = re.compile(r"\[([^\]]{1,200})\]\((https?://[^)\s]+)\)")
_LICENCEISH = re.compile(
    r"licen[cs]e|use[-_ ]?policy|acceptable[-_ ]use|terms[-_ ]of[-_ ]use", re.IGNORECASE
)
_HUB_BLOB = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/(?P<path>.+?)/(?:blob|raw|resolve)/(?P<rest>.+)$"
)


def licence_links(snapshot: Snapshot) -> list[str]:
    """URLs the card offers for its licence or use policy: `license_link`, then licence-ish links."""
    card = snapshot.info.get("cardData") or {}
    urls: list[str] = []
    link = card.get("license_link")
    if isinstance(link, str) and re.match(r"^https?://", link.strip()):
        urls.append(link.strip())
    readme = snapshot.file("README.md")
    if readme is not None and readme.text:
        for text, url in _MD_LINK.findall(readme.text):
            if _LICENCEISH.search(text) or _LICENCEISH.search(urlparse(url).path):
                urls.append(url)
    return list(dict.fromkeys(urls))[:MAX_LINKS]


def allowed_hosts() -> frozenset[str] | None:
    """`OPENAUDIT_LINK_HOSTS=a,b` limits which hosts links are read from (None: any host).

    Sandboxed runs and the test suite use it to guarantee no request leaves the machine.
    """
    value = os.environ.get("OPENAUDIT_LINK_HOSTS")
    if value is None:
        return None
    return frozenset(h.strip().lower() for h in value.split(",") if h.strip())


def raw_url(url: str, endpoint: str) -> str:
    """A Hub page link (`/blob/`) is read as the raw file from the configured endpoint."""
    m = _HUB_BLOB.match(url)
    if m:
        return f"{endpoint.rstrip('/')}/{m.group('path')}/resolve/{m.group('rest')}"
    return url


class LinkReader:
    """Reads linked texts through httpx; one client per run."""

    def __init__(
        self,
        store: Store | None,
        *,
        endpoint: str,
        timeout: float,
        offline: bool,
        hosts: frozenset[str] | None = None,
        retrier: Retrier | None = None,
    ) -> None:
        self.store = store
        #: Hosts links may be read from; None means `OPENAUDIT_LINK_HOSTS`, else any host.
        self.hosts = hosts if hosts is not None else allowed_hosts()
        self.endpoint = endpoint
        self.timeout = timeout
        self.offline = offline
        self.retrier = retrier or Retrier()
        self._client: Any = None
        self._lock = threading.Lock()
        #: Each URL is read once per run, however many cards link to it.
        self._memo: Once[str, LinkedText | Problem] = Once(1024)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def read_all(self, urls: Iterable[str]) -> tuple[Mapping[str, LinkedText], list[Problem]]:
        found: dict[str, LinkedText] = {}
        problems: list[Problem] = []
        for url in urls:
            result = self.read(url)
            if isinstance(result, LinkedText):
                found[url] = result
                continue
            stored = self.store.get_text(url) if self.store is not None else None
            if stored is not None:  # unreachable now: the stored copy still speaks
                found[url] = LinkedText(
                    url, stored.text, stored.sha256, stored.fetched_at, None, "store"
                )
            if stored is None or result.reason != "offline-missing":
                problems.append(result)
        return found, problems

    def read(self, url: str) -> LinkedText | Problem:
        """The text behind `url`, read once per run (a failure is an answer too, for this run)."""
        return self._memo.get(url, lambda: self._read(url))

    def _read(self, url: str) -> LinkedText | Problem:
        if self.offline:
            return Problem(url, "offline-missing", "link not read (offline)")
        target = raw_url(url, self.endpoint)
        if self.hosts is not None and (urlparse(target).hostname or "") not in self.hosts:
            return Problem(url, "not-fetched", "host not allowed by OPENAUDIT_LINK_HOSTS")
        try:
            data = self.retrier.call(lambda: self._get(target), _transient)
        except _TooLarge:
            return Problem(url, "too-large", f"more than {MAX_LINK_BYTES} bytes")
        except Exception as exc:  # any transport failure is reported, never raised
            return Problem(url, _reason(exc), f"{type(exc).__name__}: {str(exc)[:120]}")
        text = data.decode("utf-8", errors="replace")
        digest = hashlib.sha256(data).hexdigest()
        if self.store is None:
            return LinkedText(url, text, digest, "", None, "fetched")
        stored, old = self.store.put_text(url, digest, text)
        changed = old.sha256 if old is not None and old.sha256 != digest else None
        return LinkedText(url, text, digest, stored.fetched_at, changed, "fetched")

    def _get(self, url: str) -> bytes:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout, follow_redirects=True, max_redirects=5
                )
        with self._client.stream(
            "GET", url, headers={"Accept": "text/plain, text/markdown, */*"}
        ) as resp:
            if resp.status_code >= 400:
                raise _HTTPStatus(resp.status_code, resp.headers.get("Retry-After"))
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_LINK_BYTES:
                    raise _TooLarge
                chunks.append(chunk)
        return b"".join(chunks)


class _TooLarge(Exception):
    pass


class _HTTPStatus(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None


def _transient(exc: BaseException) -> Transient | None:
    """A linked text is retried like a Hub request: server errors, 429, cuts and timeouts."""
    if isinstance(exc, _TooLarge):
        return None
    reason = _reason(exc)
    if reason not in TRANSIENT:
        return None
    return Transient(reason, str(exc)[:120], getattr(exc, "wait", None))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DeadlineExceeded):
        return "deadline"
    if isinstance(exc, _HTTPStatus):
        if exc.status == 404:
            return "not-found"
        if exc.status == 429:
            return "rate-limited"
        return "server-error" if exc.status >= 500 else "access-denied"
    return "timeout" if "Timeout" in type(exc).__name__ else "network"
