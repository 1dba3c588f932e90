"""Schema checks of openaudit's own data, remembered by content.

Every command loads the knowledge base and the rule packs, and checking their ~480 documents
against their JSON Schemas (importing jsonschema, then validating) cost about 0.2 s of CPU each
time: more than the rest of a warm pre-merge check. A document that passed its schema passes
again while neither changes, so a pass is remembered under SHA-256 of the schema's bytes and the
document's text, in the user's cache folder (`OPENAUDIT_CACHE_DIR`, else the platform's).

Only passes are remembered: a document that fails is checked again each time and fails with its
message. A memo that cannot be read or written costs the check again, never skips it; a line that
is not a digest matches nothing. Whoever can write the cache folder could mark a malformed entry
as checked, but could as well rewrite the evidence store there, so this adds no new trust.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from openaudit.resources import cache_root, schema_path

#: A memo past this size is started afresh (old knowledge-base versions pile up otherwise).
MAX_MEMO_BYTES = 1 << 20
_DIGEST = re.compile(r"[0-9a-f]{64}")


@cache
def _schema_digest(schema_name: str) -> str:
    return hashlib.sha256(schema_path(schema_name).read_bytes()).hexdigest()


def _memo_file(schema_name: str) -> Path:
    return cache_root() / "validated" / f"{schema_name}.{_schema_digest(schema_name)[:16]}.txt"


@cache
def _passed(memo: Path) -> set[str]:
    try:
        if memo.stat().st_size > MAX_MEMO_BYTES:
            memo.unlink()
            return set()
        lines = memo.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return set()
    return {line for line in lines if _DIGEST.fullmatch(line)}


def check_once(schema_name: str, text: str, check: Callable[[], None]) -> None:
    """Run `check` (which raises on a document its schema rejects) unless this exact text
    already passed this exact schema."""
    key = hashlib.sha256(
        _schema_digest(schema_name).encode() + b"\0" + text.encode("utf-8", "surrogatepass")
    ).hexdigest()
    memo = _memo_file(schema_name)
    passed = _passed(memo)
    if key in passed:
        return
    check()
    passed.add(key)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        # One short line per append: concurrent runs interleave whole lines, never halves.
        with memo.open("a", encoding="ascii") as out:
            out.write(key + "\n")
    except OSError:
        pass


class _Rejected(Exception):
    """The document broke its schema (the error itself is handed back, not raised)."""


@cache
def _validator(schema_name: str) -> Any:
    import jsonschema

    schema = json.loads(schema_path(schema_name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_error(schema_name: str, text: str, doc: Any) -> tuple[str, str] | None:
    """Where `doc` (parsed from `text`) first breaks the shipped schema `schema_name`: its
    dotted path ("" for the document itself) and the message; None when it conforms. Each
    loader words the error its own way; a conforming text is remembered (`check_once`)."""
    found: list[tuple[str, str]] = []

    def check() -> None:
        errors = sorted(
            _validator(schema_name).iter_errors(doc), key=lambda e: list(e.absolute_path)
        )
        if errors:
            found.append((".".join(str(p) for p in errors[0].absolute_path), errors[0].message))
            raise _Rejected

    try:
        check_once(schema_name, text, check)
    except _Rejected:
        return found[0]
    return None
