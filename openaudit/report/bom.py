"""What the bill-of-materials formats share: one reading of an audit into pinned parts.

SPDX 2.3, SPDX 3.0.1 and CycloneDX say the same things in different shapes: a model, the bases
it derives from and the datasets it was trained on, each pinned to the commit that was read,
with the licence its repository declares and the licence openaudit concluded. Reading that once
here keeps the three formats from disagreeing. Everything comes from the verdict and the
`details` the JSON report carries, so a stored audit (`--from-json`) renders the same BOM.

Caution carries over: a concluded licence is NOASSERTION whenever the audit's licence status is
`unknown`, and a part that could not be read has NOASSERTION for every licence, never NONE.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from openaudit.model import DIMENSIONS, Evidence, Scorecard, Verdict
from openaudit.report.json_format import details

TOOL = "openaudit"
#: Where documents get their namespace: a name, never fetched.
NAMESPACE = "https://openaudit.dev/bom"
#: The Hub relation of a base (`base_model_relation`) in words the formats share.
RELATIONS = ("finetune", "adapter", "quantized", "merge")


@dataclass(frozen=True)
class LicenceRef:
    """A licence with no SPDX list id: named, with where its text is (never reproduced)."""

    id: str
    name: str
    pointer: str


@dataclass(frozen=True)
class Licences:
    """Licences that all apply (AND), or NONE (read, none given), or NOASSERTION (not known)."""

    ids: tuple[str, ...] = ()
    state: Literal["known", "none", "noassertion"] = "noassertion"

    @property
    def expression(self) -> str:
        if self.state == "known" and self.ids:
            return " AND ".join(self.ids)
        return "NONE" if self.state == "none" else "NOASSERTION"


NOASSERTION = Licences()


@dataclass(frozen=True)
class Part:
    """One repository of the bill: the audited model, a base or a dataset."""

    kind: Literal["model", "dataset"]
    repo_id: str
    commit: str | None
    url: str | None
    released: str | None
    declared: Licences
    concluded: Licences
    relation: str | None = None
    parent: str | None = None
    #: Why the part could not be read; empty when it was.
    problem: str = ""
    #: The evidence the audit cites for the concluded licence.
    evidence: tuple[Evidence, ...] = ()

    @property
    def owner(self) -> str:
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else self.repo_id

    @property
    def name(self) -> str:
        return self.repo_id.split("/", 1)[-1]

    @property
    def purl(self) -> str | None:
        """`pkg:huggingface/<owner>/<name>@<commit>`; datasets have no purl type of their own."""
        if self.kind != "model" or "/" not in self.repo_id or not self.commit:
            return None  # a folder on disk, or a repo never read, is not known on the Hub
        from packageurl import PackageURL

        return str(
            PackageURL(
                type="huggingface",
                namespace=self.owner,
                name=self.name,
                version=self.commit.lower(),
            )
        )

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.repo_id}"


@dataclass(frozen=True)
class ModelBom:
    """One audited model and everything it was read with."""

    root: Part
    bases: tuple[Part, ...]
    datasets: tuple[Part, ...]
    verdict: Verdict
    details: Mapping[str, Any] = field(hash=False)
    #: "dimension: summary" for every dimension the audit could not decide, then read problems.
    unknowns: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.root, *self.bases, *self.datasets)


@cache
def _kb() -> Any:
    from openaudit.kb import load_kb

    return load_kb()


_IDSTRING = re.compile(r"[^A-Za-z0-9.-]+")


def licence_ref_id(name: str) -> str:
    """A LicenseRef- id for a licence name: only letters, digits, '.' and '-' are allowed."""
    if name.startswith("LicenseRef-"):
        name = name[len("LicenseRef-") :]
    name = name.replace("+", "-plus")  # "openrail++" must not become "openrail", another licence
    return "LicenseRef-" + (_IDSTRING.sub("-", name).strip("-") or "unnamed")


def spdx_id(licence_id: str, refs: dict[str, LicenceRef], pointer: str | None = None) -> str:
    """The SPDX id of a knowledge-base id, else a LicenseRef- recorded in `refs` with a pointer."""
    entry = _kb().get(licence_id) or _kb().find(licence_id)
    if entry is not None and not entry.spdx.startswith("LicenseRef-"):
        return str(entry.spdx)
    if entry is not None:
        ref = LicenceRef(
            licence_ref_id(entry.spdx),
            entry.name,
            entry.url or f"openaudit knowledge base {entry.source_file}",
        )
    else:
        ref_id = licence_ref_id(licence_id)
        name = ref_id[len("LicenseRef-") :]
        ref = LicenceRef(
            ref_id, name, pointer or "named by the repository; text not identified by openaudit"
        )
    refs.setdefault(ref.id, ref)
    return ref.id


def _licences(ids: Iterable[str], refs: dict[str, LicenceRef], pointer: str | None) -> Licences:
    mapped = tuple(dict.fromkeys(spdx_id(i, refs, pointer) for i in ids if i))
    return Licences(mapped, "known") if mapped else Licences((), "none")


def _declared_ids(d: Mapping[str, Any]) -> list[str]:
    """The licences the card declares: `license` values, `other` named by `license_name`."""
    values = d.get("declared_licences") or []
    names = [str(v["value"]) for v in values if v.get("field") == "license_name"]
    out: list[str] = []
    for v in values:
        value = v.get("value")
        if v.get("field") in ("license", "tag") and isinstance(value, str):
            out.extend([value] if value != "other" or not names else [])
    # A name beside a licence id is declared too: `mit` with a non-commercial name is both.
    return out + names


def _licence_pointer(d: Mapping[str, Any]) -> str | None:
    """Where the licence text of the model can be read: its licence file or link, pinned."""
    url = safe_url(d.get("url"))
    files = [f["path"] for f in d.get("licence_files") or [] if f.get("kind") == "licence"]
    if files and str(files[0]).startswith(("http://", "https://")):
        return safe_url(files[0]) or url
    if files and url is not None:
        return safe_url(url.replace("/tree/", "/blob/", 1) + "/" + str(files[0])) or url
    return url


def _root(v: Verdict, d: Mapping[str, Any], refs: dict[str, LicenceRef]) -> Part:
    pointer = _licence_pointer(d)
    licence = v.dimension("licence")
    if not v.audited:
        declared, concluded = NOASSERTION, NOASSERTION
    else:
        declared = _licences(_declared_ids(d), refs, pointer)
        # Every licence the model names, and those its bases bind it to: one dropped would
        # make the conclusion more open than the evidence.
        effective = [*v.licence_ids, *(d.get("effective_licence_ids") or [])]
        if licence.status == "unknown":
            concluded = NOASSERTION
        else:
            concluded = _licences(effective, refs, pointer)
    evidence = tuple(dict.fromkeys(e for f in licence.findings for e in f.evidence))
    problem = "; ".join(f"{p.reason}: {p.detail}" for p in v.errors if p.subject == v.id)
    return Part(
        kind="model",
        repo_id=v.id,
        commit=d.get("commit") or (v.revision if v.audited else None),
        url=d.get("url"),
        released=d.get("last_modified") or d.get("created"),
        declared=declared,
        concluded=concluded,
        problem=problem if not v.audited else "",
        evidence=evidence,
    )


def _related(
    kind: Literal["model", "dataset"], r: Mapping[str, Any], refs: dict[str, LicenceRef]
) -> Part:
    readable = r.get("readable", r.get("status") in ("available", "gated"))
    problem = ""
    if not readable:
        p = r.get("problem") or {}
        problem = r.get("detail") or f"{p.get('reason', 'not read')}: {p.get('detail', '')}".strip(
            ": "
        )
    url = r.get("url")
    declared = _licences(r.get("licence_ids") or [], refs, url) if readable else NOASSERTION
    concluded = declared if readable and r.get("licence_known") else NOASSERTION
    return Part(
        kind=kind,
        repo_id=str(r["id"]),
        commit=r.get("commit"),
        url=url,
        released=r.get("last_modified"),
        declared=declared,
        concluded=concluded,
        relation=r.get("relation"),
        parent=r.get("parent"),
        problem=str(problem),
    )


def model_bom(v: Verdict, refs: dict[str, LicenceRef]) -> ModelBom:
    d = details(v)
    bases = tuple(_related("model", b, refs) for b in d.get("ancestors") or [])
    datasets = tuple(_related("dataset", s, refs) for s in d.get("training_datasets") or [])
    unknowns = [
        f"{v.dimension(n).name}: {v.dimension(n).summary}"
        for n in DIMENSIONS
        if v.dimension(n).status == "unknown"
    ]
    unknowns += [f"not read: {p.subject}: {p.reason} {p.detail}".strip() for p in v.errors]
    conflicts = [str(c) for c in d.get("licence_conflicts") or []]
    return ModelBom(
        root=_root(v, d, refs),
        bases=bases,
        datasets=datasets,
        verdict=v,
        details=d,
        unknowns=tuple(unknowns),
        conflicts=tuple(conflicts),
    )


def build(scorecard: Scorecard) -> tuple[tuple[ModelBom, ...], dict[str, LicenceRef]]:
    """Every model of the audit, and the LicenseRefs their licences needed."""
    refs: dict[str, LicenceRef] = {}
    boms = tuple(model_bom(v, refs) for v in scorecard.models)
    return boms, dict(sorted(refs.items()))


def created(scorecard: Scorecard) -> datetime:
    """When the document was made: the audit's time (`--date` fixes it), to the second, UTC."""
    text = scorecard.generated_at
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        when = None
    when = when or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (
        (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    )


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(boms: Iterable[ModelBom], when: datetime, fmt: str) -> str:
    """A stable name for a document: the same audit at the same date names the same document."""
    h = hashlib.sha256(f"{fmt}\n{iso(when)}".encode())
    for b in boms:
        for p in b.parts:
            h.update(f"\n{p.key}@{p.commit}".encode())
    return h.hexdigest()


def safe_url(url: object) -> str | None:
    """`url` if it is an absolute http(s) URL every format accepts; None for anything else a card
    may carry (spaces, other schemes, non-ASCII), so one hostile link never invalidates a BOM."""
    if not isinstance(url, str) or not url.isascii() or not url.startswith(("https://", "http://")):
        return None
    from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

    return url if validate_rfc3986(url, rule="URI") else None


def download_location(part: Part) -> str:
    """The commit-pinned URL, or NOASSERTION (a local folder, or a repo never read)."""
    return part.url or "NOASSERTION"


def relation_words(relation: str | None) -> str:
    return {
        "finetune": "fine-tuned from",
        "adapter": "an adapter on",
        "quantized": "a quantisation of",
        "merge": "a merge including",
    }.get(relation or "", "derived from")
