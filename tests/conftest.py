"""Shared test set-up: a hermetic environment for ``huggingface_hub`` and the fake Hub fixtures.

The environment is fixed here, at module top, because ``huggingface_hub`` reads most of its
settings once, when it is first imported (see shared/HUB_PROTOCOL.md section 1).
"""

from __future__ import annotations

import os
import tempfile

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# Licence links in cards point to the real web: the tests may only read loopback ones.
os.environ["OPENAUDIT_LINK_HOSTS"] = "127.0.0.1,localhost"
# The retry policy's shape with millisecond waits: faults cost the suite almost nothing.
os.environ["OPENAUDIT_RETRY"] = "4,0.01,0.05,0.05"
for _var in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_OIDC_RESOURCE",
    "HF_ENDPOINT",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
    "HF_HUB_OFFLINE",
):
    os.environ.pop(_var, None)
# A test that forgets --endpoint must not reach the real Hub: point the default at a closed
# loopback port (port 9, discard), so it fails fast and on this machine.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
_HF_HOME = tempfile.mkdtemp(prefix="openaudit-hf-home-")
os.environ["HF_HOME"] = _HF_HOME
os.environ.pop("HF_HUB_CACHE", None)
# openaudit's own cache (the store's default folder, the schema-check memo) stays in the run too.
os.environ["OPENAUDIT_CACHE_DIR"] = os.path.join(_HF_HOME, "openaudit")
os.environ.pop("HF_TOKEN_PATH", None)

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from openaudit.model import Scorecard  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_HUB_DIR = TESTS_DIR / "fixtures" / "hub"
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HF_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder (corpus, licence texts, labels); skips when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared folder not present: {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def _fixture_hub_server() -> Iterator[FakeHub]:
    with FakeHub(FIXTURE_HUB_DIR) as hub:
        yield hub


@pytest.fixture
def fixture_hub(_fixture_hub_server: FakeHub) -> Iterator[FakeHub]:
    """The fake Hub over tests/fixtures/hub: one server per session, state reset per test."""
    _fixture_hub_server.reset()
    yield _fixture_hub_server
    _fixture_hub_server.reset()


@pytest.fixture(scope="session")
def _corpus_hub_server(shared_dir: Path) -> Iterator[FakeHub]:
    corpus = shared_dir / "corpus"
    if not (corpus / "models").is_dir():
        pytest.skip(f"corpus not present: {corpus}")
    with FakeHub(corpus) as hub:
        yield hub


@pytest.fixture
def corpus_hub(_corpus_hub_server: FakeHub) -> Iterator[FakeHub]:
    """The fake Hub over ../shared/corpus (skips when absent), state reset per test."""
    _corpus_hub_server.reset()
    yield _corpus_hub_server
    _corpus_hub_server.reset()


@pytest.fixture(scope="session")
def fixture_scorecard(
    _fixture_hub_server: FakeHub, tmp_path_factory: pytest.TempPathFactory
) -> Scorecard:
    """One audit of every fixture model (and the deleted base), shared by the judgement tests.

    The judgement is deterministic, so one audit serves every assertion on it; each test file
    that needs the CLI's own output runs the CLI itself.
    """
    from openaudit.model import ModelRef
    from openaudit.pipeline import AuditOptions, audit

    _fixture_hub_server.reset()
    ids = [*_fixture_hub_server.repo_ids("model"), "acme/retired-base-7b"]
    options = AuditOptions(
        endpoint=_fixture_hub_server.url, cache_dir=tmp_path_factory.mktemp("store")
    )
    try:
        return audit([ModelRef(i) for i in ids], options)
    finally:
        _fixture_hub_server.reset()
