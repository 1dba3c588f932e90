"""A flaky Hub heals: a batch of 50+ models under 35 % and 60 % random transient faults.

Every request of the run (metadata, files, bases, datasets) may get a 5xx, a 429, a reset,
a truncated or a malformed body (`ReplayHub.chaos`). The retry policy runs with its real
shape but millisecond waits (`OPENAUDIT_RETRY` in conftest). Nothing may go missing, no
verdict may differ from the fault-free run unless the model says it is incomplete, and the
batch ends within its deadline.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from openaudit.hub.retry import UNFINISHED, RetryPolicy
from tests.fakehub import FakeHub
from tests.helpers import audit_json, by_id

#: Copies of fixture models under new ids, so that the batch has more than 50 models.
COPY_ORG = "copy-org"
DEADLINE = 120.0


def _batch(hub: FakeHub) -> list[str]:
    originals = [i for i in hub.repo_ids("model") if not i.startswith(COPY_ORG)]
    for repo_id in originals[:15]:
        repo = hub._repo("model", repo_id)
        files = {name: data for name in repo.files if (data := repo.read(name)) is not None}
        name = repo_id.split("/")[1]
        hub.add_repo({**repo.api, "id": f"{COPY_ORG}/{name}"}, files)
    return [*originals, *(f"{COPY_ORG}/{i.split('/')[1]}" for i in originals[:15])]


def _summary(model: dict[str, Any]) -> tuple[Any, ...]:
    dims = ("licence", "commercial_use", "weights", "training_data", "code", "documentation")
    return (
        model["audited"],
        model["revision"],
        tuple(model[d]["status"] for d in dims),
        tuple(model["licence"].get("ids") or ()),
        model["osaid"]["status"] if isinstance(model.get("osaid"), dict) else model.get("osaid"),
    )


def _incomplete(model: dict[str, Any]) -> bool:
    """Left incomplete by a passing failure (a disabled repo is a final answer, not this)."""
    return any(e["reason"] in UNFINISHED for e in model["errors"])


#: More open first: a faulty run may be as cautious as the clean one, or more, never less.
_OPENNESS = {
    "open": 0,
    "allowed": 0,
    "conformant": 0,
    "partial": 1,
    "conditional": 1,
    "gated": 1,
    "restricted": 2,
    "closed": 2,
    "absent": 2,
    "prohibited": 2,
    "not-conformant": 2,
    "unknown": 3,
    "insufficient-information": 3,
}


def _never_more_open(faulty: tuple[Any, ...], clean: tuple[Any, ...]) -> bool:
    return all(
        f == c or _OPENNESS.get(f, 3) >= _OPENNESS.get(c, 3)
        for f, c in zip(faulty[2], clean[2], strict=True)
    )


@pytest.mark.parametrize(("rate", "min_complete"), [(0.35, 0.95), (0.60, 0.0)])
def test_a_flaky_hub_loses_nothing_and_changes_no_verdict(
    fixture_hub: FakeHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rate: float,
    min_complete: float,
) -> None:
    # The default policy's attempts, with millisecond waits; one job keeps the faults' order,
    # and so the run, repeatable for a given seed.
    monkeypatch.setenv("OPENAUDIT_RETRY", f"{RetryPolicy().attempts},0.005,0.02,0.02")
    ids = _batch(fixture_hub)
    assert len(ids) >= 50
    clean = audit_json(fixture_hub.url, tmp_path / "clean", *ids, extra=("--jobs", "8", "-q"))
    baseline = by_id(clean.json())
    assert all(not _incomplete(m) for m in baseline.values())

    fixture_hub.chaos(rate, seed=int(rate * 100))
    start = time.monotonic()
    run = audit_json(
        fixture_hub.url,
        tmp_path / "faulty",
        *ids,
        extra=("--jobs", "1", "-q", "--deadline", str(DEADLINE)),
    )
    elapsed = time.monotonic() - start
    faults = fixture_hub.chaos_faults
    fixture_hub.chaos(0)
    models = by_id(run.json())

    assert list(models) == list(baseline)  # nothing lost, order kept
    incomplete = [i for i, m in models.items() if _incomplete(m)]
    complete = [i for i in models if i not in incomplete]
    print(
        f"\n{rate:.0%} faults: {faults} injected over {len(ids)} models; "
        f"{len(complete)} complete, {len(incomplete)} incomplete; {elapsed:.1f} s"
    )
    assert faults > 0
    assert len(complete) >= min_complete * len(ids)
    for i in complete:  # nothing wrong
        assert _summary(models[i]) == _summary(baseline[i]), i
    for i in incomplete:  # incomplete, and said so: never more open than the clean run
        assert _never_more_open(_summary(models[i]), _summary(baseline[i])), i
    assert run.code == (3 if incomplete else clean.code)
    assert elapsed < DEADLINE
