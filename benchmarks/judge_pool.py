"""Does judging on a process pool pay on this machine? Serial vs a pool, the same bundles.

`.venv/bin/python benchmarks/judge_pool.py [MODELS] [PROCESSES]`: bundles of the synthetic
corpus of `batch.py` are read from a store, then judged in this process and on a pool
(verdicts come back pickled, facts included). Prints ms/model for both and the machine load.
"""

import os
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import batch as B  # noqa: E402

from openaudit.hub.store import Store  # noqa: E402
from openaudit.model import ModelRef, RepoFile, Snapshot  # noqa: E402
from openaudit.pipeline import AuditOptions, Run, _verdict  # noqa: E402

_state: dict = {}


def init():
    from openaudit.kb import load_kb
    from openaudit.kb.memo import IdentifyMemo
    from openaudit.rules.engine import Judge
    from openaudit.rules.loader import load_rules

    kb = load_kb()
    _state["kb"] = kb
    _state["judge"] = Judge(load_rules(()))
    _state["id"] = IdentifyMemo(kb)


def work(b):
    return _verdict(b, _state["kb"], _state["judge"], _state["id"])


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    procs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 2
    repos, ids = B.synthetic_hub(n, 7)
    tmp = tempfile.mkdtemp()
    store = Store(Path(tmp))
    for repo in repos:
        ref = ModelRef(repo.api["id"], kind=repo.kind)
        files = tuple(
            RepoFile(path=n, size=len(t), text=t, sha256="0" * 64) for n, t in repo.files.items()
        )
        store.put(
            Snapshot(
                ref=ref,
                commit=repo.api["sha"],
                info=repo.api,
                files=files,
                origin="hub",
                endpoint="x",
            )
        )
    store.close()
    with Run(AuditOptions(cache_dir=Path(tmp), offline=True, workers=1)) as run:
        bundles = list(run.bundles([ModelRef(i) for i in ids]))
    init()
    for b in bundles[:20]:
        work(b)
    t = time.perf_counter()
    [work(b) for b in bundles]
    serial = time.perf_counter() - t
    t = time.perf_counter()
    sz = sum(len(pickle.dumps(b)) for b in bundles)
    pk = time.perf_counter() - t
    with ProcessPoolExecutor(procs, initializer=init) as pool:
        list(pool.map(work, bundles[:40], chunksize=4))
        t = time.perf_counter()
        out = list(pool.map(work, bundles, chunksize=8))
        par = time.perf_counter() - t
    print(
        f"{len(bundles)} bundles: serial {serial * 1000 / len(bundles):.1f} ms/model; {procs} processes {par * 1000 / len(bundles):.1f} ms/model ({serial / par:.2f}x); pickling bundles {pk * 1000 / len(bundles):.2f} ms/model, {sz / len(bundles) / 1024:.0f} KB/model; load {os.getloadavg()[0]:.1f}"
    )
