"""Model Openness Framework classes, computed exactly as the Model Openness Tool computes them.

The MOF class is only comparable with mot.isitopen.ai if every quirk of the
tool is kept: licence ids match exactly, an open licence of the wrong type
still counts (the tool only warns), a class is 0 % while a higher class is
incomplete, and the research paper may stand in for the technical report.
The definition (components, licence lists, labels) is data in `rules/mof/`,
read once; this module only computes, so the audit and the MOT-file reader
get the same answer from the same inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from openaudit.model import (
    MofClassification,
    MofComponent,
    MofComponentResult,
    MofRelease,
    MofWarning,
)
from openaudit.resources import data_dir

CONTENT_TYPES: tuple[str, ...] = ("code", "data", "document")
#: Keys of a release's global licences; "distribution" applies to every content type.
GLOBAL_LICENSE_KEYS: tuple[str, ...] = ("distribution", *CONTENT_TYPES)
UNLICENSED = "unlicensed"


@dataclass(frozen=True)
class ComponentDef:
    """One of the framework's components, as `rules/mof/components.yml` defines it."""

    id: int
    name: str
    content_type: str
    mof_class: int
    required: bool
    description: str


@dataclass(frozen=True)
class MofDefinition:
    components: tuple[ComponentDef, ...]
    labels: Mapping[int, str]
    open_ids: frozenset[str]
    type_appropriate: Mapping[str, frozenset[str]]
    technical_report: str
    research_paper: str

    def component(self, name: str) -> ComponentDef | None:
        for c in self.components:
            if c.name == name:
                return c
        return None

    def required(self, mof_class: int) -> tuple[ComponentDef, ...]:
        """Required components a class introduces (not cumulative)."""
        return tuple(c for c in self.components if c.required and c.mof_class == mof_class)


class MofDataError(ValueError):
    """The MOF definition files are malformed; names the file and field."""


def _need(data: Any, key: str, kind: type, where: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        raise MofDataError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def _load_components(path: Path) -> tuple[tuple[ComponentDef, ...], dict[int, str], str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = _need(data, "components", list, path.name)
    components = []
    for i, item in enumerate(items):
        where = f"{path.name}: components[{i}]"
        content_type = _need(item, "content_type", str, where)
        if content_type not in CONTENT_TYPES:
            raise MofDataError(f"{where}: content_type must be code, data or document")
        mof_class = _need(item, "class", int, where)
        if mof_class not in (1, 2, 3):
            raise MofDataError(f"{where}: class must be 1, 2 or 3")
        components.append(
            ComponentDef(
                id=_need(item, "id", int, where),
                name=_need(item, "name", str, where),
                content_type=content_type,
                mof_class=mof_class,
                required=_need(item, "required", bool, where),
                description=_need(item, "description", str, where),
            )
        )
    labels = _need(data, "classes", dict, path.name)
    if sorted(labels) != [0, 1, 2, 3] or not all(isinstance(v, str) for v in labels.values()):
        raise MofDataError(f"{path.name}: 'classes' must map 0, 1, 2 and 3 to labels")
    names = {c.name for c in components}
    special = [_need(data, k, str, path.name) for k in ("technical_report", "research_paper")]
    for key, name in zip(("technical_report", "research_paper"), special, strict=True):
        if name not in names:
            raise MofDataError(f"{path.name}: '{key}' names no component: {name}")
    return tuple(components), dict(labels), special[0], special[1]


def _id_list(data: Any, key: str, where: str) -> frozenset[str]:
    values = _need(data, key, list, where)
    if not all(isinstance(v, str) for v in values):
        raise MofDataError(f"{where}: every id in '{key}' must be a string")
    return frozenset(values)


@functools.cache
def definition() -> MofDefinition:
    """The framework as `rules/mof/` states it; read once per process."""
    folder = data_dir("rules") / "mof"
    components, labels, report, paper = _load_components(folder / "components.yml")
    path = folder / "licenses.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    open_ids = frozenset().union(
        *(_id_list(data, k, path.name) for k in ("osi_or_fsf", "open_data", "always_open"))
    )
    appropriate = _need(data, "type_appropriate", dict, path.name)
    by_type = {t: _id_list(appropriate, t, f"{path.name}: type_appropriate") for t in CONTENT_TYPES}
    return MofDefinition(components, labels, open_ids, by_type, report, paper)


def is_open(license_id: str) -> bool:
    """Whether the tool counts this exact id as open (no normalisation: the tool does none)."""
    return license_id in definition().open_ids


def is_type_appropriate(license_id: str, content_type: str) -> bool:
    return license_id in definition().type_appropriate.get(content_type, frozenset())


def resolve_license(
    component: MofComponent, content_type: str, licenses: Mapping[str, str]
) -> tuple[str, str | None]:
    """The licence that applies to an included component, and where it came from.

    The component's own licence wins, then the global licence of its content
    type, then the distribution licence. An empty or "unlicensed" own licence
    stops the search: the publisher said there is none.
    """
    if component.license is not None:
        if component.license in ("", UNLICENSED):
            return UNLICENSED, "component"
        return component.license, "component"
    for key in (content_type, "distribution"):
        if licenses.get(key):
            return licenses[key], f"global:{key}"
    return UNLICENSED, None


def _evaluate(
    release: MofRelease, d: MofDefinition
) -> tuple[list[MofComponentResult], list[MofWarning]]:
    included: dict[str, MofComponent] = {}
    warnings: list[MofWarning] = []
    for listed in release.components:
        if d.component(listed.name) is None:
            msg = f"'{listed.name}' is not a Model Openness Framework component; ignored"
            warnings.append(MofWarning("unknown-component", listed.name, msg))
        else:
            included[listed.name] = listed  # listed twice: the last entry wins, as in the tool
    results: list[MofComponentResult] = []
    for cdef in d.components:
        base = (cdef.name, cdef.content_type, cdef.mof_class, cdef.required)
        comp = included.get(cdef.name)
        if comp is None:
            results.append(MofComponentResult(*base, status="missing"))
            continue
        lic, origin = resolve_license(comp, cdef.content_type, release.licenses)
        appropriate = is_type_appropriate(lic, cdef.content_type)
        status = "open" if is_open(lic) else UNLICENSED if lic == UNLICENSED else "not-open"
        results.append(MofComponentResult(*base, status, lic, origin, appropriate))
        warning = _warning(cdef, status, lic, appropriate)
        if warning is not None:
            warnings.append(warning)
    return results, warnings


def _warning(cdef: ComponentDef, status: str, lic: str, appropriate: bool) -> MofWarning | None:
    if status == "open" and appropriate:
        return None
    if status == "open":
        kind = "not-type-appropriate"
        msg = f"{cdef.name}: {lic} is open but not type-appropriate for {cdef.content_type}"
    elif status == UNLICENSED:
        kind = UNLICENSED
        msg = f"{cdef.name}: included without a licence, so it does not count"
    else:
        kind = "not-open"
        msg = f"{cdef.name}: '{lic}' is not a licence the tool counts as open"
    return MofWarning(kind, cdef.name, msg, cdef.content_type, lic)


def _progress(
    mof_class: int, d: MofDefinition, status: Mapping[str, str], paper_stands_in: bool
) -> float:
    """Percent of a class's required components met; 0 while a higher class is unmet."""

    def met(k: int) -> int:
        required = (c for c in d.components if c.required and c.mof_class >= k)
        count = sum(1 for c in required if status[c.name] == "open")
        # The paper counts in place of the report in classes II and III (it is already
        # one of class I's own components).
        if paper_stands_in and k > 1 and status[d.research_paper] == "open":
            count += 1
        return count

    total = included = 0
    for k in (3, 2, 1):
        if k < mof_class:
            break
        total += len(d.required(k))
        included = met(k)
        if included < total:
            if k > mof_class:
                return 0.0
            break
    if (
        mof_class == 1
        and status[d.technical_report] != "open"
        and status[d.research_paper] == "open"
    ):
        total -= 1
    return min((included / total) * 100, 100.0)


def classify(release: MofRelease) -> MofClassification:
    """The MOF class of a release, with per-class progress and warnings, as the MOT gives them."""
    d = definition()
    results, warnings = _evaluate(release, d)
    status = {r.name: r.status for r in results}
    paper_stands_in = status[d.technical_report] != "open" and status[d.research_paper] != "missing"
    progress = {k: _progress(k, d, status, paper_stands_in) for k in (1, 2, 3)}
    achieved = next((k for k in (1, 2, 3) if progress[k] == 100.0), 0)
    return MofClassification(
        mof_class=achieved,
        label=d.labels[achieved],
        progress=progress,
        components=tuple(results),
        warnings=tuple(warnings),
        report_replaced_by_paper=paper_stands_in,
    )


def _number(value: float) -> int | float:
    # The tool's JSON writes whole percentages as integers (0, 100).
    return int(value) if value.is_integer() else value


def to_api(classification: MofClassification) -> dict[str, Any]:
    """The `classification` object of the tool's REST API, for byte-level comparison."""
    return {
        "class": classification.mof_class,
        "label": classification.label,
        "progress": {str(k): _number(classification.progress[k]) for k in (1, 2, 3)},
    }


def warning_to_dict(warning: MofWarning) -> dict[str, str]:
    return {
        "kind": warning.kind,
        "component": warning.component,
        "content_type": warning.content_type,
        "license": warning.license,
        "message": warning.message,
    }
