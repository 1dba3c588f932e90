"""Judged models remembered by their evidence: a re-audit of unchanged evidence judges nothing.

A verdict is a pure function of the bundle (what was read), the knowledge base, the rule
packs and openaudit's own code. The key is therefore the SHA-256 of the bundle's evidence
(every field of every snapshot, file hashes rather than texts, problems, linked texts'
hashes) and of `code_version()`, a digest of the package's source files, its licence data
and rule packs (and any `--rules` packs). Change any of them and the verdict is judged again.

Verdicts are kept in the evidence store as zlib-compressed pickles, read back by an
unpickler that can only build openaudit's own frozen model types and plain containers, so
a tampered store row fails to load (and is judged again) instead of running code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zlib
from dataclasses import is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openaudit import model
from openaudit.model import Bundle, Snapshot, Verdict
from openaudit.resources import data_dir

#: Local folders change without a commit: only Hub snapshots (fetched or stored) are keyed.
_KEYED_ORIGINS = frozenset({"hub", "store"})


@cache
def code_version(extra_rules: tuple[Path, ...] = ()) -> str:
    """A digest of everything judgement depends on besides the evidence: the contents of
    openaudit's source files, licence data and rule packs (bytecode left out; reading it made
    this 74 ms, the sources alone take about 15). Contents, not modification times: an edit
    to a rule pack within a file system's time resolution must still judge again."""
    digest = hashlib.sha256()
    package = Path(model.__file__).parent
    roots = [package, data_dir("licenses"), data_dir("rules"), *extra_rules]
    for root in roots:
        for path in _files(root):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    """Every file under `root` (or `root` itself), in a fixed order, bytecode left out."""
    if root.is_file():
        return [root]
    out: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        out.extend(Path(folder, n) for n in sorted(names) if not n.endswith(".pyc"))
    return out


def _snapshot(snap: Snapshot) -> dict[str, Any]:
    # The revision name ("main", or the commit itself) is how the commit was reached; with the
    # commit known, the evidence is the same whichever way it was asked for.
    return {
        "ref": [snap.ref.repo_id, snap.ref.kind, snap.ref.local_path],
        "commit": snap.commit,
        # Read now or from the store, a Hub snapshot is the same evidence (`facts.repo`).
        "origin": "hub" if snap.origin == "store" else snap.origin,
        "endpoint": snap.endpoint,
        "info": snap.info,
        "files": [[f.path, f.size, f.sha256, f.truncated, f.text is None] for f in snap.files],
        "problems": [[p.subject, p.reason, p.detail] for p in snap.problems],
    }


def evidence_key(bundle: Bundle, version: str) -> str | None:
    """The key of a bundle's verdict, or None when it must always be judged (local, unread)."""
    root = bundle.root
    if root is None or root.origin not in _KEYED_ORIGINS:
        return None
    if any(s.origin not in _KEYED_ORIGINS for s in bundle.related.values()):
        return None
    doc = {
        "version": version,
        "ref": [bundle.ref.repo_id, bundle.ref.kind],
        "root": _snapshot(root),
        "related": {k: _snapshot(s) for k, s in sorted(bundle.related.items())},
        "problems": [[p.subject, p.reason, p.detail] for p in bundle.problems],
        # The text is named by its hash; when and how it was read does not change a verdict
        # (a failed fetch is among the problems above).
        "linked": {url: [t.sha256, t.previous_sha256] for url, t in sorted(bundle.linked.items())},
    }
    data = _canonical(doc)
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _canonical(doc: dict[str, Any]) -> bytes | None:
    """The document as sorted-key JSON bytes, by orjson (4x the standard encoder); what orjson
    refuses (a lone surrogate, a key that is not a string) by the standard one instead."""
    import orjson

    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS, default=repr)
    except TypeError:
        pass
    try:
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError):  # keys no encoder can order: always judged
        return None
    return text.encode("utf-8", "surrogatepass")


def dump(verdict: Verdict) -> bytes:
    return zlib.compress(pickle.dumps(verdict, protocol=pickle.HIGHEST_PROTOCOL), 1)


_ALLOWED_BUILTINS = frozenset({"frozenset", "set", "tuple", "list", "dict", "str", "int", "float"})


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "openaudit.model":
            cls = getattr(model, name, None)
            if isinstance(cls, type) and is_dataclass(cls):
                return cls
        if module == "builtins" and name in _ALLOWED_BUILTINS:
            return super().find_class(module, name)
        if module == "types" and name == "MappingProxyType":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not an openaudit model type")


def load(data: bytes) -> Verdict | None:
    """The stored verdict, or None when the row is not one (it is judged again)."""
    try:
        value = _Unpickler(io.BytesIO(zlib.decompress(data))).load()
    except Exception:  # any unreadable row: judge again, never trust it
        return None
    return value if isinstance(value, Verdict) else None
