"""European Open Source AI Index parameters judged from an audit's facts.

The judgement is the `osai-index` rule pack (one dimension `osai.<parameter>` per parameter of
the index's `_parameters.yml`, shipped beside it), evaluated by the same engine as the audit,
so a reviewer reads and amends it as data. This module only loads the index's own files,
checks that every parameter is judged by some rule, and rolls the findings up; the exporter
(`report.osai_entry`) renders what comes out.

The pack is not one of the audit's default packs: twelve index parameters per model would
drown the scorecard, and the index judges a whole system, which only the export is about.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openaudit.model import Evidence, Fact, Facts
from openaudit.resources import data_dir
from openaudit.rules.engine import Judge
from openaudit.rules.loader import RuleError, RuleSet, _yaml, load_dimensions, load_pack

PACK = "osai-index"
DIMENSION_PREFIX = "osai."
#: The classes an entry may carry; None (an empty class) is the index's "NA", used for "a person decides".
CLASSES: tuple[str, ...] = ("open", "partial", "closed")


@dataclass(frozen=True)
class Parameter:
    """One judged parameter of the index, as `_parameters.yml` lists it."""

    ref: str
    name: str
    group: str
    group_name: str


@dataclass(frozen=True)
class Judgement:
    """A parameter's class (None: a person decides), why, and the evidence for the link."""

    parameter: Parameter
    #: "open", "partial", "closed", or "unknown" when the evidence does not decide.
    status: str
    summary: str
    rule: str | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def index_class(self) -> str | None:
        return self.status if self.status in CLASSES else None


def folder() -> Path:
    return data_dir("rules") / PACK


@functools.cache
def parameters() -> tuple[Parameter, ...]:
    """The index's parameters in its own order (availability, documentation, access)."""
    path = folder() / "_parameters.yml"
    groups, _ = _yaml(path)
    if not isinstance(groups, list):
        raise RuleError(f"{path}: (top level): must be a list of groups")
    out = []
    for i, group in enumerate(groups):
        params = group.get("params") if isinstance(group, dict) else None
        if not isinstance(params, list):
            raise RuleError(f"{path}: {i}.params: must be a list")
        for j, p in enumerate(params):
            if not isinstance(p, dict) or not isinstance(p.get("ref"), str):
                raise RuleError(f"{path}: {i}.params.{j}.ref: must be a string")
            out.append(
                Parameter(
                    p["ref"],
                    str(p.get("name", p["ref"])),
                    str(group.get("ref", "")),
                    str(group.get("name", "")),
                )
            )
    return tuple(out)


@functools.cache
def template() -> Mapping[str, Any]:
    """The index's submission template: the `system` and `org` fields an entry carries."""
    path = folder() / "a_submission_template.yaml"
    data, _ = _yaml(path)
    for key in ("system", "org"):
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise RuleError(f"{path}: {key}: must be a mapping of fields")
    return dict(data)


@functools.cache
def _judge() -> Judge:
    dimensions = load_dimensions()
    pack = load_pack(folder(), dimensions)
    judged = {r.dimension for r in pack.rules}
    for p in parameters():
        dim = DIMENSION_PREFIX + p.ref
        if dim not in dimensions:
            raise RuleError(
                f"{data_dir('rules') / 'dimensions.yml'}: dimensions: '{dim}' is missing for index parameter '{p.ref}'"
            )
        if dim not in judged:
            raise RuleError(f"{pack.source}: rules: no rule judges '{dim}'")
    return Judge(RuleSet(packs=(pack,), dimensions=dimensions))


def judge(facts: Facts) -> tuple[Judgement, ...]:
    """Every index parameter's class from the facts, caution first (see rules/dimensions.yml)."""
    engine = _judge()
    findings = engine.findings(facts)
    out = []
    for p in parameters():
        dim = DIMENSION_PREFIX + p.ref
        status, summary, mine = engine.roll_up(dim, findings)
        chosen = next((f for f in mine if f.status == status), None)
        out.append(
            Judgement(
                parameter=p,
                status=status,
                summary=summary,
                rule=chosen.rule if chosen else None,
                evidence=chosen.evidence if chosen else (),
            )
        )
    return tuple(out)


def with_index(facts: Facts) -> Facts:
    """The facts with each index parameter's class (`osai_index.classes`), judged once with the
    verdict, so that reports only read it and a remembered verdict carries it."""
    if facts.value("repo.readable") is False:
        return facts
    classes = {j.parameter.name: j.status for j in judge(facts)}
    if not classes:
        return facts
    fact = Fact("osai_index.classes", classes)
    return Facts(facts.subject, facts.revision, {**facts.items, fact.name: fact})
