"""Documentation facts: which card sections exist, evaluation results, papers, data summaries, size.

Frameworks judge documentation by what a reader can find: the intended use and its limits,
risks, training data, evaluation, environmental cost (model-card practice), a paper or a
technical report, a datasheet or the EU AI Act's public training-content summary (Art. 53(1)(d)).
Only presence is decided here; whether a section is good enough is a reviewer's call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openaudit.facts.context import Context
from openaudit.facts.data import DATA_HEADING, headings, section_text
from openaudit.model import Evidence, Fact

#: Card sections a reviewer looks for, each recognised by its heading.
SECTIONS: dict[str, re.Pattern[str]] = {
    "intended_use": re.compile(
        r"\b(intended|direct|downstream|out[- ]of[- ]scope)\s+uses?\b|\buses?\b$|\bhow to use\b",
        re.I,
    ),
    "limitations": re.compile(r"\blimitations?\b|\bknown issues\b", re.I),
    "bias_risks": re.compile(
        r"\bbias(es)?\b|\brisks?\b|\bsafety\b|\bethic|\bharms?\b|\bresponsible\b", re.I
    ),
    "training_data": DATA_HEADING,
    "evaluation": re.compile(r"\bevaluat|\bbenchmarks?\b|\bresults\b|\bperformance\b", re.I),
    "environmental_impact": re.compile(
        r"\benvironment|\bcarbon\b|\bemissions?\b|\bco2\b|\bcompute infrastructure\b", re.I
    ),
}
_ARXIV_LINK = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", re.I)
_DATASHEET = re.compile(r"\bdatasheets?\b|\bdata\s+card\b", re.I)
#: The EU AI Act's template for the public summary of training content (Art. 53(1)(d)).
_AI_ACT_SUMMARY = re.compile(
    r"(training[- ]content|training[- ]data)\s+summary|public\s+summary|art(?:icle|\.)?\s*53\s*\(1\)\s*\(d\)",
    re.I,
)
#: Bytes per parameter at each precision a reader might deploy.
_BITS = (16, 8, 4)


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    card = ctx.card(snap)
    text = card.text
    heads = headings(text)
    found: dict[str, dict[str, Any]] = {}
    for line, level, title in heads:
        for key, pattern in SECTIONS.items():
            if key in found or not pattern.search(title):
                continue
            words = len(re.findall(r"\w+", section_text(text, line, level)))
            found[key] = {"heading": title, "line": line, "words": words}
    section_ev = tuple(
        ctx.cite_file(snap, "README.md", v["line"], f"# {v['heading']}") for v in found.values()
    )
    yield Fact("docs.sections", {k: k in found for k in SECTIONS}, section_ev)
    yield Fact("docs.sections_present", [k for k in SECTIONS if k in found], section_ev)
    yield Fact("docs.sections_missing", [k for k in SECTIONS if k not in found], section_ev)
    yield Fact("docs.card_words", len(re.findall(r"\w+", card.body)))

    meta = card.metadata
    model_index = meta.get("model-index")
    has_results = isinstance(model_index, list) and any(
        isinstance(m, dict) and m.get("results") for m in model_index
    )
    yield Fact(
        "docs.eval_results",
        has_results,
        (ctx.cite_metadata(snap, "model-index", "results"),) if has_results else (),
    )

    papers: dict[str, Evidence] = {}
    for tag in snap.info.get("tags") or ():
        if isinstance(tag, str) and tag.startswith("arxiv:"):
            papers.setdefault(tag.split(":", 1)[1], Evidence("tag", "tags", tag, snap.url()))
    for lineno, row in enumerate(text.splitlines(), 1):
        for m in _ARXIV_LINK.finditer(row):
            papers.setdefault(m.group(1), ctx.cite_file(snap, "README.md", lineno, row.strip()))
    yield Fact("docs.papers", list(papers), tuple(papers.values()))

    datasheet = _first_line(text, _DATASHEET)
    yield Fact(
        "docs.datasheet",
        datasheet is not None,
        (ctx.cite_file(snap, "README.md", datasheet[0], datasheet[1]),) if datasheet else (),
    )
    summary = _first_line(text, _AI_ACT_SUMMARY)
    links = re.findall(r"https?://\S+", summary[1]) if summary else []
    yield Fact(
        "docs.training_summary",
        {"line": summary[0], "links": links} if summary else None,
        (ctx.cite_file(snap, "README.md", summary[0], summary[1]),) if summary else (),
    )

    total = _parameter_count(snap.info)
    if total is not None:
        key = (
            "safetensors.total" if isinstance(snap.info.get("safetensors"), dict) else "gguf.total"
        )
        ev = (ctx.cite_api(snap, key, total),)
        yield Fact("docs.parameter_count", total, ev)
        yield Fact(
            "docs.memory_estimate_gb",
            {f"bits_{b}": round(total * b / 8 / 1e9, 2) for b in _BITS},
            ev,
            note="weights only: activations, KV cache and framework overhead come on top",
        )


def _first_line(text: str, pattern: re.Pattern[str]) -> tuple[int, str] | None:
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return number, line.strip()
    return None


def _parameter_count(info: Any) -> int | None:
    for key in ("safetensors", "gguf"):
        block = info.get(key)
        if isinstance(block, dict) and isinstance(block.get("total"), int) and block["total"] > 0:
            return int(block["total"])
    return None
