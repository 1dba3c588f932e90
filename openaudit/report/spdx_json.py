"""SPDX 2.3 JSON (`--format spdx-json`), written and validated by `spdx-tools`.

One package per audited model, per base it derives from and per dataset it names, each pinned to
the commit read (version, purl, download location). Declared licences are what the repository
says; concluded licences are openaudit's reading, NOASSERTION whenever the audit could not decide.
Licences without an SPDX id are LicenseRef- entries whose extracted text points to where the text
is, since openaudit does not reproduce licence texts. The unknowns and licence conflicts become
review annotations, so a reader of the BOM alone still sees what was not settled.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Any

from openaudit import __version__
from openaudit.model import Scorecard
from openaudit.report import bom
from openaudit.report.bom import Licences, ModelBom, Part

#: How a base relates to what derives from it, in SPDX 2.3 relationship types.
_BASE_RELATION = {
    "finetune": "DESCENDANT_OF",
    "merge": "DESCENDANT_OF",
    "quantized": "VARIANT_OF",
    "adapter": "DEPENDS_ON",
}


class SpdxInvalid(RuntimeError):
    """spdx-tools found the document invalid: a bug of this module, never the user's input."""


def _spdx_ref(part: Part) -> str:
    digest = hashlib.sha256(f"{part.key}@{part.commit}".encode()).hexdigest()[:8]
    return f"SPDXRef-{part.kind}-{bom.licence_ref_id(part.repo_id)[11:]}-{digest}"


def _licence(licences: Licences) -> Any:
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.model.spdx_none import SpdxNone

    if licences.state == "none":
        return SpdxNone()
    if licences.state == "noassertion" or not licences.ids:
        return SpdxNoAssertion()
    return spdx_licensing.parse(licences.expression)


def _package(part: Part, comment: str, licence_comment: str | None) -> Any:
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    # spdx-tools takes only URLs with a domain name: a Hub reached by address (a mirror, the
    # tests' loopback Hub) is named in the comment instead.
    location = part.url if part.url and not validate_download_location(part.url) else None
    if part.url and location is None:
        comment += f" Read at {part.url}."
    refs = []
    if part.purl:
        refs.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", part.purl)
        )
    return Package(
        spdx_id=_spdx_ref(part),
        name=part.repo_id,
        download_location=location or SpdxNoAssertion(),
        version=part.commit,
        supplier=SpdxNoAssertion(),
        files_analyzed=False,
        license_concluded=_licence(part.concluded),
        license_declared=_licence(part.declared),
        license_comment=licence_comment,
        copyright_text=SpdxNoAssertion(),
        comment=comment,
        external_references=refs,
        primary_package_purpose=PackagePurpose.OTHER,
        release_date=bom.parse_time(part.released),
    )


def _root_comments(b: ModelBom) -> tuple[str, str]:
    v = b.verdict
    what = f"Machine-learning model on the Hugging Face Hub, audited by openaudit at commit {b.root.commit or 'unknown'}."
    cited = "; ".join(
        f"{e.source} {e.locator}" + (f" <{e.url}>" if e.url else "") for e in b.root.evidence
    )
    status = v.dimension("licence").status
    licence = f"openaudit licence status: {status}. {v.dimension('licence').summary}"
    return what, licence + (f" Evidence: {cited}" if cited else "")


def _related_comment(part: Part) -> str:
    what = "Base model" if part.kind == "model" else "Training dataset"
    return f"{what} as read for the audit." + (f" Not read: {part.problem}" if part.problem else "")


def _relationships(b: ModelBom, ids: dict[str, str]) -> list[Any]:
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType

    out = []
    root = ids[b.root.key]
    for base in b.bases:
        parent = ids.get(f"model:{base.parent}", root)
        kind = _BASE_RELATION.get(base.relation or "", "DESCENDANT_OF")
        words = f"{base.parent} is {bom.relation_words(base.relation)} {base.repo_id}"
        out.append(Relationship(parent, RelationshipType[kind], ids[base.key], comment=words))
    for data in b.datasets:
        out.append(
            Relationship(
                root,
                RelationshipType.GENERATED_FROM,
                ids[data.key],
                comment=f"{b.root.repo_id} is trained on {data.repo_id}",
            )
        )
    return out


def _annotations(b: ModelBom, spdx_id: str, when: datetime) -> list[Any]:
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.annotation import Annotation, AnnotationType

    tool = Actor(ActorType.TOOL, f"{bom.TOOL}-{__version__}")
    notes = [f"unknown: {u}" for u in b.unknowns]
    notes += [f"licence conflict: {c}" for c in b.conflicts]
    return [Annotation(spdx_id, AnnotationType.REVIEW, tool, when, note) for note in notes]


def document(scorecard: Scorecard) -> Any:
    """The spdx-tools Document of the audit (validated by `render`)."""
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.validation.uri_validators import validate_url

    boms, refs = bom.build(scorecard)
    when = bom.created(scorecard)
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name="openaudit AI bill of materials",
        document_namespace=f"{bom.NAMESPACE}/spdx/{bom.digest(boms, when, 'spdx-2.3')}",
        creators=[Actor(ActorType.TOOL, f"{bom.TOOL}-{__version__}")],
        created=when,
        creator_comment="Licences concluded from cited evidence; NOASSERTION where it could not decide.",
    )
    packages: dict[str, Any] = {}
    ids: dict[str, str] = {}
    relationships: list[Any] = []
    annotations: list[Any] = []
    for b in boms:  # a model audited in the run is described by its own audit, not as a base
        what, licence = _root_comments(b)
        packages.setdefault(b.root.key + str(b.root.commit), _package(b.root, what, licence))
    for b in boms:
        for part in (*b.bases, *b.datasets):
            packages.setdefault(
                part.key + str(part.commit), _package(part, _related_comment(part), None)
            )
        ids.update({p.key: _spdx_ref(p) for p in b.parts})
        relationships.append(
            Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ids[b.root.key])
        )
        relationships.extend(_relationships(b, ids))
        annotations.extend(_annotations(b, ids[b.root.key], when))
    extracted = [
        ExtractedLicensingInfo(
            license_id=r.id,
            extracted_text=f"The text of this licence is not reproduced here; it is at: {r.pointer}",
            license_name=r.name,
            cross_references=[r.pointer] if not validate_url(r.pointer) else [],
        )
        for r in refs.values()
    ]
    unique = {p.spdx_id: p for p in packages.values()}
    return Document(
        creation_info=info,
        packages=list(unique.values()),
        relationships=list(
            {
                (r.spdx_element_id, r.relationship_type, r.related_spdx_element_id): r
                for r in relationships
            }.values()
        ),
        annotations=annotations,
        extracted_licensing_info=extracted,
    )


def validate(doc: Any) -> list[str]:
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    return [m.validation_message for m in validate_full_spdx_document(doc, "SPDX-2.3")]


def render(scorecard: Scorecard) -> str:
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    doc = document(scorecard)
    messages = validate(doc)
    if messages:
        raise SpdxInvalid(f"SPDX 2.3 document invalid: {messages[0]} ({len(messages)} messages)")
    out = io.StringIO()
    write_document_to_stream(doc, out, validate=False)
    return out.getvalue().rstrip("\n") + "\n"
