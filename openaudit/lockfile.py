"""`openaudit.lock`: each model a codebase references, pinned to the commit that was audited.

Like a package lockfile, it makes the check reproducible (the pinned commits are audited from
the evidence store, with no request) and makes change visible: when a model's `main` branch
later carries another licence, gating or conditions, the check reports drift until someone
accepts it with `openaudit lock --update`. The verdict hash lets a reviewer see at a glance
that a pinned commit still judges the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openaudit.model import Verdict

LOCK_FILE = "openaudit.lock"
SCHEMA = "openaudit/lock/v1"
#: What drift compares: a change in any of these is a change of terms.
TERMS = (
    "licence_ids",
    "licence",
    "commercial_use",
    "weights",
    "gated",
    "conditions",
    "restrictions",
)


class LockError(Exception):
    """An unreadable or malformed lockfile; the message names the file and the field."""


@dataclass(frozen=True)
class LockEntry:
    id: str
    #: The revision the code asks for (None: the default branch).
    requested: str | None
    commit: str
    terms: Mapping[str, Any] = field(default_factory=dict, hash=False)
    verdicts_sha256: str = ""

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.id, self.requested)


def terms_of(verdict: Verdict) -> dict[str, Any]:
    """The terms a lockfile pins: licence ids and statuses, gating, conditions, restrictions."""
    facts = verdict.facts
    kb_terms = (facts.value("licence.terms", []) if facts is not None else []) or []
    gated = facts.value("repo.gated") if facts is not None else None

    def names(key: str) -> list[str]:
        return sorted({n for t in kb_terms if isinstance(t, dict) for n in t.get(key) or ()})

    statuses = {d.name: d.status for d in verdict.dimensions}
    return {
        "licence_ids": sorted(verdict.licence_ids),
        "licence": statuses.get("licence"),
        "commercial_use": statuses.get("commercial_use"),
        "weights": statuses.get("weights"),
        "gated": gated if isinstance(gated, str | bool) else bool(gated),
        "conditions": names("conditions"),
        "restrictions": names("restrictions"),
    }


def verdicts_hash(verdict: Verdict) -> str:
    doc = {
        "licence_ids": list(verdict.licence_ids),
        "dimensions": {d.name: d.status for d in verdict.dimensions},
        "osaid": verdict.osaid,
        "mof_class": verdict.mof_class,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def entry_for(verdict: Verdict, requested: str | None) -> LockEntry:
    return LockEntry(
        verdict.id, requested, verdict.revision or "", terms_of(verdict), verdicts_hash(verdict)
    )


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between the pinned terms and the current ones, one phrase each."""
    out = []
    for key in TERMS:
        if key in old and old.get(key) != new.get(key):
            out.append(f"{key} {_show(old.get(key))} -> {_show(new.get(key))}")
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def read(path: Path) -> dict[tuple[str, str | None], LockEntry]:
    shown = path.as_posix()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(f"{shown}: cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise LockError(f"{shown}: line {exc.lineno}: not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("lockfile") != SCHEMA:
        raise LockError(f"{shown}: lockfile: expected '{SCHEMA}'")
    models = doc.get("models")
    if not isinstance(models, list):
        raise LockError(f"{shown}: models: must be a list")
    out: dict[tuple[str, str | None], LockEntry] = {}
    for i, raw in enumerate(models):
        if not isinstance(raw, dict):
            raise LockError(f"{shown}: models[{i}]: must be an object")
        for key in ("id", "commit"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise LockError(f"{shown}: models[{i}].{key}: must be a non-empty string")
        requested = raw.get("requested")
        if requested is not None and not isinstance(requested, str):
            raise LockError(f"{shown}: models[{i}].requested: must be a string or null")
        terms: dict[str, Any] = raw["terms"] if isinstance(raw.get("terms"), dict) else {}
        entry = LockEntry(
            raw["id"], requested, raw["commit"], terms, str(raw.get("verdicts_sha256", ""))
        )
        out[entry.key] = entry
    return out


def render(entries: Iterable[LockEntry], tool_version: str) -> str:
    models = [
        {
            "id": e.id,
            "requested": e.requested,
            "commit": e.commit,
            "terms": dict(e.terms),
            "verdicts_sha256": e.verdicts_sha256,
        }
        for e in sorted(entries, key=lambda e: (e.id, e.requested or ""))
    ]
    doc = {"lockfile": SCHEMA, "generated_by": f"openaudit {tool_version}", "models": models}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
