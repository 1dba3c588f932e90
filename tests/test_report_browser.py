"""The HTML site in a real browser: headless Chromium driven by selenium, from file://.

Skips only when Chromium is not installed outside CI; in CI (`CI=true`, which `.ci/run`
sets after installing Debian's chromium and chromium-driver) a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakehub import FakeHub
from tests.report_helpers import make_report

#: Where to keep a copy of the index screenshot for people to look at (none unless set).
SCREENSHOT = os.environ.get("OPENAUDIT_SCREENSHOT")


def _binaries() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return (chromium, driver) if Path(chromium).exists() and Path(driver).exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    found = _binaries()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium/chromedriver are missing: .ci/run installs them")
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="openaudit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(found[1]))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _fixture_hub_server: FakeHub) -> Path:
    _fixture_hub_server.reset()
    out, code, stderr = make_report(_fixture_hub_server.url, tmp_path_factory.mktemp("s"), "--html")
    assert code == 3, stderr
    return out / "html"


def _rows(driver: object) -> list[object]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#board tbody tr")  # type: ignore[attr-defined]
    return [r for r in rows if r.is_displayed()]


def _console_errors(driver: object) -> list[dict[str, object]]:
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    return [e for e in logs if e.get("level") in ("SEVERE", "ERROR")]


def test_leaderboard_filters_and_sorts(browser: object, site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.get((site / "index.html").as_uri())  # type: ignore[attr-defined]
    all_rows = _rows(d)
    assert len(all_rows) == 9
    # The script ran under the strict CSP: it wrote the count.
    assert d.find_element(By.ID, "count").text == "9 of 9 models shown"  # type: ignore[attr-defined]
    tmp_shot = tmp_path / "report-index.png"
    assert d.save_screenshot(str(tmp_shot))  # type: ignore[attr-defined]
    # A copy for people to look at (docs/images/report-index.png is one, OPENAUDIT_SCREENSHOT=...).
    if SCREENSHOT:
        shutil.copyfile(tmp_shot, SCREENSHOT)

    box = d.find_element(By.ID, "q")  # type: ignore[attr-defined]
    box.send_keys("llama")
    shown = _rows(d)
    assert 0 < len(shown) < len(all_rows)
    assert all("llama" in r.text.lower() for r in shown)
    box.clear()
    box.send_keys(" ")  # clear() fires no input event
    box.clear()

    licence = Select(d.find_element(By.CSS_SELECTOR, "select.status-filter[data-col='3']"))  # type: ignore[attr-defined]
    licence.select_by_value("open")
    shown = _rows(d)
    assert shown and len(shown) < len(all_rows)
    assert all(r.find_elements(By.TAG_NAME, "td")[3].text == "open" for r in shown)
    licence.select_by_value("")

    header = d.find_elements(By.CSS_SELECTOR, "#board thead th button")[1]  # type: ignore[attr-defined]
    header.click()
    ids = [r.find_elements(By.TAG_NAME, "td")[1].text for r in _rows(d)]
    assert ids == sorted(ids, key=lambda s: s.lower()) or ids == sorted(ids)
    header.click()
    again = [r.find_elements(By.TAG_NAME, "td")[1].text for r in _rows(d)]
    assert again == list(reversed(ids))
    assert not _console_errors(d)


def test_hostile_card_shows_as_text(browser: object, site: Path) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    page = next(site.glob("evil_org_b/*.html"))
    d.get(page.as_uri())  # type: ignore[attr-defined]
    body = d.find_element(By.TAG_NAME, "body")  # type: ignore[attr-defined]
    assert "<script>alert('card')</script>" in body.text
    assert "<img src=x onerror=alert(1)>" in body.text
    assert not d.find_elements(By.CSS_SELECTOR, "script, iframe, svg")  # type: ignore[attr-defined]
    for img in d.find_elements(By.TAG_NAME, "img"):  # type: ignore[attr-defined]
        assert img.get_attribute("onerror") is None
        assert img.get_attribute("src").startswith("file://")
    for a in d.find_elements(By.TAG_NAME, "a"):  # type: ignore[attr-defined]
        assert a.get_attribute("href").startswith(("file://", "http://", "https://"))
    # No alert was opened by the card, and the page loaded without console errors.
    assert not _console_errors(d)
    d.get((site / "acme/llama-3.1-acme-chat.html").as_uri())  # type: ignore[attr-defined]
    images = d.find_elements(By.CSS_SELECTOR, ".badges img")  # type: ignore[attr-defined]
    assert images and all(
        d.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images
    )  # type: ignore[attr-defined]
    assert not _console_errors(d)
