"""The link fence: licence links never reach loopback, private, link-local or reserved hosts
unless the endpoint or OPENAUDIT_LINK_HOSTS names them, on any redirect hop, whatever DNS
answers; local folders keep symlinks in; a token never leaves the endpoint or an output.

"Another host" is a loopback server on 127.0.0.2: every request it receives is counted, and
a forbidden request reaching it fails the test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openaudit.hub.links import LinkReader
from tests.fakehub import ACCEPTED_TOKEN, FakeHub
from tests.helpers import audit_json, by_id, run_cli


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.redirect_to = redirect_to
        super().__init__((host, 0), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_GET(self) -> None:
        self.server.seen.append((self.path, bool(self.headers.get("Authorization"))))
        if self.server.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"Secret licence text"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(server: _Recorder) -> Iterator[_Recorder]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def other_host() -> Iterator[_Recorder]:
    """A server on 127.0.0.2: a host that is neither the endpoint nor named."""
    try:
        server = _Recorder("127.0.0.2")
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    yield from _serve(server)


@pytest.fixture
def bouncer(other_host: _Recorder) -> Iterator[_Recorder]:
    """A server on the endpoint's host (127.0.0.1) that redirects every request to 127.0.0.2."""
    yield from _serve(_Recorder("127.0.0.1", redirect_to=other_host.url))


def _reader(
    endpoint: str, hosts: frozenset[str] | None, monkeypatch: pytest.MonkeyPatch
) -> LinkReader:
    monkeypatch.delenv("OPENAUDIT_LINK_HOSTS", raising=False)
    return LinkReader(None, endpoint=endpoint, timeout=2, offline=False, hosts=hosts)


@pytest.mark.parametrize("hosts", [None, frozenset({"127.0.0.1"})])
def test_no_forbidden_request_reaches_another_host(
    other_host: _Recorder,
    bouncer: _Recorder,
    monkeypatch: pytest.MonkeyPatch,
    hosts: frozenset[str] | None,
) -> None:
    reader = _reader("http://127.0.0.1:9", hosts, monkeypatch)
    port = other_host.server_address[1]
    forbidden = [
        f"http://127.0.0.2:{port}/LICENSE",  # http to a host that is not the endpoint
        f"https://127.0.0.2:{port}/LICENSE",  # loopback, not named
        f"https://localhost:{port}/LICENSE",  # a name that resolves to loopback
        "https://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "https://10.0.0.1/LICENSE",  # private
        "https://[::1]/LICENSE",
        "ftp://127.0.0.2/LICENSE",
        f"{bouncer.url}/LICENSE",  # the endpoint's host, redirecting to 127.0.0.2
    ]
    for url in forbidden:
        result = reader.read(url)
        assert getattr(result, "reason", None) == "not-fetched", (url, result)
    reader.close()
    assert other_host.seen == []
    assert bouncer.seen == [("/LICENSE", False)]  # the first hop was allowed, the second not


def test_dns_answers_are_checked_not_the_name(
    other_host: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public-looking name whose DNS answer is a loopback address (rebinding) is refused."""
    real = socket.getaddrinfo
    port = other_host.server_address[1]

    def rebinding(host: str, *args: Any, **kw: Any) -> Any:
        if host == "licence.example.org":
            return real("127.0.0.2", *args, **kw)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    reader = _reader("http://127.0.0.1:9", None, monkeypatch)
    result = reader.read(f"https://licence.example.org:{port}/LICENSE")
    assert getattr(result, "reason", None) == "not-fetched"
    assert "non-public" in getattr(result, "detail", "")
    assert other_host.seen == []


def test_the_endpoint_host_is_read_over_http(
    fixture_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = _reader(fixture_hub.url, None, monkeypatch)
    result = reader.read(f"{fixture_hub.url}/acme/tiny-apache-encoder/resolve/main/LICENSE")
    assert "Apache" in getattr(result, "text", "")


def test_the_token_never_reaches_another_host_nor_an_output(
    fixture_hub: FakeHub, other_host: _Recorder, bouncer: _Recorder, tmp_path: Path
) -> None:
    fixture_hub.add_repo(
        {
            "id": "fence-org/linked",
            "cardData": {"license": "other", "license_link": f"{bouncer.url}/TERMS"},
            "siblings": [{"rfilename": "README.md"}],
        },
        {"README.md": f"---\nlicense: other\n---\nSee the [licence]({other_host.url}/LICENSE).\n"},
    )
    # A server that reflects the token in its error message.
    fixture_hub.fail(
        "/api/models/fence-org/echo",
        status=403,
        times=None,
        headers={"X-Error-Message": f"token {ACCEPTED_TOKEN} is not allowed"},
        body=f'{{"error": "token {ACCEPTED_TOKEN} is not allowed"}}'.encode(),
    )
    for fmt in ("json", "table", "markdown"):
        run = run_cli(
            "audit",
            "fence-org/linked",
            "fence-org/echo",
            "--format",
            fmt,
            "--endpoint",
            fixture_hub.url,
            "--cache-dir",
            str(tmp_path),
            env={"HF_TOKEN": ACCEPTED_TOKEN, "OPENAUDIT_LINK_HOSTS": None},  # any host
        )
        assert ACCEPTED_TOKEN not in run.stdout + run.stderr, fmt
    assert ACCEPTED_TOKEN.encode() not in (tmp_path / "evidence.sqlite3").read_bytes()
    assert other_host.seen == []
    assert all(not authorized for _, authorized in bouncer.seen)
    models = by_id(audit_json(fixture_hub.url, tmp_path, "fence-org/linked", extra=()).json())
    assert models["fence-org/linked"]["audited"]


def test_a_local_folder_keeps_symlinks_in(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("MIT License\n\nPermission is hereby granted, free of charge (SECRET)\n")
    model = tmp_path / "org" / "model"
    model.mkdir(parents=True)
    (model / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    (model / "LICENSE").symlink_to(outside)
    run = run_cli("audit", "--path", str(model), "--format", "json", "--offline", "--no-cache")
    assert "SECRET" not in run.stdout
    errors = run.json()["models"][0]["errors"]
    assert any(e["reason"] == "not-fetched" and e["subject"].endswith("LICENSE") for e in errors)
