"""SPDX 3.0.1 JSON-LD with the AI and Dataset profiles (`--format spdx3-json`), via `spdx-python-model`.

A model read from the Hub at a commit is an `ai_AIPackage`, a dataset read so a
`dataset_DatasetPackage`, each with what the profiles require: supplier (the Hub owner, as an
Agent: the Hub does not say whether it is a person or an organisation), the commit-pinned
download location, the commit as version, the commit date as release time, and exactly one
declared and one concluded licence relationship. A repository that could not be read has no
commit and no date to give, so it is a plain `software_Package` saying why: the profiles'
required properties are never filled with guesses. AI fields are set only where the audit read
them (the Hub task, the card's training summary, a limitations section).
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from openaudit import __version__
from openaudit.model import Scorecard
from openaudit.report import bom
from openaudit.report.bom import Licences, ModelBom, Part

_NOASSERTION_LICENCE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoAssertionLicense"
_NONE_LICENCE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoneLicense"
_BASE_RELATION = {
    "finetune": "descendantOf",
    "merge": "descendantOf",
    "quantized": "hasVariant",
    "adapter": "dependsOn",
}


class _Writer:
    """Builds the elements of one document, each with an IRI stable across runs."""

    def __init__(self, spdx: Any, base: str, creation: Any) -> None:
        self.spdx = spdx
        self.base = base
        self.creation = creation
        self.objects: dict[str, Any] = {}

    def iri(self, kind: str, *names: str) -> str:
        h = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
        return f"{self.base}#{kind}-{h}"

    def add(self, obj: Any) -> Any:
        self.objects.setdefault(obj._id, obj)
        return self.objects[obj._id]

    def agent(self, name: str) -> Any:
        return self.add(
            self.spdx.Agent(_id=self.iri("agent", name), name=name, creationInfo=self.creation)
        )

    def licence(self, licences: Licences, refs: dict[str, bom.LicenceRef]) -> Any:
        if licences.state == "noassertion" or (licences.state == "known" and not licences.ids):
            return _NOASSERTION_LICENCE
        if licences.state == "none":
            return _NONE_LICENCE
        custom = [
            self.spdx.DictionaryEntry(key=i, value=refs[i].pointer)
            for i in licences.ids
            if i in refs and bom.safe_url(refs[i].pointer)
        ]
        return self.add(
            self.spdx.simplelicensing_LicenseExpression(
                _id=self.iri("licence", licences.expression),
                creationInfo=self.creation,
                simplelicensing_licenseExpression=licences.expression,
                simplelicensing_customIdToUri=custom,
            )
        )

    def relate(self, source: Any, kind: str, targets: list[Any], comment: str = "") -> None:
        names = [t if isinstance(t, str) else t._id for t in targets]
        rel = self.spdx.Relationship(
            _id=self.iri("relationship", source._id, kind, *names),
            creationInfo=self.creation,
            from_=source,
            relationshipType=getattr(self.spdx.RelationshipType, kind),
            to=targets,
        )
        if comment:
            rel.comment = comment
        self.add(rel)


def _profiled(part: Part) -> bool:
    """Whether the part has everything its profile requires, read rather than guessed."""
    return bool(part.commit and part.url and part.released and not part.problem)


def _package(w: _Writer, part: Part, refs: dict[str, bom.LicenceRef]) -> Any:
    spdx = w.spdx
    purpose = "model" if part.kind == "model" else "data"
    iri = w.iri(part.kind, part.repo_id, str(part.commit))
    if iri in w.objects:  # audited itself, or named by two models: described once
        return w.objects[iri]
    if not _profiled(part):
        pkg = spdx.software_Package(_id=iri, name=part.repo_id, creationInfo=w.creation)
        pkg.software_primaryPurpose = getattr(spdx.software_SoftwarePurpose, purpose)
        pkg.comment = "Not read, so no commit, date or licence can be given" + (
            f": {part.problem}" if part.problem else " (no commit-pinned Hub copy)."
        )
        if part.url:
            pkg.software_downloadLocation = part.url
        return w.add(pkg)
    cls = spdx.ai_AIPackage if part.kind == "model" else spdx.dataset_DatasetPackage
    pkg = cls(_id=iri, name=part.repo_id, creationInfo=w.creation)
    pkg.suppliedBy = w.agent(part.owner)
    pkg.software_downloadLocation = part.url
    pkg.software_packageVersion = part.commit
    pkg.releaseTime = bom.parse_time(part.released)
    pkg.software_primaryPurpose = getattr(spdx.software_SoftwarePurpose, purpose)
    if part.purl:
        pkg.software_packageUrl = part.purl
    if part.kind == "dataset":
        # The Hub's dataset metadata does not say the data's type in SPDX's terms.
        pkg.dataset_datasetType = [spdx.dataset_DatasetType.noAssertion]
    w.add(pkg)
    w.relate(pkg, "hasDeclaredLicense", [w.licence(part.declared, refs)])
    w.relate(pkg, "hasConcludedLicense", [w.licence(part.concluded, refs)])
    return pkg


def _ai_fields(pkg: Any, b: ModelBom) -> None:
    """AI-profile fields only where the audit read them."""
    if b.root.commit is None or not hasattr(pkg, "ai_informationAboutApplication"):
        return
    d = b.details
    if d.get("pipeline_tag"):
        pkg.ai_informationAboutApplication = f"Hub task (pipeline_tag): {d['pipeline_tag']}"
    if d.get("model_type"):
        pkg.ai_typeOfModel = [str(d["model_type"]), *(str(a) for a in d.get("architectures") or [])]
    if d.get("training_summary"):
        pkg.ai_informationAboutTraining = str(d["training_summary"])
    if "limitations" in (d.get("card_sections") or []) and b.root.url:
        card = b.root.url.replace("/tree/", "/blob/", 1) + "/README.md"
        pkg.ai_limitation = f"The model card has a limitations section: {card}"


def _model(w: _Writer, b: ModelBom, refs: dict[str, bom.LicenceRef]) -> Any:
    root = _package(w, b.root, refs)
    _ai_fields(root, b)
    packages = {b.root.repo_id: root}
    for base in b.bases:
        packages[base.repo_id] = _package(w, base, refs)
    for base in b.bases:
        parent = packages.get(base.parent or "", root)
        kind = _BASE_RELATION.get(base.relation or "", "descendantOf")
        words = f"{base.parent} is {bom.relation_words(base.relation)} {base.repo_id}"
        if kind == "hasVariant":  # 3.0.1 says it from the base's side
            w.relate(packages[base.repo_id], kind, [parent], words)
        else:
            w.relate(parent, kind, [packages[base.repo_id]], words)
    datasets = [_package(w, d, refs) for d in b.datasets]
    if datasets:
        w.relate(root, "trainedOn", datasets)
    notes = [f"unknown: {u}" for u in b.unknowns] + [f"licence conflict: {c}" for c in b.conflicts]
    for note in notes:
        w.add(
            w.spdx.Annotation(
                _id=w.iri("annotation", root._id, note),
                creationInfo=w.creation,
                annotationType=w.spdx.AnnotationType.review,
                subject=root,
                statement=note,
            )
        )
    return root


def document(scorecard: Scorecard) -> Any:
    """The SHACLObjectSet of the audit."""
    from spdx_python_model import v3_0_1 as spdx

    boms, refs = bom.build(scorecard)
    when = bom.created(scorecard)
    base = f"{bom.NAMESPACE}/spdx3/{bom.digest(boms, when, 'spdx-3.0.1')}"
    creation = spdx.CreationInfo(specVersion="3.0.1", created=when)
    w = _Writer(spdx, base, creation)
    tool = w.add(
        spdx.Tool(
            _id=w.iri("tool", bom.TOOL), name=f"{bom.TOOL} {__version__}", creationInfo=creation
        )
    )
    creation.createdBy = [w.agent(bom.TOOL)]
    creation.createdUsing = [tool]
    for b in boms:  # a model audited in the run is described by its own audit, not as a base
        _package(w, b.root, refs)
    roots = [_model(w, b, refs) for b in boms]
    doc = spdx.SpdxDocument(
        _id=f"{base}#document",
        name="openaudit AI bill of materials",
        creationInfo=creation,
        rootElement=roots,
        element=sorted(w.objects.values(), key=lambda o: o._id),
        profileConformance=[
            getattr(spdx.ProfileIdentifierType, p)
            for p in ("core", "software", "simpleLicensing", "ai", "dataset")
        ],
    )
    return spdx.SHACLObjectSet([doc, *w.objects.values()])


#: What the AI and Dataset profiles of SPDX 3.0.1 require beyond the class's own minimums.
REQUIRED = {
    "ai_AIPackage": (
        "suppliedBy",
        "software_downloadLocation",
        "software_packageVersion",
        "releaseTime",
        "software_primaryPurpose",
    ),
    "dataset_DatasetPackage": (
        "suppliedBy",
        "software_downloadLocation",
        "software_packageVersion",
        "releaseTime",
        "software_primaryPurpose",
        "dataset_datasetType",
    ),
}


def _empty(value: Any) -> bool:
    return hasattr(value, "__len__") and len(value) == 0


def check(text: str) -> list[str]:
    """Read a document back with spdx-python-model's JSON-LD deserializer and check what the
    profiles require: every required property, and exactly one declared and one concluded
    licence per AI or dataset package. An empty list means conformant."""
    import spdx_python_model

    try:
        model, objects = spdx_python_model.load_data(json.loads(text))
    except Exception as exc:  # the deserializer raises several types; all mean unreadable
        return [f"does not read back: {type(exc).__name__}: {exc}"]
    try:
        # Writing the objects read back runs the library's own checks of required properties
        # and minimum counts on every element.
        model.JSONLDSerializer().serialize_data(objects)
    except ValueError as exc:
        return [f"reads back, but: {exc}"]
    problems: list[str] = []
    licences: dict[tuple[str, str], int] = {}
    for rel in objects.foreach_type(model.Relationship):
        kind = str(rel.relationshipType).rsplit("/", 1)[-1]
        if kind in ("hasDeclaredLicense", "hasConcludedLicense") and rel.from_ is not None:
            key = (rel.from_._id, kind)
            licences[key] = licences.get(key, 0) + 1
    for cls_name, required in REQUIRED.items():
        for pkg in objects.foreach_type(getattr(model, cls_name)):
            for prop in required:
                value = getattr(pkg, prop)
                if value is None or value == "" or (not isinstance(value, str) and _empty(value)):
                    problems.append(f"{cls_name} {pkg.name}: {prop} missing")
            for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
                if licences.get((pkg._id, kind), 0) != 1:
                    problems.append(f"{cls_name} {pkg.name}: not exactly one {kind}")
    return problems


class Spdx3Invalid(RuntimeError):
    """The document does not read back conformant: a bug of this module, never the user's input."""


def render(scorecard: Scorecard) -> str:
    from spdx_python_model import v3_0_1 as spdx

    data = spdx.JSONLDSerializer().serialize_data(document(scorecard))
    graph = data.get("@graph")
    if isinstance(graph, list):
        graph.sort(key=lambda o: (o.get("type", ""), o.get("spdxId") or o.get("@id") or ""))
    out = io.StringIO()
    json.dump(data, out, indent=2, ensure_ascii=False)
    text = out.getvalue() + "\n"
    problems = check(text)
    if problems:
        raise Spdx3Invalid(f"SPDX 3.0.1 document not conformant: {problems[0]} ({len(problems)})")
    return text
