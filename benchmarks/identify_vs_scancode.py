"""Benchmark: openaudit's licence identification against ScanCode Toolkit, group by group.

Both tools read the same files and are scored the same way. Groups:

* `built-from`: the texts the references in licenses/texts were built from
  (../shared/license-texts, as published) and the corpus's licence files
  (../shared/corpus, the development set). Skipped when ../shared is absent.
  A tool scores well here by construction; it is reported apart, never mixed in.
* `ai`: licence and notice files of AI projects, found with a code search and stored
  in benchmarks/data/identify/ai (sources.yml names each repository, path and commit).
* `packages`: licence files shipped in ordinary PyPI packages (copied from installed
  wheels; the expected licence is the package's own metadata, not either tool's).
* `edited`: reference texts as people ship them, made here: a copyright header,
  Markdown, rewrapped at 60 columns, a line of prose before it, cut by 15 % and 30 %.
* `notices`: one-line statements naming a licence (sources.yml `notices`).

Scoring: each tool's answer is the set of knowledge-base ids it names for the file
(ScanCode: its own per-file `detected_license_expression`, each key mapped through its
licence database's SPDX key, else its name, to a knowledge-base id; unknown-licence
keys count as naming nothing). `right` = the set equals the expected one; `incomplete`
= every licence it names is expected, but not all expected ones are named; `wrong` = it
names a licence that is not expected; `nothing` = it names nothing. A file whose expected value is
`null` (a licence the knowledge base does not have) is right when nothing is named.

ScanCode runs in its own virtualenv outside the repository, inside one process, so
its index load is timed apart from its per-file matching, as ours is:

    python3 -m venv /work/scancode-venv && /work/scancode-venv/bin/pip install scancode-toolkit==32.5.0 'pluggy<1.6'
    .venv/bin/python benchmarks/identify_vs_scancode.py [--scancode-venv DIR] [--json out.json]

Without ScanCode it prints openaudit's side alone and says so (exit 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
DATA = HERE / "data" / "identify"
DEFAULT_VENV = Path(os.environ.get("SCANCODE_VENV", "/work/scancode-venv"))

# Runs inside the ScanCode venv: load the index once, then ScanCode's own per-file answer.
_SCANCODE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from licensedcode.cache import get_index, get_licenses_db
from scancode.api import get_licenses
get_index()
db = get_licenses_db()
load = time.perf_counter() - t0
out = []
for path in json.load(sys.stdin):
    t = time.perf_counter()
    found = get_licenses(path)
    dt = time.perf_counter() - t
    out.append({"path": path, "seconds": dt,
                "expression": found.get("detected_license_expression") or ""})
keys = {}
for f in out:
    for key in set(__import__("re").findall(r"[A-Za-z0-9.+_-]+", f["expression"])):
        lic = db.get(key)
        if lic is not None:
            keys[key] = {"spdx": lic.spdx_license_key, "name": lic.name,
                         "other_spdx": list(lic.other_spdx_license_keys or ()),
                         "title": next((ln.strip() for ln in (lic.text or "").splitlines()
                                        if ln.strip() and not ln.lower().lstrip().startswith("copyright")), ""),
                         "short_name": lic.short_name, "category": lic.category,
                         "unknown": bool(getattr(lic, "is_unknown", False))}
json.dump({"index_seconds": load, "files": out, "keys": keys}, sys.stdout)
"""

#: ScanCode keys that say "a licence is here, which one is not known": nothing named.
_UNKNOWN_CATEGORIES = {"Unstated License"}

#: Reference texts turned into the `edited` group (the most used licences on the Hub).
EDITED = (
    "apache-2.0", "mit", "cc-by-nc-4.0", "llama3.1", "llama3", "llama2", "cc-by-4.0",
    "cc-by-sa-4.0", "gemma", "gpl-3.0", "creativeml-openrail-m", "bsd-3-clause",
    "bigscience-openrail-m", "openrail++", "agpl-3.0", "mpl-2.0", "bsd-2-clause",
)  # fmt: skip


def edited_variants(kb: Any, folder: Path) -> list[tuple[Path, str, str]]:
    """(file, expected, group) for each shipped-shape variant of the EDITED references."""
    import yaml

    manifest = yaml.safe_load((REPO / "licenses" / "texts" / "manifest.yml").read_text())
    out: list[tuple[Path, str, str]] = []
    for item in manifest["texts"]:
        if (
            item["id"] not in EDITED
            or item.get("kind") == "policy"
            or item["file"].startswith("gemma--")
        ):
            continue
        body = (REPO / "licenses" / "texts" / item["file"]).read_text(encoding="utf-8")
        paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
        variants = {
            "header": "Copyright (c) 2024 Example Labs, Inc.\n\n" + body,
            "markdown": "# License\n\n"
            + "\n\n".join(f"> {p.strip()}" if i == 0 else p for i, p in enumerate(paragraphs)),
            "rewrapped": "\n\n".join(textwrap.fill(" ".join(p.split()), 60) for p in paragraphs),
            "prefixed": "The model weights in this repository are provided under the following terms.\n\n"
            + body,
            "cut15": body[: int(len(body) * 0.85)],
            "cut30": body[: int(len(body) * 0.70)],
        }
        for name, text in variants.items():
            path = folder / f"{item['id']}--{name}.txt"
            path.write_text(text, encoding="utf-8")
            out.append((path, item["id"], "edited"))
    return out


def samples(kb: Any, tmp: Path) -> list[tuple[Path, str | None, str]]:
    """(file, expected ids as an expression or None, group)."""
    import yaml

    sources = yaml.safe_load((DATA / "sources.yml").read_text(encoding="utf-8"))
    out: list[tuple[Path, str | None, str]] = []
    for row in sources["files"]:
        out.append((DATA / row["file"], row["expected"], row["group"]))
    notices = tmp / "notices"
    notices.mkdir()
    for i, row in enumerate(sources["notices"]):
        path = notices / f"notice-{i:02d}.txt"
        path.write_text(row["text"] + "\n", encoding="utf-8")
        out.append((path, row["expected"], "notices"))
    edited = tmp / "edited"
    edited.mkdir()
    out.extend(edited_variants(kb, edited))
    out.extend(built_from(kb))
    return out


def built_from(kb: Any) -> list[tuple[Path, str | None, str]]:
    """The published texts the references were made from, and the corpus's licence files."""
    import yaml

    base = SHARED / "license-texts"
    if not base.is_dir():
        return []
    manifest = yaml.safe_load((REPO / "licenses" / "texts" / "manifest.yml").read_text())
    out: list[tuple[Path, str | None, str]] = []
    for item in manifest["texts"]:
        path = base / str(item["source"]).split(" ")[0]
        if not path.is_file() or item["kind"] == "policy":
            continue
        if path.name == "LGPL-3.0-only.txt":
            out.append((path, "lgpl-3.0 AND gpl-3.0", "built-from"))
            continue
        out.append((path, resolve(item), "built-from"))
    labels_file = SHARED / "corpus" / "labels.json"
    if labels_file.is_file():
        labels = {x["id"]: x for x in json.loads(labels_file.read_text())}
        name = re.compile(r"^(licen[cs]e|copying)([._-].*)?$", re.I)
        for path in sorted((SHARED / "corpus" / "models").glob("*/*/files/*")):
            model = f"{path.parts[-4]}/{path.parts[-3]}"
            pattern = (labels.get(model) or {}).get("licence_re")
            if name.match(path.name) and pattern:
                out.append((path, "re:" + pattern, "built-from"))
    return out


def resolve(item: dict[str, Any]) -> str | None:
    """The KB id a reference stands for, as identification resolves it (id, aliases, SPDX)."""
    from openaudit.kb import load_kb

    kb = load_kb()
    for key in (item["id"], *(item.get("aliases") or ())):
        if kb.get(key) is not None:
            return str(key)
    entry = kb.by_spdx(item["spdx"]) if item.get("spdx") else None
    return entry.id if entry is not None else None


def expected_ids(expected: str | None) -> frozenset[str]:
    if not expected:
        return frozenset()
    return frozenset(p for p in re.split(r"\s+(?:AND|OR)\s+", expected) if p)


def verdict(named: frozenset[str], expected: str | None) -> str:
    if expected and expected.startswith("re:"):
        if not named:
            return "nothing"
        ok = all(re.search(expected[3:], i) for i in named)
        return "right" if ok else "wrong"
    want = expected_ids(expected)
    if not named:
        return "right" if not want else "nothing"
    if named == want:
        return "right"
    # Every licence named is in the file, but not every one in the file is named.
    return "incomplete" if named < want else "wrong"


#: ScanCode appends the year or date of a version to its names ("Llama 2 Community License
#: Agreement 2023", "Gemma Terms of Use 2025-03-24"); the knowledge base names them without.
_NAME_DATE = re.compile(r"\s+(?:\d{4}(?:-\d{2}-\d{2})?|v?\d{4}\.\d{2}\.\d{2})$")


def scancode_ids(expression: str, keys: dict[str, Any], kb: Any) -> frozenset[str]:
    """ScanCode's per-file expression as KB ids, through its licence database: the key's SPDX
    id (and its other SPDX ids), else its name, short name or its text's title line, with
    ScanCode's version date taken off. A key naming no KB entry stays `scancode:<key>` (or its SPDX id, lower-cased,
    when it has a real one). Unknown-licence keys name nothing."""
    out = set()
    for key in set(re.findall(r"[A-Za-z0-9.+_-]+", expression)):
        if key.upper() in ("AND", "OR", "WITH"):
            continue
        info = keys.get(key) or {}
        if (
            key.startswith("unknown")
            or info.get("unknown")
            or info.get("category") in _UNKNOWN_CATEGORIES
        ):
            continue
        entry = None
        spdx = info.get("spdx") or ""
        for sid in (spdx, *(info.get("other_spdx") or ())):
            if entry is None and sid and not sid.startswith("LicenseRef-"):
                entry = kb.by_spdx(sid)
        # ... and the title its own licence text gives itself ("CreativeML Open RAIL-M" is
        # ScanCode's `stable-diffusion-2022-08-22`).
        for name in (info.get("name"), info.get("short_name"), info.get("title")):
            for candidate in (name, _NAME_DATE.sub("", name or "")):
                if entry is None and candidate:
                    entry = kb.find(candidate)
        if entry is not None:
            out.add(entry.id)
        elif spdx and not spdx.startswith("LicenseRef-"):
            out.add(spdx.lower())
        else:
            out.add(f"scancode:{key}")
    return frozenset(out)


def run_ours(
    files: list[tuple[Path, str | None, str]], kb: Any
) -> tuple[float, list[tuple[frozenset[str], float]]]:
    from openaudit.kb.identify import _index, identify_text, texts_dir

    t = time.perf_counter()
    _index(str(texts_dir()))
    index_s = time.perf_counter() - t
    out = []
    for path, _, _ in files:
        body = path.read_text(encoding="utf-8", errors="replace")
        t = time.perf_counter()
        m = identify_text(body, kb)
        dt = time.perf_counter() - t
        named = frozenset(m.ids) if m.license_id and m.kind == "licence" else frozenset()
        out.append((named, dt))
    return index_s, out


def run_scancode(
    files: list[tuple[Path, str | None, str]], py: Path, kb: Any
) -> tuple[float, list[tuple[frozenset[str], float, str]]]:
    proc = subprocess.run(
        [str(py), "-c", _SCANCODE_SCRIPT],
        input=json.dumps([str(p) for p, _, _ in files]),
        capture_output=True,
        text=True,
        check=True,
    )
    sc = json.loads(proc.stdout)
    return sc["index_seconds"], [
        (scancode_ids(f["expression"], sc["keys"], kb), f["seconds"], f["expression"])
        for f in sc["files"]
    ]


def table(rows: list[dict[str, Any]], tool: str, groups: list[str]) -> str:
    lines = [f"| group | files | {tool} right / incomplete / wrong / nothing |", "|---|---|---|"]
    for g in groups:
        mine = [r for r in rows if r["group"] == g]
        counts = [
            sum(1 for r in mine if r[tool] == k)
            for k in ("right", "incomplete", "wrong", "nothing")
        ]
        lines.append(f"| {g} | {len(mine)} | {' / '.join(map(str, counts))} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scancode-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--json", type=Path, help="write per-file results here")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from openaudit.kb import load_kb

    kb = load_kb()
    py = args.scancode_venv / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        files = samples(kb, Path(tmp))
        ours_index, ours = run_ours(files, kb)
        theirs = None
        if py.exists():
            sc_index, theirs = run_scancode(files, py, kb)
        else:
            print(
                f"ScanCode not found at {args.scancode_venv}: openaudit's side only",
                file=sys.stderr,
            )
    groups = [
        g
        for g in ("built-from", "ai", "packages", "edited", "notices")
        if any(f[2] == g for f in files)
    ]
    rows = []
    for i, (path, expected, group) in enumerate(files):
        named, dt = ours[i]
        row: dict[str, Any] = {
            "file": path.name if group in ("edited", "notices") else str(path),
            "group": group,
            "expected": expected,
            "openaudit_ids": sorted(named),
            "openaudit": verdict(named, expected),
            "openaudit_ms": round(dt * 1000, 3),
        }
        if theirs is not None:
            sc_named, sc_dt, expr = theirs[i]
            row |= {
                "scancode_ids": sorted(sc_named),
                "scancode_expression": expr,
                "scancode": verdict(sc_named, expected),
                "scancode_ms": round(sc_dt * 1000, 3),
            }
        rows.append(row)
    for r in rows:
        if r["openaudit"] != "right" or r.get("scancode", "right") != "right":
            print(
                f"  [{r['group']}] {r['file']}: expected {r['expected']}; openaudit {r['openaudit_ids']} "
                f"({r['openaudit']}); scancode {r.get('scancode_ids')} ({r.get('scancode')})"
            )
    print(f"\nopenaudit, {len(rows)} files\n" + table(rows, "openaudit", groups))
    ours_ms = sum(r["openaudit_ms"] for r in rows) / len(rows)
    print(f"\nindex load: openaudit {ours_index:.2f} s", end="")
    if theirs is not None:
        print(f", scancode {sc_index:.2f} s")
        print("\nScanCode, same files\n" + table(rows, "scancode", groups))
        sc_ms = sum(r["scancode_ms"] for r in rows) / len(rows)
        print(
            f"\nper file (mean): openaudit {ours_ms:.2f} ms, scancode {sc_ms:.2f} ms; "
            f"ratio scancode / openaudit = {sc_ms / ours_ms:.0f}x"
        )
    else:
        print(f"\nper file (mean): openaudit {ours_ms:.2f} ms")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
