"""Benchmark: openaudit's licence-text identification against ScanCode Toolkit.

Both tools read the same files: the reference licence texts of
../shared/license-texts (as published: SPDX templates with their URLs and notes,
AI licences and use policies) and the licence files of ../shared/corpus. Each
result is compared with the id the file is known to be (from
licenses/texts/manifest.yml `source`, or the corpus label's `licence_re`).

ScanCode runs in its own virtualenv (benchmarks/.venv-scancode, gitignored;
created with --setup), inside one process, so its index load is timed apart
from its per-file matching, as ours is. Usage:

    .venv/bin/python benchmarks/identify_vs_scancode.py --setup   # once, several minutes
    .venv/bin/python benchmarks/identify_vs_scancode.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
VENV = HERE / ".venv-scancode"
PY = VENV / "bin" / "python"
SCANCODE = ("scancode-toolkit==32.5.0", "pluggy<1.6")

# Runs inside the ScanCode venv: load the index once, then match each file.
_SCANCODE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from licensedcode.cache import get_index, build_spdx_license_expression
idx = get_index()
load = time.perf_counter() - t0
out = []
for path in json.load(sys.stdin):
    t = time.perf_counter()
    matches = idx.match(location=path)
    keys = [m.rule.license_expression for m in matches]
    dt = time.perf_counter() - t
    spdx = []
    for k in keys:
        try:
            spdx.append(build_spdx_license_expression(k))
        except Exception:
            spdx.append(None)
    lengths = [m.len() for m in matches]
    out.append({"path": path, "seconds": dt, "keys": keys, "spdx": spdx, "lengths": lengths})
json.dump({"index_seconds": load, "files": out}, sys.stdout)
"""

#: ScanCode keys of AI licences -> KB ids (ScanCode names them its own way).
SCANCODE_KEYS = {
    "llama-2-license-2023": "llama2",
    "llama-3-license-2024": "llama3",
    "llama-3.1-license-2024": "llama3.1",
    "llama-3.2-license-2024": "llama3.2",
    "llama-3.3-license-2024": "llama3.3",
    "llama-4-license-2025": "llama4",
    "bigscience-open-rail-m": "bigscience-openrail-m",
    "bigscience-rail-1.0": "bigscience-bloom-rail-1.0",
    "bigcode-open-rail-m-v1": "bigcode-openrail-m",
    "creativeml-openrail-m": "creativeml-openrail-m",
    "stabilityai-creativeml-openrail-plus-plus-m": "openrail++",
    "deepseek-la-1.0": "deepseek",
    "gemma-tou-2024-04-01": "gemma",
    "gemma-tou-2025-03-24": "gemma",
    "llama-4-cla-2025": "llama4",
    "stable-diffusion-2022-08-22": "creativeml-openrail-m",
    "stability-ai-nc-2023-12-06": "stability-ai-noncommercial-research",
    "apple-excl": "apple-ascl",
    "gfdl-1.3": "gfdl",
    "apple-ml-ferret-2023": "apple-ml-ferret",
    "tongyi-qianwen-2023": "tongyi-qianwen",
    "tongyi-qianwen-research-2023": "tongyi-qianwen-research",
    "yi-license-2.1": "yi-license",
}


def setup() -> None:
    if not PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", *SCANCODE], check=True)


def samples(kb: Any) -> list[tuple[Path, str]]:
    """(file, expected) pairs; expected is a KB id or, for corpus files, "re:<regex>"."""
    import yaml

    manifest = yaml.safe_load((REPO / "licenses" / "texts" / "manifest.yml").read_text())
    out: list[tuple[Path, str]] = []
    base = SHARED / "license-texts"
    for item in manifest["texts"]:
        source = str(item["source"]).split(" ")[0]
        path = base / source
        if not path.is_file() or item["kind"] == "policy":
            continue
        if source == "spdx/LGPL-3.0-only.txt":
            continue  # the template embeds the whole GPL-3.0: two licences, no single answer
        entry = kb.get(item["id"]) or next(
            (kb.get(a) for a in item.get("aliases") or () if kb.get(a)), None
        )
        out.append((path, entry.id if entry else item["id"]))
    corpus = SHARED / "corpus"
    labels_file = corpus / "labels.json"
    if labels_file.is_file():
        labels = {x["id"]: x for x in json.loads(labels_file.read_text())}
        name = re.compile(r"^(licen[cs]e|copying|use[_-]?policy)([._-].*)?$", re.I)
        for path in sorted((corpus / "models").glob("*/*/files/*")):
            model = f"{path.parts[-4]}/{path.parts[-3]}"
            pattern = (labels.get(model) or {}).get("licence_re")
            if name.match(path.name) and pattern:
                out.append((path, "re:" + pattern))
    return out


def agrees(found: str | None, expected: str) -> bool:
    if found is None:
        return False
    if expected.startswith("re:"):
        return re.search(expected[3:], found) is not None
    return found == expected


def scancode_id(keys: list[str], spdx: list[str | None], lengths: list[int], kb: Any) -> str | None:
    """ScanCode's main answer as a KB id: the licence with the most matched words.

    A licence file also matches the notices and fragments it quotes (GPL's "how to
    apply" section, "or later" notices), so its answer is the licence covering the
    largest part of the file, not the set of every rule that fired.
    """
    from openaudit.kb.identify import identify_declared

    weight: dict[str, int] = {}
    for key, expr, length in zip(keys, spdx, lengths, strict=True):
        if key in SCANCODE_KEYS:
            kb_id = SCANCODE_KEYS[key]
        else:
            declared = identify_declared(expr or key, kb)
            kb_id = declared.ids[0] if len(declared.ids) == 1 else key
        weight[kb_id] = weight.get(kb_id, 0) + length
    return max(weight, key=weight.__getitem__) if weight else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setup", action="store_true", help="create the ScanCode venv")
    parser.add_argument("--json", type=Path, help="write per-file results here")
    args = parser.parse_args()
    if args.setup:
        setup()
        return 0
    if not PY.exists():
        print("ScanCode venv missing: run with --setup first", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from openaudit.kb import load_kb
    from openaudit.kb.identify import _index, identify_text, texts_dir

    kb = load_kb()
    files = samples(kb)
    if not files:
        print("no samples: ../shared is missing", file=sys.stderr)
        return 2

    t = time.perf_counter()
    _index(str(texts_dir()))
    ours_index = time.perf_counter() - t
    ours: list[tuple[str | None, float]] = []
    for path, _ in files:
        body = path.read_text(encoding="utf-8", errors="replace")
        t = time.perf_counter()
        m = identify_text(body, kb)
        ours.append((m.license_id, time.perf_counter() - t))

    proc = subprocess.run(
        [str(PY), "-c", _SCANCODE_SCRIPT],
        input=json.dumps([str(p) for p, _ in files]),
        capture_output=True,
        text=True,
        check=True,
    )
    sc = json.loads(proc.stdout)
    theirs = [
        (scancode_id(f["keys"], f["spdx"], f["lengths"], kb), f["seconds"], f["keys"])
        for f in sc["files"]
    ]

    rows = []
    for (path, expected), (our_id, our_s), (sc_id, sc_s, keys) in zip(
        files, ours, theirs, strict=True
    ):
        rows.append(
            {
                "file": str(path.relative_to(SHARED)),
                "expected": expected,
                "openaudit": our_id,
                "openaudit_ms": round(our_s * 1000, 3),
                "scancode": sc_id,
                "scancode_keys": keys,
                "scancode_ms": round(sc_s * 1000, 3),
                "openaudit_agrees": agrees(our_id, expected),
                "scancode_agrees": agrees(sc_id, expected),
            }
        )
    n = len(rows)
    ours_ms = sum(r["openaudit_ms"] for r in rows) / n
    sc_ms = sum(r["scancode_ms"] for r in rows) / n
    ours_ok = sum(r["openaudit_agrees"] for r in rows)
    sc_ok = sum(r["scancode_agrees"] for r in rows)
    ours_wrong = sum(1 for r in rows if r["openaudit"] and not r["openaudit_agrees"])
    sc_wrong = sum(1 for r in rows if r["scancode"] and not r["scancode_agrees"])
    for r in rows:
        if not (r["openaudit_agrees"] and r["scancode_agrees"]):
            print(
                f"  {r['file']}: expected {r['expected']}; openaudit {r['openaudit']}; "
                f"scancode {r['scancode']} {r['scancode_keys']}"
            )
    print(f"files: {n}")
    print(f"index load: openaudit {ours_index:.2f} s, scancode {sc['index_seconds']:.2f} s")
    print(f"per file (mean): openaudit {ours_ms:.2f} ms, scancode {sc_ms:.2f} ms, ")
    print(f"ratio: scancode / openaudit = {sc_ms / ours_ms:.0f}x")
    print(
        f"agreement with expected: openaudit {ours_ok}/{n} (named wrongly {ours_wrong}), "
        f"scancode {sc_ok}/{n} (named wrongly {sc_wrong})"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
