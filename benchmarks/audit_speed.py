"""How much the evidence store saves: audit the same models cold, warm, pinned and offline.

Run from a checkout: `.venv/bin/python benchmarks/audit_speed.py [--corpus DIR] [--repeat N]`.
The baseline is the cold audit (empty store: every snapshot fetched from the loopback fake Hub),
measured in the same run; the other modes print their time and their speed-up against it.
Numbers are wall-clock on this machine; the ratios are what to compare across changes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("OPENAUDIT_LINK_HOSTS", "127.0.0.1,localhost")  # never leave the machine

from openaudit.model import ModelRef  # noqa: E402
from openaudit.pipeline import AuditOptions, audit  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402


def timed(refs: list[ModelRef], options: AuditOptions) -> float:
    start = time.perf_counter()
    scorecard = audit(refs, options)
    elapsed = time.perf_counter() - start
    assert len(scorecard.models) == len(refs)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default_corpus = ROOT.parent / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=default_corpus if default_corpus.is_dir() else ROOT / "tests/fixtures/hub")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with FakeHub(args.corpus) as hub:
        ids = hub.repo_ids("model")
        results: dict[str, list[float]] = {"cold": [], "warm (main)": [], "pinned": [], "offline": []}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                opts = AuditOptions(endpoint=hub.url, cache_dir=Path(tmp))
                hub.reset()
                results["cold"].append(timed([ModelRef(i) for i in ids], opts))
                cold_requests = hub.count()
                # Resolve each model's commit once, as a pinned lockfile would.
                scorecard = audit([ModelRef(i) for i in ids], opts)
                pinned = [ModelRef(v.id, revision=v.revision) if v.revision else ModelRef(v.id) for v in scorecard.models]
                hub.reset()
                results["warm (main)"].append(timed([ModelRef(i) for i in ids], opts))
                warm_requests = hub.count()
                hub.reset()
                results["pinned"].append(timed(pinned, opts))
                pinned_requests = hub.count()
                results["offline"].append(timed([ModelRef(i) for i in ids], AuditOptions(cache_dir=Path(tmp), offline=True)))
    base = statistics.median(results["cold"])
    print(f"{len(ids)} models from {args.corpus}, median of {args.repeat} runs")
    print(f"{'mode':14} {'seconds':>8} {'per model':>10} {'speed-up':>9} requests")
    requests = {"cold": cold_requests, "warm (main)": warm_requests, "pinned": pinned_requests, "offline": 0}
    for mode, times in results.items():
        t = statistics.median(times)
        print(f"{mode:14} {t:8.3f} {t / len(ids) * 1000:8.1f}ms {base / t:8.1f}x {requests[mode]}")


if __name__ == "__main__":
    main()
