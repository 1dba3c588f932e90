"""Benchmark: rendering bills of materials, against rendering the JSON report of the same audit.

Replays ../shared/corpus (when present) and the project's fixtures over a loopback Hub, audits
every model once, then times each format rendered from that one audit (best of --repeat runs),
validation included, as a ratio to the JSON report. It also times the CycloneDX check as the
library's strict validator does it (every IRI through rfc3987-syntax's Earley parser) against
`cyclonedx_json.validate` (the same validator, ASCII IRIs by the URI grammar), on the same
document, and says whether both accept it.

    .venv/bin/python benchmarks/bom_formats.py               # corpus + fixtures
    .venv/bin/python benchmarks/bom_formats.py --repeat 5
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = [
    p
    for p in (REPO.parent / "shared" / "corpus", REPO / "tests" / "fixtures" / "hub")
    if p.is_dir()
]
FORMATS = (
    ("json", {}),
    ("spdx-json", {}),
    ("spdx3-json", {}),
    ("cyclonedx-json", {"cyclonedx_version": "1.6"}),
    ("cyclonedx-json", {"cyclonedx_version": "1.7"}),
)


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str]) -> int:
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("OPENAUDIT_LINK_HOSTS", "127.0.0.1")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from openaudit.hub.replay import ReplayHub
    from openaudit.model import ModelRef
    from openaudit.pipeline import AuditOptions, audit
    from openaudit.report import cyclonedx_json, render

    with ReplayHub(*ROOTS) as hub, tempfile.TemporaryDirectory() as tmp:
        ids = sorted(hub.repo_ids("model"))
        options = AuditOptions(endpoint=hub.url, cache_dir=Path(tmp))
        scorecard = replace(audit([ModelRef(i) for i in ids], options), generated_at="2026-01-01")
    print(f"{len(scorecard.models)} models audited once; best of {repeat} renders")
    base = _best(lambda: render(scorecard, "json"), repeat)
    for fmt, opts in FORMATS:
        if fmt == "json":
            seconds = base
        else:
            seconds = _best(lambda f=fmt, o=opts: render(scorecard, f, o), repeat)  # type: ignore[misc]
        size = len(render(scorecard, fmt, opts).encode())
        label = f"{fmt} {opts.get('cyclonedx_version', '')}".strip()
        print(f"{label:20} {seconds:7.3f} s  {seconds / base:6.1f}x json  {size / 1024:8.0f} KB")
    text = json.dumps(cyclonedx_json.document(scorecard, "1.6"))
    strict = JsonStrictValidator(SchemaVersion.V1_6)
    start = time.perf_counter()
    slow_ok = strict.validate_str(text) is None
    slow = time.perf_counter() - start
    cyclonedx_json.validate(text, "1.6")  # build the validator once, as a run does
    start = time.perf_counter()
    fast_ok = cyclonedx_json.validate(text, "1.6") is None
    fast = time.perf_counter() - start
    print(
        f"CycloneDX 1.6 check: library strict {slow:.2f} s (valid: {slow_ok}), "
        f"openaudit {fast:.3f} s (valid: {fast_ok}), {slow / fast:.0f}x"
    )
    return 0 if slow_ok == fast_ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
