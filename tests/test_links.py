"""Licence texts behind links: bounded reads, kept with their hash, changes reported, offline copy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from openaudit.hub.links import MAX_LINK_BYTES, LinkReader, licence_links, raw_url
from openaudit.hub.store import Store
from openaudit.model import LinkedText, ModelRef, Problem, RepoFile, Snapshot


class _Pages:
    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.hits = 0


@pytest.fixture
def web() -> Iterator[tuple[str, _Pages]]:
    pages = _Pages()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            pages.hits += 1
            body = pages.pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def reader(store: Store | None, offline: bool = False) -> LinkReader:
    return LinkReader(store, endpoint="http://127.0.0.1:9", timeout=5, offline=offline)


def test_text_is_read_stored_and_a_change_is_reported(web: tuple[str, _Pages], tmp_path: Path) -> None:
    base, pages = web
    url = f"{base}/terms"
    pages.pages["/terms"] = b"Terms version one."
    store = Store(tmp_path)
    first = reader(store).read(url)
    assert isinstance(first, LinkedText)
    assert first.text == "Terms version one." and first.previous_sha256 is None
    again = reader(store).read(url)
    assert isinstance(again, LinkedText) and again.previous_sha256 is None  # unchanged
    pages.pages["/terms"] = b"Terms version two: no commercial use."
    changed = reader(store).read(url)
    assert isinstance(changed, LinkedText)
    assert changed.previous_sha256 == first.sha256 and changed.sha256 != first.sha256
    assert store.get_text(url) is not None and store.get_text(url).text.endswith("no commercial use.")  # type: ignore[union-attr]


def test_offline_uses_the_stored_copy_and_lists_unread_links(web: tuple[str, _Pages], tmp_path: Path) -> None:
    base, pages = web
    pages.pages["/licence"] = b"Some licence."
    store = Store(tmp_path)
    reader(store).read(f"{base}/licence")
    pages.hits = 0
    found, problems = reader(store, offline=True).read_all([f"{base}/licence", f"{base}/never-read"])
    assert pages.hits == 0
    assert found[f"{base}/licence"].origin == "store"
    assert [(p.subject, p.reason) for p in problems] == [(f"{base}/never-read", "offline-missing")]


def test_unreachable_and_missing_pages_are_problems(web: tuple[str, _Pages], tmp_path: Path) -> None:
    base, pages = web
    missing = reader(Store(tmp_path)).read(f"{base}/gone")
    assert isinstance(missing, Problem) and missing.reason == "not-found"
    pages.pages["/big"] = b"x" * (MAX_LINK_BYTES + 10)
    big = reader(None).read(f"{base}/big")
    assert isinstance(big, Problem) and big.reason == "too-large"
    closed = reader(None).read("http://127.0.0.1:9/nothing-listens-here")
    assert isinstance(closed, Problem) and closed.reason == "network"


def test_host_allowlist_keeps_requests_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAUDIT_LINK_HOSTS", "127.0.0.1")
    result = reader(None).read("https://example.com/licence")
    assert isinstance(result, Problem) and result.reason == "not-fetched"


def test_links_come_from_license_link_and_licence_links_in_the_card() -> None:
    readme = (
        "---\nlicense: other\n---\n# M\nSee the [licence](https://example.org/LICENSE.txt), "
        "the [acceptable use policy](https://example.org/aup), and [our blog](https://example.org/blog).\n"
    )
    snap = Snapshot(
        ref=ModelRef("me/m"),
        commit="a" * 40,
        info={"id": "me/m", "cardData": {"license": "other", "license_link": "https://example.org/terms"}},
        files=(RepoFile("README.md", text=readme),),
    )
    assert licence_links(snap) == [
        "https://example.org/terms",
        "https://example.org/LICENSE.txt",
        "https://example.org/aup",
    ]


def test_hub_page_links_are_read_raw_from_the_configured_endpoint() -> None:
    assert (
        raw_url("https://huggingface.co/acme/m/blob/main/LICENSE", "http://127.0.0.1:5")
        == "http://127.0.0.1:5/acme/m/resolve/main/LICENSE"
    )
    assert raw_url("https://example.org/x", "http://127.0.0.1:5") == "https://example.org/x"


def _linked_model(hub: object, url: str) -> None:
    readme = f"---\nlicense: other\nlicense_name: vendor-terms\nlicense_link: {url}\n---\n# Vendor model\n"
    hub.add_repo(  # type: ignore[attr-defined]
        {
            "id": "link-org/linked-licence",
            "gated": False,
            "tags": ["license:other"],
            "cardData": {"license": "other", "license_name": "vendor-terms", "license_link": url},
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
        },
        {"README.md": readme},
    )


def test_audit_identifies_the_licence_behind_the_link_and_reports_a_change(
    fixture_hub: object, web: tuple[str, _Pages], tmp_path: Path
) -> None:
    from tests.helpers import audit_json

    base, pages = web
    texts = Path(__file__).resolve().parents[1] / "licenses" / "texts"
    pages.pages["/terms"] = (texts / "cc-by-nc-4.0.txt").read_bytes()
    _linked_model(fixture_hub, f"{base}/terms")
    hub_url = fixture_hub.url  # type: ignore[attr-defined]
    first = audit_json(hub_url, tmp_path, "link-org/linked-licence").json()["models"][0]
    # The declared name the knowledge base lacks stays visible beside the text's licence.
    assert first["licence"]["ids"] == ["cc-by-nc-4.0", "LicenseRef-vendor-terms"]
    assert first["commercial_use"]["status"] == "prohibited"
    sources = {e["source"]: e for f in first["licence"]["findings"] for e in f["evidence"]}
    assert sources["url"]["locator"] == f"{base}/terms"
    rules = {f["rule"]: f for f in first["findings"]}
    assert "hygiene.linked-licence-unchanged" not in rules or rules["hygiene.linked-licence-unchanged"]["outcome"] != "fail"

    pages.pages["/terms"] = (texts / "apache-2.0.txt").read_bytes()
    second = audit_json(hub_url, tmp_path, "link-org/linked-licence").json()["models"][0]
    changed = {f["rule"]: f for f in second["findings"]}["hygiene.linked-licence-unchanged"]
    assert changed["outcome"] == "fail" and f"{base}/terms" in changed["message"]

    pages.hits = 0
    offline = audit_json(hub_url, tmp_path, "link-org/linked-licence", extra=("--offline",)).json()["models"][0]
    assert pages.hits == 0
    # the stored copy of the newest text
    assert offline["licence"]["ids"] == ["apache-2.0", "LicenseRef-vendor-terms"]


def test_unreachable_link_keeps_what_else_is_known(fixture_hub: object, tmp_path: Path) -> None:
    from tests.helpers import audit_json

    _linked_model(fixture_hub, "http://127.0.0.1:9/terms")
    model = audit_json(fixture_hub.url, tmp_path, "link-org/linked-licence").json()["models"][0]  # type: ignore[attr-defined]
    assert model["licence"]["status"] == "unknown"
    assert {"subject": "http://127.0.0.1:9/terms", "reason": "network"}.items() <= next(
        e for e in model["errors"] if e["subject"].startswith("http")
    ).items()
