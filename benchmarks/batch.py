"""Batch audit speed: a synthetic Hub of realistic shape, 50 ms per request, every mode in one run.

Run from a checkout:

    .venv/bin/python benchmarks/batch.py                  # 1,000 models, writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/batch.py --models 200 --memory-models 2000   # a quick look

The Hub is the project's replay Hub (`openaudit.hub.replay.ReplayHub`, `TCP_NODELAY` on), run in
its own process so its threads do not share the audit's interpreter, answering every request after
a fixed latency (a fault rule with only `latency`). The synthetic corpus mixes what a census meets:
foundations with real licence texts (some gated, some behind a `license_link`), fine-tune chains,
LoRA adapters, GGUF quantisations, merges, and shared datasets. Every figure is measured in the same
run and printed with its ratio to the naive loop (what a user writes first: `model_info` then
`hf_hub_download("README.md")`, one model after another) and to the latency bound (requests x
latency / concurrency: what the network alone would cost at that concurrency).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ.pop("HF_TOKEN", None)
os.environ["OPENAUDIT_LINK_HOSTS"] = "127.0.0.1,localhost"  # never leave the machine

TEXTS = ROOT / "licenses" / "texts"
#: (licence id, reference text, gated, commercial) of the foundations' vendors.
VENDOR_LICENCES = (
    ("apache-2.0", "apache-2.0.txt", False),
    ("mit", "mit.txt", False),
    ("llama3.1", "llama3.1.txt", True),
    ("gemma", "gemma.txt", True),
    ("cc-by-nc-4.0", "cc-by-nc-4.0.txt", False),
    ("openrail", "bigscience-openrail-m.txt", False),
    ("cc-by-4.0", "cc-by-4.0.txt", False),
    ("bsd-3-clause", "bsd-3-clause.txt", False),
)
LATENCY = 0.05
SECTIONS = (
    "## Model details\n\nA {kind} for text generation, trained by {org}.\n",
    "## Intended uses & limitations\n\nResearch and production chat; not for medical advice.\n",
    "## Training data\n\nSee the datasets listed in the metadata.\n",
    "## Training procedure\n\nlearning_rate: 2e-5, epochs: 3, batch size 64.\n",
    "## Evaluation\n\n| task | score |\n|---|---|\n| mmlu | 61.2 |\n| gsm8k | 44.0 |\n",
    "## Bias, risks and limitations\n\nThe model can produce wrong or harmful text.\n",
)


# -------------------------------------------------------------------------- the synthetic Hub
@dataclass
class Repo:
    kind: str
    api: dict[str, Any]
    files: dict[str, str]


def _readme(card: dict[str, Any], title: str, kind: str, org: str, rng: random.Random) -> str:
    front = json.dumps(card, indent=None)  # JSON is YAML: one line of front matter per key below
    lines = [f"{k}: {json.dumps(v)}" for k, v in card.items()]
    body = "".join(s.format(kind=kind, org=org) for s in rng.sample(SECTIONS, k=rng.randint(2, 6)))
    del front
    return (
        "---\n"
        + "\n".join(lines)
        + f"\n---\n\n# {title}\n\n"
        + body
        + "\nlorem ipsum " * rng.randint(20, 200)
    )


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def synthetic_hub(n_models: int, seed: int = 7) -> tuple[list[Repo], list[str]]:
    """`n_models` models (and their datasets); returns the repos and the model ids to audit."""
    rng = random.Random(seed)
    repos: list[Repo] = []
    datasets = []
    for i in range(max(8, n_models // 25)):
        did = f"data-org-{i % 7}/corpus-{i}"
        lic = rng.choice(("cc-by-4.0", "apache-2.0", "cc-by-nc-4.0", "odc-by", "mit"))
        card = {"license": lic, "task_categories": ["text-generation"]}
        repos.append(
            Repo(
                "dataset",
                {
                    "id": did,
                    "sha": _sha(rng),
                    "cardData": card,
                    "tags": [f"license:{lic}"],
                    "siblings": [
                        {"rfilename": "README.md"},
                        {"rfilename": "data/train.parquet", "size": 10**8},
                    ],
                },
                {"README.md": _readme(card, did, "dataset", did.split("/")[0], rng)},
            )
        )
        datasets.append(did)
    models: list[str] = []
    foundations: list[str] = []
    n_found = max(8, n_models * 8 // 100)
    for i in range(n_found):
        lic, text_file, gated = VENDOR_LICENCES[i % len(VENDOR_LICENCES)]
        org = f"vendor-{i % 12}"
        mid = f"{org}/base-{i}"
        spdx_like = lic in ("apache-2.0", "mit", "cc-by-nc-4.0", "cc-by-4.0", "bsd-3-clause")
        card: dict[str, Any] = {
            "license": lic if spdx_like else "other",
            "library_name": "transformers",
            "pipeline_tag": "text-generation",
            "datasets": rng.sample(datasets, k=2),
        }
        if not spdx_like:
            card["license_name"] = lic
            card["license_link"] = "LICENSE"
        files = {
            "README.md": "",
            "LICENSE": (TEXTS / text_file).read_text(encoding="utf-8"),
            "config.json": json.dumps({"model_type": "llama", "hidden_size": 4096}),
        }
        if gated:
            files["USE_POLICY.md"] = (
                "# Acceptable use policy\n\nYou agree not to use the model to harm people.\n" * 5
            )
        files["README.md"] = _readme(card, mid, "foundation model", org, rng)
        sib = [{"rfilename": n, "size": len(t.encode())} for n, t in files.items()]
        sib += [
            {"rfilename": f"model-0000{k}-of-00004.safetensors", "size": 4 * 10**9}
            for k in range(1, 5)
        ]
        api = {
            "id": mid,
            "sha": _sha(rng),
            "cardData": card,
            "gated": "auto" if gated else False,
            "tags": [
                f"license:{card['license']}",
                "transformers",
                *(f"dataset:{d}" for d in card["datasets"]),
            ],
            "siblings": sib,
            "safetensors": {"parameters": {"BF16": 8 * 10**9}, "total": 8 * 10**9},
        }
        repos.append(Repo("model", api, files))
        foundations.append(mid)
        models.append(mid)
    derived: list[str] = []
    shape = (
        ("finetune",) * 45
        + ("adapter",) * 15
        + ("gguf",) * 15
        + ("merge",) * 7
        + ("gated",) * 10
        + ("link",) * 8
    )
    for i in range(n_models - n_found):
        what = shape[i % len(shape)]
        org = f"user-{rng.randrange(n_models // 4 + 1)}"
        mid = f"{org}/{what}-{i}"
        pool = foundations + derived[-50:]
        base: Any = rng.choice(pool if what == "finetune" else foundations)
        card = {
            "license": rng.choice(("apache-2.0", "mit", "other", "cc-by-nc-4.0")),
            "base_model": base,
        }
        files: dict[str, str] = {}
        sib: list[dict[str, Any]] = []
        api: dict[str, Any] = {"id": mid, "sha": _sha(rng), "gated": False}
        tags = [f"base_model:{base}"]
        if what == "finetune":
            card["datasets"] = rng.sample(datasets, k=rng.randint(1, 3))
            tags += [f"dataset:{d}" for d in card["datasets"]]
            files["config.json"] = json.dumps({"model_type": "llama"})
            sib.append({"rfilename": "model.safetensors", "size": 5 * 10**9})
        elif what == "adapter":
            files["adapter_config.json"] = json.dumps(
                {"base_model_name_or_path": base, "peft_type": "LORA", "r": 16}
            )
            sib.append({"rfilename": "adapter_model.safetensors", "size": 3 * 10**7})
            card["library_name"] = "peft"
        elif what == "gguf":
            api["gguf"] = {"total": 8 * 10**9, "architecture": "llama", "context_length": 8192}
            tags.append("gguf")
            sib += [
                {"rfilename": f"{mid.split('/')[1]}.Q{q}_K_M.gguf", "size": 4 * 10**9}
                for q in (4, 5, 8)
            ]
        elif what == "merge":
            card["base_model"] = rng.sample(foundations, k=min(3, len(foundations)))
            tags = [f"base_model:{b}" for b in card["base_model"]] + ["merge", "mergekit"]
            files["mergekit_config.yml"] = "merge_method: slerp\n"
            sib.append({"rfilename": "model.safetensors", "size": 5 * 10**9})
        elif what == "gated":
            api["gated"] = "manual"
            card["license"] = "other"
            card["license_name"] = "vendor-terms"
            files["LICENSE"] = (
                TEXTS / rng.choice(("llama3.1.txt", "gemma.txt", "cc-by-nc-4.0.txt"))
            ).read_text(encoding="utf-8")
            sib.append({"rfilename": "model.safetensors", "size": 5 * 10**9})
        elif what == "link":
            # A licence behind a link on another page of the Hub: shared by many cards.
            target = rng.choice(foundations[: min(len(foundations), 16)])
            card["license"] = "other"
            card["license_link"] = f"https://huggingface.co/{target}/blob/main/LICENSE"
            sib.append({"rfilename": "model.safetensors", "size": 5 * 10**9})
        files["README.md"] = _readme(card, mid, what, org, rng)
        sib = [{"rfilename": n, "size": len(t.encode())} for n, t in files.items()] + sib
        api.update(
            {"cardData": card, "tags": [f"license:{card['license']}", *tags], "siblings": sib}
        )
        repos.append(Repo("model", api, files))
        derived.append(mid)
        models.append(mid)
    rng.shuffle(models)
    return repos, models


# ---------------------------------------------------------------- the Hub in its own process
def _serve(conn: Any, n_models: int, seed: int, latency: float) -> None:
    from openaudit.hub.replay import ReplayHub

    hub = ReplayHub(gated_open=False)
    for repo in synthetic_hub(n_models, seed)[0]:
        hub.add_repo(repo.api, repo.files, kind=repo.kind)
    hub.start()
    conn.send(hub.url)
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            hub.stop()
            conn.send("ok")
            return
        if cmd == "count":
            with hub._lock:
                reqs = list(hub.requests)
            conn.send({"total": len(reqs), "head": sum(r.method == "HEAD" for r in reqs)})
        elif cmd == "reset":
            with hub._lock:
                hub.requests.clear()
                hub.faults.clear()
            if latency:
                hub.fail("/", latency=latency, times=None)
            conn.send("ok")


class HubProcess:
    def __init__(self, n_models: int, seed: int, latency: float) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, n_models, seed, latency), daemon=True)
        self.proc.start()
        self.url: str = self.conn.recv()

    def ask(self, cmd: str) -> Any:
        self.conn.send(cmd)
        return self.conn.recv()

    def stop(self) -> None:
        self.ask("stop")
        self.proc.join(5)


# ------------------------------------------------------------------------------ the modes
@dataclass
class Figure:
    mode: str
    models: int
    seconds: float
    requests: int | None = None
    bound: float | None = None  # latency bound in seconds
    note: str = ""

    @property
    def ms_per_model(self) -> float:
        return 1000 * self.seconds / self.models

    @property
    def per_model(self) -> float | None:
        return None if self.requests is None else self.requests / self.models


def naive_loop(hub: HubProcess, ids: list[str]) -> Figure:
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(endpoint=hub.url)
    hub.ask("reset")
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        for mid in ids:
            api.model_info(mid)
            with contextlib.suppress(Exception):  # gated: what the naive loop meets too
                hf_hub_download(mid, "README.md", endpoint=hub.url, cache_dir=cache)
        elapsed = time.perf_counter() - start
    return Figure(
        "naive loop",
        len(ids),
        elapsed,
        hub.ask("count")["total"],
        note="model_info + hf_hub_download(README.md), sequential",
    )


def batch(
    hub: HubProcess,
    refs: list[Any],
    cache_dir: Path,
    mode: str,
    *,
    offline: bool = False,
    jobs: int | None = None,
) -> Figure:
    from openaudit.pipeline import DEFAULT_JOBS, AuditOptions, Run
    from openaudit.report import write

    jobs = jobs or DEFAULT_JOBS
    options = AuditOptions(endpoint=hub.url, cache_dir=cache_dir, offline=offline, workers=jobs)
    hub.ask("reset")
    start = time.perf_counter()
    with Run(options) as run, open(os.devnull, "w", encoding="utf-8") as out:
        n = 0

        def counted() -> Any:
            nonlocal n
            for v in run.verdicts(refs):
                n += 1
                yield v

        write(run.scorecard(), counted(), "json", out)
    elapsed = time.perf_counter() - start
    assert n == len(refs)
    requests = hub.ask("count")["total"]
    return Figure(
        mode, len(refs), elapsed, requests, requests * LATENCY / jobs, note=f"--jobs {jobs}"
    )


def startup(repeat: int = 7) -> Figure:
    exe = ROOT / ".venv" / "bin" / "openaudit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "openaudit"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([*cmd, "--version"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return Figure(
        "start-up (`openaudit --version`)", 1, statistics.median(times), note=f"median of {repeat}"
    )


def memory(n: int, seed: int) -> tuple[Figure, float]:
    """Peak RSS of an offline streamed JSON audit of `n` models from a store filled directly."""
    from openaudit.hub.store import Store
    from openaudit.model import ModelRef, RepoFile, Snapshot

    repos, ids = synthetic_hub(n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        for repo in repos:
            ref = ModelRef(repo.api["id"], kind=repo.kind)  # type: ignore[arg-type]
            files = tuple(
                RepoFile(path=name, size=len(text.encode()), text=text, sha256="0" * 64)
                for name, text in repo.files.items()
                if not (repo.api.get("gated") and name != "README.md")
            )
            store.put(
                Snapshot(
                    ref=ref,
                    commit=repo.api["sha"],
                    info=repo.api,
                    files=files,
                    origin="hub",
                    endpoint="http://127.0.0.1:1",
                )
            )
        store.close()
        (Path(tmp) / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        exe = ROOT / ".venv" / "bin" / "openaudit"
        cmd = [
            str(exe) if exe.exists() else "openaudit",
            "audit",
            "--offline",
            "-q",
            "--cache-dir",
            tmp,
            "--from-file",
            str(Path(tmp) / "ids.txt"),
            "--format",
            "json",
            "-o",
            os.devnull,
        ]
        errors = Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        with open(errors, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            # wait4: the peak of this child alone (not of the Hub process or earlier children).
            _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 3):
            raise SystemExit(f"memory run failed: {errors.read_text()[-2000:]}")
        peak_mb = usage.ru_maxrss / 1024
    return Figure(
        f"offline, {n:,} models from the store (CLI, JSON streamed)",
        n,
        elapsed,
        note=f"peak RSS {peak_mb:.0f} MB",
    ), peak_mb


# ------------------------------------------------------------------------------- reporting
def table(figures: list[Figure], naive: Figure) -> str:
    rows = [
        "| mode | models | seconds | ms/model | models/s | requests/model | latency bound ms/model | vs naive loop | vs latency bound | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        speed = naive.ms_per_model / f.ms_per_model if f.models > 1 else None
        bound = 1000 * f.bound / f.models if f.bound is not None else None
        rows.append(
            "| {} | {} | {:.2f} | {:.1f} | {:.0f} | {} | {} | {} | {} | {} |".format(
                f.mode,
                f.models,
                f.seconds,
                f.ms_per_model,
                f.models / f.seconds if f.seconds else 0,
                f"{f.per_model:.2f}" if f.per_model is not None else "-",
                f"{bound:.1f}" if bound is not None else "-",
                f"{speed:.1f}x" if speed is not None else "-",
                f"{f.ms_per_model / bound:.2f}x" if bound else "-",
                f.note,
            )
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument(
        "--naive-sample", type=int, default=200, help="models the naive loop audits (it is slow)"
    )
    parser.add_argument("--memory-models", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    from openaudit.model import ModelRef

    _, ids = synthetic_hub(args.models, args.seed)
    print(
        f"synthetic Hub: {args.models} models, {args.latency * 1000:.0f} ms per request",
        file=sys.stderr,
    )
    hub = HubProcess(args.models, args.seed, args.latency)
    figures: list[Figure] = []
    try:
        naive = naive_loop(hub, ids[: args.naive_sample])
        figures.append(naive)
        print(f"naive: {naive.ms_per_model:.0f} ms/model", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            refs = [ModelRef(i) for i in ids]
            cold = batch(hub, refs, cache, "cold, default settings")
            figures.append(cold)
            print(f"cold: {cold.ms_per_model:.1f} ms/model", file=sys.stderr)
            figures.append(batch(hub, refs, cache, "warm (same ids, `main`)"))
            from openaudit.hub.store import Store

            store = Store(cache)
            pinned = [ModelRef(i, revision=store.resolve("model", i, "main")) for i in ids]
            store.close()
            figures.append(batch(hub, pinned, cache, "pinned (`@sha`)"))
            figures.append(batch(hub, refs, cache, "offline", offline=True))
            # The first offline audit judges again the models whose licence link is now read
            # from the store copy (their facts say so); a second one recalls every verdict.
            again = batch(hub, refs, cache, "offline again (same evidence)", offline=True)
            figures.append(again)
    finally:
        hub.stop()
    figures.append(startup())
    mem_figure, peak = memory(args.memory_models, args.seed)
    figures.append(mem_figure)
    text = table(figures, naive)
    print(text)
    cold_fig = figures[1]
    bound_ms = 1000 * cold_fig.bound / cold_fig.models if cold_fig.bound else 0.0
    targets = [
        ("cold >= 10x the naive loop", f"{naive.ms_per_model / cold_fig.ms_per_model:.1f}x"),
        (
            "cold within 1.5x of its latency bound",
            f"{cold_fig.ms_per_model / bound_ms:.2f}x" if bound_ms else "-",
        ),
        ("<= 4 requests/model cold", f"{cold_fig.per_model:.2f}"),
        ("<= 1 request/model warm", f"{figures[2].per_model:.2f}"),
        ("pinned >= 1,000 models/s", f"{figures[3].models / figures[3].seconds:.0f}/s"),
        (
            "offline >= 1,000 models/s",
            f"{figures[4].models / figures[4].seconds:.0f}/s (again: {again.models / again.seconds:.0f}/s)",
        ),
        (
            "peak memory < 300 MB for 10,000 models",
            f"{peak:.0f} MB ({args.memory_models:,} models)",
        ),
        ("`openaudit --version` < 0.1 s", f"{figures[6].seconds:.3f} s"),
    ]
    target_text = "\n".join(f"| {t} | {v} |" for t, v in targets)
    cmd = "python benchmarks/batch.py " + " ".join(sys.argv[1:])
    args.out.write_text(
        f"# Batch audit benchmark\n\n`{cmd.strip()}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores (shared), {args.latency * 1000:.0f} ms per request, replay Hub in its own process.\n"
        f"The naive loop audits the first {args.naive_sample} models; ratios are per model.\n\n"
        f"{text}\n\n## Targets (issue 9)\n\n| target | measured |\n|---|---|\n{target_text}\n",
        encoding="utf-8",
    )
    print("\n" + target_text)
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
