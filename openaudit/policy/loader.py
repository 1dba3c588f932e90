"""Read and validate a pre-merge policy (`openaudit-policy.yaml`) and the check's rule catalogue.

A policy is checked before any model is judged, so a typo fails the run with the file and the
field (`openaudit-policy.yaml: licenses.forbidden[1]: ...`) instead of silently allowing a
licence. Licence names go through `license-expression` and the knowledge base, never through
substring matching: `Apache-2.0`, `apache-2.0` and an alias all name the same entry.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openaudit.kb import KnowledgeBase, load_kb
from openaudit.model import STATUSES
from openaudit.resources import data_dir, schema_path

#: The three states of a licence, least to most severe.
STATES: tuple[str, ...] = ("approved", "review", "forbidden")
POLICY_FILE = "openaudit-policy.yaml"
DEFAULT_FILE = Path(__file__).with_name("default.yml")


class PolicyError(Exception):
    """A policy file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class PolicyException:
    """A model allowed despite the rules it breaks, for a reason, by an owner, until a date."""

    model: str
    reason: str
    owner: str
    expires: date
    revision: str | None = None
    #: Rule ids it covers; empty covers every policy rule.
    rules: tuple[str, ...] = ()

    def covers(self, rule: str, model: str | None, revision: str | None) -> bool:
        if model != self.model or (self.revision and self.revision != revision):
            return False
        return not self.rules or rule in self.rules


@dataclass(frozen=True)
class Policy:
    """What a codebase accepts; judges audit verdicts and never changes them."""

    source: str
    #: Knowledge-base licence id -> state.
    licenses: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Licence kind -> state.
    kinds: Mapping[str, str] = field(default_factory=dict, hash=False)
    unlisted_licence: str = "approved"
    commercial_use: str = "any"
    #: Dimension -> status -> "fail" or "warn".
    dimensions: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)
    gated: str = "allow"
    pickle_weights: str = "allow"
    trust_remote_code: str = "warn"
    unpinned: str = "warn"
    unresolved: str = "warn"
    drift: str = "fail"
    min_mof_class: int | None = None
    osaid: str = "any"
    exceptions: tuple[PolicyException, ...] = ()


@dataclass(frozen=True)
class CheckRule:
    id: str
    short: str
    help: str


@functools.cache
def check_rules() -> dict[str, CheckRule]:
    """The rules `check` reports under, with the help text SARIF carries (rules/policy)."""
    import yaml

    path = data_dir("rules") / "policy" / "rules.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        r["id"]: CheckRule(r["id"], r["short"], " ".join(r["help"].split())) for r in doc["rules"]
    }


@functools.cache
def _default_doc() -> dict[str, Any]:
    import yaml

    doc: dict[str, Any] = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    return doc


def default_policy() -> Policy:
    return build(_default_doc(), "default policy", load_kb())


def load_policy(path: Path, kb: KnowledgeBase | None = None) -> Policy:
    """Read, validate and resolve a policy file; keys it leaves out keep the default."""
    import yaml

    shown = path.as_posix()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{shown}: cannot read ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{shown}:{where}: not valid YAML") from None
    if doc is None:
        doc = {}
    _validate(doc, shown)
    return build({**_default_doc(), **doc}, shown, kb or load_kb())


def _validate(doc: Any, shown: str) -> None:
    import jsonschema

    schema = json.loads(schema_path("policy.schema.json").read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path)
    )
    if errors:
        err = errors[0]
        raise PolicyError(f"{shown}: {_field(err.absolute_path) or '(top level)'}: {err.message}")


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def build(doc: Mapping[str, Any], shown: str, kb: KnowledgeBase) -> Policy:
    """Resolve names to knowledge-base ids and check every value against its vocabulary."""
    licences = _states(doc.get("licenses") or {}, "licenses", shown, lambda v: _licence_id(v, kb))
    kinds_known = {e.kind for e in kb} | {"unknown"}

    def kind(value: str) -> str | None:
        return value if value in kinds_known else None

    kinds = _states(doc.get("kinds") or {}, "kinds", shown, kind)
    dimensions: dict[str, dict[str, str]] = {}
    for dim, table in (doc.get("dimensions") or {}).items():
        if dim not in STATUSES:
            raise PolicyError(f"{shown}: dimensions.{dim}: not a dimension ({', '.join(STATUSES)})")
        for action in ("fail", "warn"):
            for i, status in enumerate(table.get(action) or ()):
                if status not in STATUSES[dim]:
                    raise PolicyError(
                        f"{shown}: dimensions.{dim}.{action}[{i}]: '{status}' is not a status "
                        f"of {dim} ({', '.join(STATUSES[dim])})"
                    )
                dimensions.setdefault(dim, {}).setdefault(status, action)
    known_rules = check_rules()
    exceptions = []
    for i, raw in enumerate(doc.get("exceptions") or ()):
        try:
            expires = date.fromisoformat(raw["expires"])
        except ValueError:
            raise PolicyError(f"{shown}: exceptions[{i}].expires: not a date") from None
        for j, rule in enumerate(raw.get("rules") or ()):
            if rule not in known_rules:
                raise PolicyError(f"{shown}: exceptions[{i}].rules[{j}]: unknown rule '{rule}'")
        exceptions.append(
            PolicyException(
                model=raw["model"],
                reason=raw["reason"],
                owner=raw["owner"],
                expires=expires,
                revision=raw.get("revision"),
                rules=tuple(raw.get("rules") or ()),
            )
        )
    return Policy(
        source=shown,
        licenses=licences,
        kinds=kinds,
        unlisted_licence=doc.get("unlisted_licence", "approved"),
        commercial_use=doc.get("commercial_use", "any"),
        dimensions=dimensions,
        gated=doc.get("gated", "allow"),
        pickle_weights=doc.get("pickle_weights", "allow"),
        trust_remote_code=doc.get("trust_remote_code", "warn"),
        unpinned=doc.get("unpinned", "warn"),
        unresolved=doc.get("unresolved", "warn"),
        drift=doc.get("drift", "fail"),
        min_mof_class=doc.get("min_mof_class"),
        osaid=doc.get("osaid", "any"),
        exceptions=tuple(exceptions),
    )


def _states(table: Mapping[str, Any], key: str, shown: str, resolve: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for state in STATES:
        for i, value in enumerate(table.get(state) or ()):
            resolved = resolve(value)
            if resolved is None:
                raise PolicyError(
                    f"{shown}: {key}.{state}[{i}]: '{value}' is not known ({_hint(key)})"
                )
            if resolved in out and out[resolved] != state:
                raise PolicyError(
                    f"{shown}: {key}.{state}[{i}]: '{value}' is already {out[resolved]}"
                )
            out[resolved] = state
    return out


def _hint(key: str) -> str:
    return (
        "see `openaudit licenses list`"
        if key == "licenses"
        else "a licence kind of the knowledge base"
    )


def _licence_id(value: str, kb: KnowledgeBase) -> str | None:
    """One licence symbol, parsed by `license-expression`, mapped to a knowledge-base id."""
    from openaudit.kb.identify import identify_declared

    declared = identify_declared(value, kb)
    if len(declared.ids) != 1 or declared.unknown or declared.method == "expression":
        return None
    return declared.ids[0]
