"""SIGINT and SIGTERM mid-batch: scheduling stops, the report is finished and valid (every
model in it, each unfinished one marked), and the exit code is 130 / 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakehub import FakeHub
from tests.helpers import validate_report


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_batch_leaves_a_valid_partial_report(
    fixture_hub: FakeHub, tmp_path: Path, signum: int, code: int
) -> None:
    ids = fixture_hub.repo_ids("model")
    # Every file answer is slow, so the batch is surely mid-way when the signal comes.
    fixture_hub.fail("/", latency=0.3, times=None, method="GET")
    out = tmp_path / "report.json"
    env = dict(os.environ)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openaudit",
            "audit",
            *ids,
            "--format",
            "json",
            "-o",
            str(out),
            "--endpoint",
            fixture_hub.url,
            "--cache-dir",
            str(tmp_path / "store"),
            "--jobs",
            "2",
            "-q",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while fixture_hub.count("/api/models/") < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.monotonic()
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    stopped_in = time.monotonic() - start
    fixture_hub.clear_faults()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    doc = json.loads(out.read_text())
    validate_report(doc)
    models = doc["models"]
    assert [m["id"] for m in models] == ids  # nothing dropped
    unfinished = [m for m in models if any(e["reason"] == "interrupted" for e in m["errors"])]
    finished = [m for m in models if m["audited"]]
    assert unfinished and finished
    assert all(not m["audited"] for m in unfinished)
    assert stopped_in < 10
