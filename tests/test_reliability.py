"""Faults between the client and the Hub: every one becomes `unknown` with its reason, never a crash,
and never a model silently missing from a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakehub import FakeHub
from tests.helpers import audit_json, by_id

TARGET = "acme/nc-summarizer"
OTHER = "acme/tiny-apache-encoder"


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits between retries instead of sleeping them."""
    waits: list[float] = []
    # Only openaudit's own waits: the fake Hub's injected latency must still sleep for real.
    monkeypatch.setattr("openaudit.hub.retry.sleep", waits.append)
    return waits


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "45"}, 30.0),  # honoured up to the cap, not in full
        ({"RateLimit": '"api";r=0;t=12'}, 12.0),
    ],
)
def test_a_passing_rate_limit_waits_what_the_server_asks_up_to_a_cap(
    fixture_hub: FakeHub,
    tmp_path: Path,
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    wait: float,
) -> None:
    monkeypatch.setenv("OPENAUDIT_RETRY", "5,0.5,8")
    fixture_hub.fail(f"/api/models/{TARGET}", status=429, times=1, headers=headers)
    run = audit_json(fixture_hub.url, tmp_path, TARGET)
    assert run.code == 0
    assert run.json()["models"][0]["licence"]["status"] == "restricted"
    assert no_sleep[0] == wait
    # The pause is shared: other requests of the batch wait for it too, never longer.
    assert all(w <= wait for w in no_sleep)


def test_retries_are_bounded_with_jittered_backoff(
    fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAUDIT_RETRY", "5,0.5,8")
    fixture_hub.fail(f"/api/models/{TARGET}", status=503, times=None)
    run = audit_json(fixture_hub.url, tmp_path, TARGET)
    assert run.json()["models"][0]["errors"][0]["reason"] == "server-error"
    assert fixture_hub.count(f"/api/models/{TARGET}") == 5
    assert len(no_sleep) == 4
    # Full jitter: each wait is somewhere under its exponential ceiling.
    for attempt, slept in enumerate(no_sleep, start=1):
        assert 0 <= slept <= min(8.0, 0.5 * 2 ** (attempt - 1))


def test_errors_that_will_not_change_are_not_retried(
    fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float]
) -> None:
    fixture_hub.fail(f"/api/models/{TARGET}", status=403, times=None)
    audit_json(fixture_hub.url, tmp_path, TARGET)
    assert no_sleep == []
    assert fixture_hub.count(f"/api/models/{TARGET}") == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"status": 500}, "server-error"),
        ({"status": 503}, "server-error"),
        ({"status": 429, "headers": {"Retry-After": "0"}}, "rate-limited"),
        ({"status": 403}, "access-denied"),
        ({"malformed": True}, "bad-answer"),
        ({"reset": True}, "network"),
        ({"truncate": True}, "network"),
        ({"latency": 1.0}, "timeout"),
    ],
)
def test_metadata_faults(
    fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float], fault: dict[str, Any], reason: str
) -> None:
    fixture_hub.fail(f"/api/models/{TARGET}", times=None, **fault)
    run = audit_json(fixture_hub.url, tmp_path, TARGET, OTHER, extra=("--timeout", "0.3"))
    assert run.code == 3
    assert "Traceback" not in run.stderr
    models = by_id(run.json())
    assert list(models) == [TARGET, OTHER]  # nothing dropped, order kept
    broken = models[TARGET]
    assert [e["reason"] for e in broken["errors"]] == [reason]
    assert broken["revision"] is None
    for dim in ("licence", "commercial_use", "weights"):
        assert broken[dim]["status"] == "unknown"
    assert models[OTHER]["licence"]["status"] == "open"


def test_a_failed_file_is_listed_and_fetched_again_next_time(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture_hub.fail(f"/{OTHER}/resolve/", status=500, times=None, method="GET")
    first = by_id(audit_json(fixture_hub.url, tmp_path, OTHER).json())[OTHER]
    unread = {e["subject"]: e["reason"] for e in first["errors"]}
    assert unread.get(f"{OTHER}/LICENSE") in ("network", "server-error")
    # Without its LICENSE and README text, the declared licence still decides, with the gap named.
    assert first["licence"]["ids"] == ["apache-2.0"]
    fixture_hub.clear_faults()
    fixture_hub.reset()
    second = by_id(audit_json(fixture_hub.url, tmp_path, OTHER).json())[OTHER]
    assert second["errors"] == []
    assert (
        fixture_hub.count("/" + OTHER + "/resolve/") > 0
    )  # the transient gap was not frozen in the store


def test_related_repo_fault_is_named_on_the_model(
    fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float]
) -> None:
    fixture_hub.fail("/api/datasets/fixture-org/nc-dialogues", status=503, times=None)
    model = by_id(audit_json(fixture_hub.url, tmp_path, TARGET).json())[TARGET]
    assert {"subject": "dataset:fixture-org/nc-dialogues", "reason": "server-error"}.items() <= {
        k: v for k, v in model["errors"][0].items() if k != "detail"
    }.items()
    assert model["licence"]["status"] == "restricted"  # the model's own licence still decides


@pytest.mark.parametrize(
    "fault",
    [{"malformed": True}, {"truncate": True}, {"reset": True}, {"status": 502}],
)
@pytest.mark.parametrize("where", ["/api/models/", "/acme/nc-summarizer/resolve/"])
def test_a_passing_fault_heals_and_nothing_transient_is_stored(
    fixture_hub: FakeHub, tmp_path: Path, fault: dict[str, Any], where: str
) -> None:
    fixture_hub.fail(where, times=2, **fault)
    run = audit_json(fixture_hub.url, tmp_path, TARGET)
    assert run.code == 0
    model = run.json()["models"][0]
    assert model["errors"] == []
    assert model["licence"]["status"] == "restricted"
    # Offline, the store answers with the same complete snapshot: no fault was frozen in it.
    offline = audit_json(fixture_hub.url, tmp_path, TARGET, extra=("--offline",))
    assert offline.json()["models"][0]["errors"] == []


def test_an_unread_dataset_leaves_commercial_use_unknown(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    """apache-on-nc-data is trained on a non-commercial dataset: unread, it cannot look allowed."""
    model_id = "trap-org/apache-on-nc-data"
    fixture_hub.fail("/api/datasets/", status=503, times=None)
    run = audit_json(fixture_hub.url, tmp_path, model_id)
    assert run.code == 3  # incomplete, and said so
    model = run.json()["models"][0]
    assert model["commercial_use"]["status"] == "unknown"
    rules = [f["rule"] for f in model["commercial_use"]["findings"]]
    assert "lineage.dataset-unread" in rules


def test_an_unread_card_leaves_the_licence_unknown(fixture_hub: FakeHub, tmp_path: Path) -> None:
    """tiny-apache-encoder's metadata says apache-2.0; with its card and LICENSE unread, the
    audit may not call it open or allowed: they could say otherwise."""
    fixture_hub.fail(f"/{OTHER}/resolve/", status=503, times=None)
    run = audit_json(fixture_hub.url, tmp_path, OTHER)
    assert run.code == 3
    model = run.json()["models"][0]
    assert model["licence"]["status"] == "unknown"
    assert model["commercial_use"]["status"] == "unknown"
    rules = {f["rule"] for d in ("licence", "commercial_use") for f in model[d]["findings"]}
    assert {"licence-files-unread", "commercial-files-unread"} <= rules


def test_huggingface_hub_warnings_become_the_models_problem(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    fixture_hub.fail(
        f"/api/models/{TARGET}",
        latency=0.001,
        times=None,
        headers={"X-HF-Warning": "reliability-test; this model's metadata is deprecated"},
    )
    run = audit_json(fixture_hub.url, tmp_path, TARGET, OTHER)
    assert "deprecated" not in run.stderr  # not a loose stderr line
    models = by_id(run.json())
    warned = [e for e in models[TARGET]["errors"] if e["reason"] == "hub-warning"]
    assert [e["detail"] for e in warned] == ["this model's metadata is deprecated"]
    assert not [e for e in models[OTHER]["errors"] if e["reason"] == "hub-warning"]


def test_deadlines_bound_a_slow_hub_and_say_what_was_not_read(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    import time

    ids = fixture_hub.repo_ids("model")[:12]
    fixture_hub.fail("/", latency=0.4, times=None)  # every answer is slow
    start = time.monotonic()
    run = audit_json(
        fixture_hub.url,
        tmp_path,
        *ids,
        extra=("--deadline", "2", "--model-deadline", "1", "--timeout", "5", "--jobs", "4", "-q"),
    )
    elapsed = time.monotonic() - start
    assert run.code == 3
    models = by_id(run.json())
    assert list(models) == ids  # nothing lost
    reasons = {e["reason"] for m in models.values() for e in m["errors"]}
    assert "deadline" in reasons
    # The batch deadline, plus at most one request's own timeout in flight.
    assert elapsed < 2 + 5 + 2


def test_an_unanswered_request_is_cut_at_its_timeout(fixture_hub: FakeHub, tmp_path: Path) -> None:
    import time

    fixture_hub.fail(f"/api/models/{TARGET}", latency=3.0, times=None)
    start = time.monotonic()
    run = audit_json(fixture_hub.url, tmp_path, TARGET, extra=("--timeout", "0.5"))
    assert time.monotonic() - start < 10
    assert [e["reason"] for e in run.json()["models"][0]["errors"]] == ["timeout"]
