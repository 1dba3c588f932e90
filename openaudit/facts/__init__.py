"""facts: pure functions from a Bundle (and the licence knowledge base) to named Facts.

No I/O happens here: the hub stage has already read everything. Each module
below contributes facts; later modules may read the facts of earlier ones
through the context (licence lineage needs the licence facts of the bases).
A new kind of fact is one new module and one line in EXTRACTORS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from openaudit.facts.context import Context
from openaudit.model import Bundle, Fact, Facts, LicenseMatch

#: Extractor modules, in order; each exposes `extract(ctx) -> Iterable[Fact]`.
EXTRACTORS: tuple[str, ...] = (
    "openaudit.facts.repo",
    "openaudit.facts.licence",
    "openaudit.facts.declarations",
    "openaudit.facts.weights",
    "openaudit.facts.lineage",
    "openaudit.facts.derivatives",
    "openaudit.facts.data",
    "openaudit.facts.docs",
    "openaudit.facts.code",
    "openaudit.facts.viability",
    # Last: marks every fact above with the artefacts it could not be read from.
    "openaudit.facts.reading",
)


def extract(
    bundle: Bundle, kb: Any, identify: Callable[[str], LicenseMatch] | None = None
) -> Facts:
    """All facts about the bundle's root model (an unreadable root yields only repo facts)."""
    ctx = Context(bundle=bundle, kb=kb, identify=identify)
    for name in EXTRACTORS:
        func: Callable[[Context], Iterable[Fact]] = importlib.import_module(name).extract
        for fact in func(ctx):
            ctx.add(fact)
    root = bundle.root
    return Facts(
        subject=bundle.ref.repo_id,
        revision=root.commit if root else None,
        items=dict(ctx.facts),
    )


__all__ = ["EXTRACTORS", "Context", "extract"]
