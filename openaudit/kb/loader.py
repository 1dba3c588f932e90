"""Read and validate the licence knowledge base (`licenses/*.yml`).

The knowledge base is data reviewed by lawyers, so a malformed entry must stop
the tool with a message naming the file and the field rather than silently
change a verdict. Lookups never guess: a name that does not normalise to a
known id, SPDX id, name or alias is simply not found.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openaudit.model import Evidence, LicenseEntry, LicenseRule
from openaudit.resources import data_dir
from openaudit.validated import schema_error

VOCABULARY_DIR = Path("vocabulary")


def _vocabulary(name: str, key: str, flag: str) -> frozenset[str]:
    import yaml

    file = data_dir("licenses") / VOCABULARY_DIR / f"{name}.yml"
    try:
        doc = _load_yaml(yaml, file.read_text(encoding="utf-8"))
        return frozenset(item for item, spec in doc[key].items() if spec[flag] is True)
    except (
        OSError,
        UnicodeDecodeError,
        yaml.YAMLError,
        KeyError,
        TypeError,
        AttributeError,
    ) as exc:
        raise KnowledgeBaseError(f"{_display(file)}: {key}: unreadable ({exc})") from None


@functools.cache
def use_restrictions() -> frozenset[str]:
    """Restrictions that stop a licence from being "open" (`licenses/vocabulary/restrictions.yml`)."""
    return _vocabulary("restrictions", "restrictions", "limits_use")


@functools.cache
def term_meanings() -> Mapping[str, str]:
    """Plain words for every condition and restriction (`licenses/vocabulary/*.yml`)."""
    import yaml

    out: dict[str, str] = {}
    for name in ("conditions", "restrictions"):
        file = data_dir("licenses") / VOCABULARY_DIR / f"{name}.yml"
        try:
            doc = _load_yaml(yaml, file.read_text(encoding="utf-8"))
            out.update({k: str(spec["meaning"]) for k, spec in doc[name].items()})
        except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise KnowledgeBaseError(f"{_display(file)}: {name}: unreadable ({exc})") from None
    return out


@functools.cache
def vocabulary(name: str) -> Mapping[str, Mapping[str, Any]]:
    """One vocabulary file (`licenses/vocabulary/<name>.yml`) as {value: its properties}."""
    import yaml

    file = data_dir("licenses") / VOCABULARY_DIR / f"{name}.yml"
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        items = doc[name]
        if not isinstance(items, dict) or not all(isinstance(v, dict) for v in items.values()):
            raise TypeError("expected a mapping of values to their properties")
        return {str(k): dict(v) for k, v in items.items()}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise KnowledgeBaseError(f"{_display(file)}: {name}: unreadable ({exc})") from None


@functools.cache
def free_kinds() -> frozenset[str]:
    """Kinds whose terms can be free (`licenses/vocabulary/kinds.yml`)."""
    return _vocabulary("kinds", "kinds", "free")


@functools.cache
def restricted_kinds() -> frozenset[str]:
    """Kinds whose grant always carries restrictions (`licenses/vocabulary/kinds.yml`)."""
    return _vocabulary("kinds", "kinds", "restricted")


# Words that vary between spellings of one licence name and carry no meaning for identity.
_NOISE_WORDS = frozenset({"the", "version", "international", "unported", "generic"})
_SEPARATORS = re.compile(r"[\s_\-,;:/()\"'`]+")


class KnowledgeBaseError(Exception):
    """A knowledge-base file is unreadable or invalid; the message names the file and the field."""


def normalise(name: str) -> str:
    """Fold a name to a lookup key so spellings seen in cards meet: case, separators, "version".

    Only words that never tell two licences apart are dropped, and `_index` rejects a key
    that would name two entries, so folding can widen a match but never change its target.
    """
    tokens = [t for t in _SEPARATORS.split(name.strip().lower()) if t]
    kept: list[str] = []
    for token in tokens:
        if token in _NOISE_WORDS:
            continue
        if re.fullmatch(r"v\d+(\.\d+)*", token):
            token = token[1:]
        elif token == "licence":
            token = "license"
        kept.append(token)
    return "".join(kept)


@dataclass(frozen=True)
class KnowledgeBase:
    """The loaded entries with exact, normalised lookups."""

    entries: tuple[LicenseEntry, ...]
    _by_id: Mapping[str, LicenseEntry] = field(repr=False, hash=False, compare=False)
    _by_spdx: Mapping[str, LicenseEntry] = field(repr=False, hash=False, compare=False)
    _by_key: Mapping[str, LicenseEntry] = field(repr=False, hash=False, compare=False)
    #: Model families whose names imply a licence, checked against the entries above.
    families: tuple[ModelFamily, ...] = field(default=(), repr=False, hash=False, compare=False)
    #: sha256 of licence texts a person has reviewed and accepted as they are, although they
    #: differ from the reference text (`reviewed_texts.yml`, see `_read_reviewed`).
    reviewed_texts: frozenset[str] = field(
        default=frozenset(), repr=False, hash=False, compare=False
    )

    def get(self, license_id: str) -> LicenseEntry | None:
        return self._by_id.get(license_id)

    def by_spdx(self, spdx_id: str) -> LicenseEntry | None:
        return self._by_spdx.get(spdx_id.lower())

    def find(self, name: str) -> LicenseEntry | None:
        """Resolve an id, SPDX id, name or alias as written in a card; None when unknown."""
        if not name or not name.strip():
            return None
        exact = self._by_id.get(name.strip().lower())
        return exact or self._by_key.get(normalise(name))

    def __iter__(self) -> Iterator[LicenseEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _display(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _read(path: Path) -> dict[str, Any]:
    import yaml

    where = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = _load_yaml(yaml, text)
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{where}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise KnowledgeBaseError(f"{where}: expected a mapping of fields, got {type(doc).__name__}")
    error = schema_error("license.schema.json", text, doc)
    if error is not None:
        raise KnowledgeBaseError(f"{where}: {error[0] or '(entry)'}: {error[1]}")
    if doc["id"] != path.stem:
        raise KnowledgeBaseError(
            f"{where}: id: '{doc['id']}' does not match the file name '{path.stem}'"
        )
    return doc


def _rules(items: Sequence[Mapping[str, Any]]) -> tuple[LicenseRule, ...]:
    return tuple(LicenseRule(name=i["name"], value=i.get("value")) for i in items)


def _entry(doc: Mapping[str, Any], path: Path) -> LicenseEntry:
    source = _display(path)
    evidence = tuple(
        Evidence(
            source="knowledge-base",
            locator=f"{source}#{e['field']}" + (f" ({e['section']})" if e.get("section") else ""),
            excerpt=e["quote"],
            url=e.get("url"),
        )
        for e in doc["evidence"]
    )
    restricted = any(r["name"] in use_restrictions() for r in doc["restrictions"])
    names = {r["name"] for r in (*doc["conditions"], *doc["restrictions"])}
    term_evidence = []
    for number, (e, ev) in enumerate(zip(doc["evidence"], evidence, strict=True)):
        for term in e.get("terms", ()):
            if term not in names:
                raise KnowledgeBaseError(
                    f"{source}: evidence.{number}.terms: '{term}' is not a condition or restriction of this entry"
                )
            term_evidence.append((term, ev))
    return LicenseEntry(
        id=doc["id"],
        name=doc["name"],
        spdx=doc["spdx"],
        kind=doc["kind"],
        commercial_use=doc["commercial_use"],
        osi_approved=doc["osi_approved"],
        osaid_compatible=doc["osaid_compatible"],
        aliases=tuple(doc["aliases"]),
        url=doc["url"],
        conditions=_rules(doc["conditions"]),
        restrictions=_rules(doc["restrictions"]),
        evidence=evidence,
        notes=doc["notes"],
        source_file=source,
        use_restricted=restricted,
        term_evidence=tuple(term_evidence),
        restricted=restricted or doc["kind"] in restricted_kinds(),
        free=doc["kind"] in free_kinds()
        and not restricted
        and (doc["osi_approved"] is True or doc["osaid_compatible"] is True),
    )


def _index(entries: Sequence[LicenseEntry]) -> KnowledgeBase:
    by_id: dict[str, LicenseEntry] = {}
    by_spdx: dict[str, LicenseEntry] = {}
    by_key: dict[str, LicenseEntry] = {}
    for entry in entries:
        if entry.id in by_id:
            raise KnowledgeBaseError(
                f"{entry.source_file}: id: '{entry.id}' is already defined in "
                f"{by_id[entry.id].source_file}"
            )
        by_id[entry.id] = entry
        spdx = entry.spdx.lower()
        if spdx in by_spdx:
            raise KnowledgeBaseError(
                f"{entry.source_file}: spdx: '{entry.spdx}' is already used by "
                f"{by_spdx[spdx].source_file}"
            )
        by_spdx[spdx] = entry
    for entry in entries:
        for label, name in [("id", entry.id), ("spdx", entry.spdx), ("name", entry.name)] + [
            ("aliases", a) for a in entry.aliases
        ]:
            key = normalise(name)
            other = by_key.get(key)
            if other is not None and other.id != entry.id:
                raise KnowledgeBaseError(
                    f"{entry.source_file}: {label}: '{name}' is ambiguous, it also names "
                    f"'{other.id}' ({other.source_file})"
                )
            by_key[key] = entry
    ordered = tuple(sorted(entries, key=lambda e: e.id))
    return KnowledgeBase(entries=ordered, _by_id=by_id, _by_spdx=by_spdx, _by_key=by_key)


def load_kb(extra_dirs: Sequence[Path] = ()) -> KnowledgeBase:
    """Load the shipped knowledge base plus any `extra_dirs` (an organisation's own licences).

    Cached per tuple of folders, so every stage shares one validated copy. An id or SPDX id
    defined twice is an error, so an extra folder cannot silently change a shipped entry.
    `OPENAUDIT_REVIEWED_TEXTS` names an organisation's list of reviewed licence texts.
    """
    reviewed = os.environ.get("OPENAUDIT_REVIEWED_TEXTS", "").strip()
    return _load(tuple(Path(d) for d in extra_dirs), reviewed)


REVIEWED_FILE = Path("reviewed") / "reviewed_texts.yml"


def _read_reviewed(files: Sequence[Path]) -> frozenset[str]:
    """sha256 values of reviewed licence texts, from every `reviewed_texts.yml` given.

    Format: `reviewed_texts: [{sha256: <64 hex>, note: "who reviewed what, when"}, ...]`.
    A person lists a text here after reading the changes an audit quoted; the audit then
    treats that exact text as the licence it was identified as.
    """
    import yaml

    out: set[str] = set()
    for file in files:
        if not file.is_file():
            continue
        where = _display(file)
        try:
            doc = _load_yaml(yaml, file.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(f"{where}: cannot read: {exc}") from exc
        items = doc.get("reviewed_texts") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise KnowledgeBaseError(f"{where}: reviewed_texts: expected a list")
        for i, item in enumerate(items):
            digest = item.get("sha256") if isinstance(item, dict) else item
            if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
                raise KnowledgeBaseError(
                    f"{where}: reviewed_texts.{i}: sha256: expected 64 hex digits"
                )
            out.add(digest.lower())
    return frozenset(out)


@functools.cache
def _load(extra_dirs: tuple[Path, ...], reviewed: str = "") -> KnowledgeBase:
    folders = [data_dir("licenses"), *extra_dirs]
    entries: list[LicenseEntry] = []
    for folder in folders:
        if not folder.is_dir():
            raise KnowledgeBaseError(f"{folder}: not a folder of licence files")
        for path in sorted(folder.glob("*.yml")):
            entries.append(_entry(_read(path), path))
    kb = _index(entries)
    reviewed_files = [folder / REVIEWED_FILE for folder in folders]
    if reviewed:
        if not Path(reviewed).is_file():
            raise KnowledgeBaseError(f"{reviewed}: OPENAUDIT_REVIEWED_TEXTS: no such file")
        reviewed_files.append(Path(reviewed))
    return dataclasses.replace(
        kb,
        families=_read_families(data_dir("licenses") / FAMILIES_FILE, kb),
        reviewed_texts=_read_reviewed(reviewed_files),
    )


FAMILIES_FILE = Path("families") / "families.yml"


@dataclass(frozen=True)
class ModelFamily:
    """A model family whose name implies a licence (`licenses/families/families.yml`)."""

    id: str
    name: str
    #: Knowledge-base ids; empty when the family is restricted but its variant is not nameable.
    licences: tuple[str, ...]
    #: Word sequences (already folded) that claim the family.
    names: tuple[tuple[str, ...], ...]
    #: Tags the Hub derives from `model_type`: they name the code, not the weights' origin.
    hub_architecture_tags: tuple[str, ...] = ()
    source: str = ""
    #: Hub owners that publish the family: their own models do not "claim" it.
    publishers: tuple[str, ...] = ()
    #: Families of one line (`llama`) ordered by release: a newer member's licence honours an
    #: older member's claim (a Llama 3.1 model named "Llama-3-..." carries a Llama licence).
    series: str = ""
    order: int = 0
    #: Size-dependent licences: ("3b", licences) pairs, read from the size after the name or the
    #: model's parameter count; `licences` then applies to every other size.
    sizes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def licences_for(self, size: str | None) -> tuple[str, ...]:
        """The licences of the member of `size` (e.g. "3b"); the family's default otherwise."""
        for key, licences in self.sizes:
            if size == key:
                return licences
        return self.licences


def family_words(text: str) -> tuple[str, ...]:
    """Fold a name, tag or phrase to the words families are matched on."""
    return tuple(w for w in re.split(r"[^a-z0-9]+", text.lower()) if w)


def load_families(path: Path | None = None) -> tuple[ModelFamily, ...]:
    """The family table (the shipped one is also `load_kb().families`)."""
    if path is None:
        return load_kb().families
    return _read_families(path, load_kb())


def _read_families(file: Path, kb: KnowledgeBase) -> tuple[ModelFamily, ...]:
    """Checked against the knowledge base so a typo cannot hide a licence."""
    import yaml

    where = _display(file)
    try:
        doc = _load_yaml(yaml, file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{where}: cannot read: {exc}") from exc
    raw = doc.get("families") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        raise KnowledgeBaseError(f"{where}: families: expected a list")
    out: list[ModelFamily] = []
    for index, item in enumerate(raw):
        at = f"{where}: families.{index}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise KnowledgeBaseError(f"{at}: id: expected a string")
        names = item.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise KnowledgeBaseError(f"{at} ({item['id']}): names: expected a list of strings")
        licences = item.get("licences") or []
        for lic in licences:
            if kb.get(lic) is None:
                raise KnowledgeBaseError(
                    f"{at} ({item['id']}): licences: '{lic}' is not in the knowledge base"
                )
        out.append(
            ModelFamily(
                id=item["id"],
                name=str(item.get("name", item["id"])),
                licences=tuple(licences),
                names=tuple(family_words(n) for n in names),
                hub_architecture_tags=tuple(
                    str(t).lower() for t in item.get("hub_architecture_tags") or ()
                ),
                source=str(item.get("source", "")).strip(),
                publishers=tuple(str(p).lower() for p in item.get("publishers") or ()),
                series=str(item.get("series") or ""),
                order=int(item.get("order") or 0),
                sizes=_sizes(item.get("sizes"), at, item["id"], kb),
            )
        )
    return tuple(out)


def _sizes(
    raw: Any, at: str, fid: str, kb: KnowledgeBase
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{at} ({fid}): sizes: expected a mapping of size to licences")
    out = []
    for size, licences in raw.items():
        if not re.fullmatch(r"\d+(\.\d+)?[bm]", str(size)) or not isinstance(licences, list):
            raise KnowledgeBaseError(f"{at} ({fid}): sizes: '{size}' must be like 3b or 0.5b")
        for lic in licences:
            if kb.get(lic) is None:
                raise KnowledgeBaseError(
                    f"{at} ({fid}): sizes: '{lic}' is not in the knowledge base"
                )
        out.append((str(size), tuple(licences)))
    return tuple(out)


def _load_yaml(yaml: Any, text: str) -> Any:
    """The project's own data (trusted): libyaml's safe loader when present, 5-10x faster."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
