"""How fast the pre-merge check is on a large codebase, beside a plain grep of the same tree.

Run from a checkout: `.venv/bin/python benchmarks/check_speed.py [--files 2000] [--refs 200]`.

It generates a codebase (FILES Python files, REFS model references in ten call styles spread
over them, the rest ordinary code, some of it importing transformers without loading a model),
serves the fixture models through the loopback fake Hub, runs `openaudit lock` once (which
fills the evidence store and pins every model), then times, in the same run:

- `grep -rn from_pretrained TREE` (the baseline: what a shell one-liner costs),
- `openaudit check TREE` as a user runs it (a new process: start-up, scan, audit of the pinned
  commits from the warm store, drift check of each locked model's main against the Hub, policy),
- the same with `--offline` (no request at all),
- `run_check` in-process (without interpreter start-up).

The target is `openaudit check` under 1 s of wall time with a warm store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("OPENAUDIT_LINK_HOSTS", "127.0.0.1,localhost")  # never leave the machine

from tests.fakehub import FakeHub  # noqa: E402

STYLES = (
    'm = AutoModel.from_pretrained("{id}")',
    'p = pipeline("text-generation", model="{id}")',
    "tok = AutoTokenizer.from_pretrained(MODEL_{n})",
    'f = hf_hub_download(repo_id="{id}", filename="config.json")',
    'd = snapshot_download("{id}")',
    'e = SentenceTransformer("{id}")',
    'c = CrossEncoder("{id}")',
    'v = timm.create_model("hf-hub:{id}")',
    'llm = LLM(model="{id}")',
    'i = HfApi().model_info("{id}")',
)
HEADER = (
    "import timm\nfrom huggingface_hub import HfApi, hf_hub_download, snapshot_download\n"
    "from sentence_transformers import CrossEncoder, SentenceTransformer\n"
    "from transformers import AutoModel, AutoTokenizer, pipeline\nfrom vllm import LLM\n"
)
FILLER = '''

def step_{n}(batch, scale=2):
    """Ordinary code: the check must read past it quickly."""
    total = 0
    for item in batch:
        total += item * scale
    return {{"step": {n}, "total": total, "label": "pipeline stage {n}"}}
'''


def generate(tree: Path, files: int, refs: int, ids: list[str]) -> None:
    every = max(1, files // refs)
    placed = 0
    for n in range(files):
        folder = tree / f"pkg{n % 40:02d}" / f"sub{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        body = FILLER.format(n=n) * 3
        if n % every == 0 and placed < refs:
            model = ids[placed % len(ids)]
            style = STYLES[placed % len(STYLES)]
            body = f'{HEADER}\nMODEL_{n} = "{model}"\n' + style.format(id=model, n=n) + "\n" + body
            placed += 1
        elif n % 10 == 1:
            body = "from transformers import pipeline  # imported, never called\n" + body
        (folder / f"module_{n}.py").write_text(body)
    assert placed == refs, (placed, refs)


def timed(cmd: list[str], env: dict[str, str], repeat: int, cwd: Path) -> tuple[float, int, float]:
    """Median wall seconds, the exit code, and the median CPU seconds (user + system) of the
    process: on a shared machine wall time waits for the CPU, CPU time does not."""
    import resource

    times, cpu = [], []
    code = 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code = proc.returncode
    return statistics.median(times), code, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--refs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    openaudit = str(Path(sys.executable).parent / "openaudit")
    with FakeHub(ROOT / "tests/fixtures/hub") as hub, tempfile.TemporaryDirectory() as tmp:
        ids = [i for i in hub.repo_ids("model") if i != "acme/disabled-model"]
        tree = Path(tmp) / "code"
        generate(tree, args.files, args.refs, ids)
        (tree / ".git").mkdir()
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.url,
            "OPENAUDIT_CACHE_DIR": str(Path(tmp) / "store"),
        }
        locked = subprocess.run(
            [openaudit, "lock", "."], env=env, cwd=tree, capture_output=True, text=True
        )
        print(f"lock: exit {locked.returncode}: {locked.stderr.strip().splitlines()[0]}")
        subprocess.run([openaudit, "check", "."], env=env, cwd=tree, capture_output=True)  # warm
        grep_s, _, _ = timed(["grep", "-rn", "from_pretrained", "."], env, args.repeat, tree)
        hub.reset()
        check_s, code, check_cpu = timed([openaudit, "check", "."], env, args.repeat, tree)
        requests = hub.count() // args.repeat
        offline_s, _, offline_cpu = timed(
            [openaudit, "check", "--offline", "."], env, args.repeat, tree
        )

        from openaudit.check import CheckOptions, run_check
        from openaudit.pipeline import AuditOptions

        os.chdir(tree)
        options = CheckOptions(
            paths=(Path("."),),
            audit=AuditOptions(endpoint=hub.url, cache_dir=Path(tmp) / "store"),
        )
        inproc = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = run_check(options)
            inproc.append(time.perf_counter() - start)
        os.chdir(ROOT)
    print(
        f"codebase: {args.files} files, {len(result.refs)} references, {len(result.models)} models; "
        f"check exit {code}, {len(result.violations)} violations; median of {args.repeat}"
    )
    print(f"  grep -rn from_pretrained        {grep_s:7.3f} s   (baseline)")
    print(
        f"  openaudit check (warm store)    {check_s:7.3f} s   {check_s / grep_s:6.1f}x grep, "
        f"CPU {check_cpu:.3f} s, {requests} Hub requests (drift check of locked models' main)"
    )
    print(
        f"  openaudit check --offline       {offline_s:7.3f} s   {offline_s / grep_s:6.1f}x grep, "
        f"CPU {offline_cpu:.3f} s, 0 requests"
    )
    print(f"  run_check in-process            {statistics.median(inproc):7.3f} s")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  target: check within 1 s wall: {'met' if check_s <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
