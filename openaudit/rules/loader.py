"""Read rule packs (`rules/<pack>/pack.yml`) and the dimension roll-up table.

Rules are data so reviewers can read, diff and extend them; they are
validated on load, and a bad pack fails with a message naming the file and
the field, before any model is judged. Conditions are Common Expression
Language, compiled once here so a syntax error is a load error too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openaudit.model import Rule, RuleOutcome, RulePack
from openaudit.resources import data_dir
from openaudit.validated import schema_error

PACK_FILE = "pack.yml"
DEFAULT_PACKS: tuple[str, ...] = (
    "core",
    "hygiene",
    "osaid",
    "lineage",
    "derivatives",
    "openness",
    "osaid-data",
    "mof",
)


class RuleError(Exception):
    """A rule pack is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class DimensionSpec:
    name: str
    precedence: tuple[str, ...]
    default: str
    default_summary: str
    #: (other dimension, its statuses, the cap): this dimension is at most as open as the cap
    #: when the other one rolled up to one of those statuses.
    capped_by: tuple[tuple[str, tuple[str, ...], str], ...] = ()
    #: What a rule proposes when evidence it needs was not read (None: no status, only a finding).
    undecided: str | None = None

    def more_cautious_or_equal(self, status: str | None, than: str | None) -> bool:
        """True when `status` comes no later than `than` in the precedence (caution first)."""
        if status is None or than is None:
            return status is None
        order = self.precedence
        return status in order and than in order and order.index(status) <= order.index(than)


@dataclass(frozen=True)
class RuleSet:
    packs: tuple[RulePack, ...]
    dimensions: Mapping[str, DimensionSpec]

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for p in self.packs for r in p.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _yaml(path: Path) -> tuple[Any, str]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        return _load_yaml(yaml, text), text
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}:{where}: not valid YAML") from None


def _validate(doc: Any, text: str, schema_name: str, path: Path) -> None:
    error = schema_error(schema_name, text, doc)
    if error is not None:
        raise RuleError(f"{path}: {error[0] or '(top level)'}: {error[1]}")


def _outcome(raw: Mapping[str, Any] | None) -> RuleOutcome:
    if raw is None:
        return RuleOutcome(outcome="skip")
    return RuleOutcome(
        outcome=str(raw.get("outcome", "info")),
        status=raw.get("status"),
        message=str(raw.get("message", "")),
        severity=str(raw.get("severity", "info")),
    )


def import_cel() -> Any:
    """The CEL bindings without their REPL.

    `cel/__init__` imports `cel.cli` (prompt_toolkit and rich: a quarter of a second at every
    start) that openaudit never uses; an empty module stands in for it.
    """
    import sys
    import types

    if "cel" not in sys.modules:
        sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
    import cel

    return cel


def load_pack(path: Path, dimensions: Mapping[str, DimensionSpec]) -> RulePack:
    """Load one pack file (or a folder holding `pack.yml`)."""
    cel = import_cel()

    file = path / PACK_FILE if path.is_dir() else path
    doc, text = _yaml(file)
    _validate(doc, text, "rulepack.schema.json", file)
    rules = []
    for index, raw in enumerate(doc["rules"]):
        where = f"{file}: rules.{index} ({raw['id']})"
        dim = raw["dimension"]
        if dim not in dimensions:
            raise RuleError(f"{where}: dimension: '{dim}' is not one of {sorted(dimensions)}")
        try:
            cel.compile(raw["condition"])
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise RuleError(f"{where}: condition: {first}") from None
        outcomes = raw["outcomes"]
        for key in ("on_true", "on_false", "on_missing"):
            status = (outcomes.get(key) or {}).get("status")
            if status is not None and status not in dimensions[dim].precedence:
                raise RuleError(
                    f"{where}: outcomes.{key}.status: '{status}' is not a status of {dim} "
                    f"{list(dimensions[dim].precedence)}"
                )
        rules.append(
            Rule(
                id=raw["id"],
                dimension=dim,
                short=raw["short"].strip(),
                motivation=raw["motivation"].strip(),
                condition=raw["condition"].strip(),
                requires=tuple(raw.get("requires", ())),
                on_true=_outcome(outcomes.get("on_true")),
                on_false=_outcome(outcomes.get("on_false")),
                on_missing=_outcome(outcomes.get("on_missing")),
                remediation=str(raw.get("remediation", "")).strip(),
                frameworks=tuple(raw.get("frameworks", ())),
                cites=tuple(raw.get("cites", ())),
                monotone=bool(raw.get("monotone", False)),
                pack=doc["name"],
                source_file=str(file),
            )
        )
    return RulePack(
        name=doc["name"],
        description=doc["description"].strip(),
        rules=tuple(rules),
        source=str(file),
    )


def load_dimensions(path: Path | None = None) -> dict[str, DimensionSpec]:
    file = path or data_dir("rules") / "dimensions.yml"
    doc, text = _yaml(file)
    _validate(doc, text, "dimensions.schema.json", file)
    specs = {
        name: DimensionSpec(
            name=name,
            precedence=tuple(spec["precedence"]),
            default=spec["default"],
            default_summary=spec["default_summary"],
            capped_by=tuple(
                (c["dimension"], tuple(c["when"]), c["status"]) for c in spec.get("capped_by", ())
            ),
            undecided=spec.get("undecided", "unknown" if "unknown" in spec["precedence"] else None),
        )
        for name, spec in doc["dimensions"].items()
    }
    for spec in specs.values():
        for other, when, cap in spec.capped_by:
            where = f"{file}: dimensions.{spec.name}.capped_by"
            if other not in specs or not set(when) <= set(specs[other].precedence):
                raise RuleError(f"{where}: '{other}' has no statuses {list(when)}")
            if cap not in spec.precedence:
                raise RuleError(f"{where}: '{cap}' is not one of {list(spec.precedence)}")
    return specs


def pack_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """The embedded packs, then user packs: a folder with pack.yml, or a folder of such folders."""
    root = data_dir("rules")
    found = [root / name for name in DEFAULT_PACKS if (root / name / PACK_FILE).is_file()]
    for path in extra:
        if path.is_file() or (path / PACK_FILE).is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if (p / PACK_FILE).is_file()))
        else:
            raise RuleError(f"{path}: no such rule pack (a pack.yml file, or a folder holding one)")
    return found


@functools.lru_cache(maxsize=8)
def load_rules(extra: tuple[Path, ...] = ()) -> RuleSet:
    """All packs in force; ids must be unique across them."""
    dimensions = load_dimensions()
    packs = [load_pack(p, dimensions) for p in pack_dirs(extra)]
    seen: dict[str, str] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.id in seen:
                raise RuleError(
                    f"{rule.source_file}: rule id '{rule.id}' is already defined in {seen[rule.id]}"
                )
            seen[rule.id] = rule.source_file
    return RuleSet(packs=tuple(packs), dimensions=dimensions)


def _load_yaml(yaml: Any, text: str) -> Any:
    """The project's own data (trusted): libyaml's safe loader when present, 5-10x faster."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
