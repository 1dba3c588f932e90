"""Each distinct licence text identified once: by the hash of its text and the knowledge-base version.

A batch meets the same few licence texts over and over (every fine-tune of a vendor's model
ships the vendor's LICENSE); identification is the most expensive step of extraction. The
answer depends only on the text and on the knowledge base (its data and the identifier's
code), so it is kept under `(sha256(text), kb_version())`, in memory for the run and, when a
`persist` pair is given, in the evidence store, so a warm run identifies nothing again.
`identify_text` itself is unchanged: this wraps its public interface.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from openaudit.model import LicenseMatch, LicensePart, TextChange
from openaudit.resources import data_dir

#: (load(sha, version) -> JSON text or None, save(sha, version, JSON text)).
Persist = tuple[Callable[[str, str], str | None], Callable[[str, str, str], None]]


@cache
def kb_version(extra_dirs: tuple[Path, ...] = ()) -> str:
    """A digest of everything an identification depends on: the licence data and the code."""
    digest = hashlib.sha256()
    folders = [data_dir("licenses"), *extra_dirs]
    code = [Path(__file__).with_name(n) for n in ("identify.py", "notices.py", "loader.py")]
    files = [*code, *(p for f in folders for p in sorted(f.rglob("*")) if p.is_file())]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def match_to_json(match: LicenseMatch) -> str:
    return json.dumps(asdict(match), separators=(",", ":"))


def match_from_json(text: str) -> LicenseMatch:
    data: dict[str, Any] = json.loads(text)
    data["candidates"] = tuple(tuple(c) for c in data.get("candidates") or ())
    if data.get("lines") is not None:
        data["lines"] = tuple(data["lines"])
    data["parts"] = tuple(
        LicensePart(**{**p, "lines": tuple(p["lines"])}) for p in data.get("parts") or ()
    )
    data["changes"] = tuple(
        TextChange(
            **{**c, "lines": tuple(c["lines"]), "reference_lines": tuple(c["reference_lines"])}
        )
        for c in data.get("changes") or ()
    )
    data["ids"] = tuple(data.get("ids") or ())
    data["outside"] = tuple(tuple(o) for o in data.get("outside") or ())
    return LicenseMatch(**data)


class IdentifyMemo:
    """`identify_text(text, kb)` with each distinct text computed once."""

    def __init__(
        self, kb: Any, persist: Persist | None = None, extra_dirs: Sequence[Path] = ()
    ) -> None:
        self.kb = kb
        self.persist = persist
        self.version = kb_version(tuple(extra_dirs))
        self._seen: dict[str, LicenseMatch] = {}
        #: Identifications actually run (the rest came from memory or the store).
        self.computed = 0

    def __call__(self, text: str) -> LicenseMatch:
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        found = self._seen.get(key)
        if found is not None:
            return found
        if self.persist is not None:
            stored = self.persist[0](key, self.version)
            if stored is not None:
                try:
                    found = match_from_json(stored)
                except (ValueError, TypeError, KeyError):
                    found = None  # an unreadable row is computed again, never trusted
        if found is None:
            from openaudit.kb.identify import identify_text

            found = identify_text(text, self.kb)
            self.computed += 1
            if self.persist is not None:
                self.persist[1](key, self.version, match_to_json(found))
        self._seen[key] = found
        return found
