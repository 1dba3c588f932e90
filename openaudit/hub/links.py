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
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlparse, urlsplit, urlunsplit

from openaudit.hub.memo import Once
from openaudit.hub.retry import (
    TRANSIENT,
    DeadlineExceeded,
    Retrier,
    Transient,
    current_deadline,
)
from openaudit.hub.store import Store
from openaudit.model import LinkedText, Problem, Snapshot
from openaudit.safe import clean_text, scrub

MAX_LINK_BYTES = 512 * 1024
MAX_LINKS = 4
MAX_REDIRECTS = 5
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

    def answered(self, url: str) -> bool:
        """Whether this run has read `url` already (reading it again sends nothing)."""
        return self._memo.answered(url)

    def read(self, url: str) -> LinkedText | Problem:
        """The text behind `url`, read once per run (a failure is an answer too, for this run)."""
        return self._memo.get(url, lambda: self._read(url))

    def _read(self, url: str) -> LinkedText | Problem:
        if self.offline:
            return Problem(url, "offline-missing", "link not read (offline)")
        target = raw_url(url, self.endpoint)
        try:
            self._fence(target)
            data = self.retrier.call(lambda: self._get(target), _transient)
        except Fenced as exc:
            return Problem(url, "not-fetched", str(exc))
        except _TooLarge:
            return Problem(url, "too-large", f"more than {MAX_LINK_BYTES} bytes")
        except Exception as exc:  # any transport failure is reported, never raised
            return Problem(url, _reason(exc), scrub(f"{type(exc).__name__}: {str(exc)[:120]}"))
        text = clean_text(data.decode("utf-8", errors="replace"))
        digest = hashlib.sha256(data).hexdigest()
        if self.store is None:
            return LinkedText(url, text, digest, "", None, "fetched")
        stored, old = self.store.put_text(url, digest, text)
        changed = old.sha256 if old is not None and old.sha256 != digest else None
        return LinkedText(url, text, digest, stored.fetched_at, changed, "fetched")

    def _fence(self, url: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """Check one hop; returns the URL to send (pinned to the checked address), headers, extensions.

        https only (http only to the configured endpoint's host); a host must be named by
        OPENAUDIT_LINK_HOSTS when that is set; otherwise every address the name resolves to
        must be public. The request then goes to the address that was checked (with the
        name as Host and TLS server name), so a second DNS answer cannot rebind it.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower()
        if not host or scheme not in ("http", "https"):
            raise Fenced(f"not an http(s) link: {url[:80]}")
        headers = {"Accept": "text/plain, text/markdown, */*"}
        if host == (urlsplit(self.endpoint).hostname or "").lower():
            return url, headers, {}
        if scheme != "https":
            raise Fenced("only https links are read (http only from the Hub endpoint)")
        if self.hosts is not None:
            if host not in self.hosts:
                raise Fenced("host not allowed by OPENAUDIT_LINK_HOSTS")
            return url, headers, {}
        address = _public_address(host, parts.port or 443)
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        return (
            urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")),
            headers,
            {"sni_hostname": host},
        )

    def _get(self, url: str) -> bytes:
        """GET with redirects followed by hand: every hop is fenced, every body bounded."""
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        d = current_deadline()
        for _hop in range(MAX_REDIRECTS + 1):
            target, headers, extensions = self._fence(url)
            budget = d.cut(self.timeout)
            end = time.monotonic() + budget
            with self._client.stream(
                "GET", target, headers=headers, extensions=extensions, timeout=budget
            ) as resp:
                if resp.is_redirect and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    continue
                if resp.status_code >= 400:
                    raise _HTTPStatus(resp.status_code, resp.headers.get("Retry-After"))
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    if time.monotonic() > end:
                        raise TimeoutError("the linked text did not arrive in time")
                    size += len(chunk)
                    if size > MAX_LINK_BYTES:
                        raise _TooLarge
                    chunks.append(chunk)
                return b"".join(chunks)
        raise Fenced(f"more than {MAX_REDIRECTS} redirects")


class Fenced(Exception):
    """A link (or a redirect) the fence does not let the audit read."""


def _public_address(host: str, port: int) -> str:
    """The first address of `host`, after checking that every address it has is public."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Fenced(f"{host} does not resolve ({exc.strerror or exc})") from None
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global or ip.is_multicast:
            raise Fenced(f"{host} resolves to a non-public address ({address})")
    if not addresses:
        raise Fenced(f"{host} does not resolve")
    return addresses[0]


class _TooLarge(Exception):
    pass


class _HTTPStatus(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None


def _transient(exc: BaseException) -> Transient | None:
    """A linked text is retried like a Hub request: server errors, 429, cuts and timeouts."""
    if isinstance(exc, _TooLarge | Fenced):
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
    return "timeout" if "Timeout" in type(exc).__name__ else "network"  # TimeoutError too
