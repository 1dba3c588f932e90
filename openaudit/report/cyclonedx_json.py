"""CycloneDX ML-BOM JSON (`--format cyclonedx-json`), 1.6 by default or 1.7 (`--cyclonedx-version`).

Each audited model is a `machine-learning-model` component with a model card built here
(`cyclonedx-python-lib` cannot write one): the Hub task, the parameter count, the training datasets
by reference, and the card's considerations as far as the audit read them. Its bases are
`pedigree.ancestors`, its datasets `data` components, every part pinned by commit (version, purl,
distribution URL). Licences carry `acknowledgement`: `declared` (what the repository says) and
`concluded` (openaudit's reading; absent when the audit could not decide). A `formulation` records,
per part, the evidence the concluded licence was read from; in 1.7, `citations` point each
concluded licence (by JSON pointer) at that evidence. The document is built as plain data and
checked with the library's strict validator for the chosen version before it is written.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

from openaudit import __version__
from openaudit.model import Evidence, Scorecard
from openaudit.report import bom
from openaudit.report.bom import Licences, ModelBom, Part

VERSIONS = ("1.6", "1.7")
TOOL_REF = "tool:openaudit"


class CycloneDXInvalid(RuntimeError):
    """The strict validator refused the document: a bug of this module, never the user's input."""


def _ref(part: Part) -> str:
    return f"{part.kind}:{part.repo_id}@{part.commit or 'unknown'}"


def _licence_entries(
    licences: Licences, ack: str, refs: dict[str, bom.LicenceRef], version: str, ref: str
) -> list[dict[str, Any]]:
    """`licenses` items for one acknowledgement; none for NOASSERTION or NONE (properties say it)."""
    if licences.state != "known" or not licences.ids:
        return []
    if version != "1.6":
        return [
            {"expression": licences.expression, "acknowledgement": ack, "bom-ref": f"{ack}:{ref}"}
        ]
    from cyclonedx.spdx import is_supported_id

    # 1.6 takes either one expression or a list of licences: a list keeps both acknowledgements.
    out = []
    for i in licences.ids:
        if is_supported_id(i):
            entry: dict[str, Any] = {"id": i}
        else:
            r = refs.get(i)
            entry = {"name": r.name if r else i}
            if r and bom.safe_url(r.pointer):
                entry["url"] = r.pointer
        entry["acknowledgement"] = ack
        entry["bom-ref"] = f"{ack}:{ref}:{i}"
        out.append({"license": entry})
    return out


def _properties(part: Part) -> list[dict[str, str]]:
    props = [
        {"name": "openaudit:declared-licence", "value": part.declared.expression},
        {"name": "openaudit:concluded-licence", "value": part.concluded.expression},
    ]
    if part.relation:
        props.append(
            {
                "name": "openaudit:relation",
                "value": f"{part.parent} is {bom.relation_words(part.relation)} {part.repo_id}",
            }
        )
    if part.problem:
        props.append({"name": "openaudit:not-read", "value": part.problem})
    return props


def _component(
    part: Part, refs: dict[str, bom.LicenceRef], version: str, ref: str | None = None
) -> dict[str, Any]:
    ref = ref or _ref(part)
    c: dict[str, Any] = {
        "type": "machine-learning-model" if part.kind == "model" else "data",
        "bom-ref": ref,
        "group": part.owner,
        "name": part.name,
    }
    if part.commit:
        c["version"] = part.commit
    licences = _licence_entries(part.declared, "declared", refs, version, ref)
    licences += _licence_entries(part.concluded, "concluded", refs, version, ref)
    if licences:
        c["licenses"] = licences
    if part.purl:
        c["purl"] = part.purl
    if bom.safe_url(part.url):
        c["externalReferences"] = [{"type": "distribution", "url": part.url}]
    if part.kind == "dataset":
        c["data"] = [{"type": "dataset", "name": part.repo_id}]
    c["properties"] = _properties(part)
    return c


def _model_card(b: ModelBom, datasets: list[str]) -> dict[str, Any]:
    """The model card from what the audit read; a field the audit did not read is left out."""
    d = b.details
    params: dict[str, Any] = {}
    if d.get("pipeline_tag"):
        params["task"] = str(d["pipeline_tag"])
    architectures = d.get("architectures") or []
    if architectures or d.get("model_type"):
        params["modelArchitecture"] = str(architectures[0] if architectures else d["model_type"])
    if datasets:
        params["datasets"] = [{"ref": r} for r in datasets]
    card: dict[str, Any] = {"bom-ref": f"model-card:{_ref(b.root)}"}
    if params:
        card["modelParameters"] = params
    sections = d.get("card_sections") or []
    readme = b.root.url.replace("/tree/", "/blob/", 1) + "/README.md" if b.root.url else "README.md"
    considerations: dict[str, Any] = {}
    if "limitations" in sections:
        considerations["technicalLimitations"] = [
            f"The model card has a limitations section: {readme}"
        ]
    if "intended_use" in sections:
        considerations["useCases"] = [f"The model card has an intended-use section: {readme}"]
    if considerations:
        card["considerations"] = considerations
    props = [{"name": "openaudit:licence-status", "value": b.verdict.dimension("licence").status}]
    props += [
        {"name": f"openaudit:{n}", "value": b.verdict.dimension(n).status}
        for n in ("commercial_use", "weights", "training_data", "code", "documentation")
    ]
    props.append({"name": "openaudit:osaid", "value": b.verdict.osaid})
    if d.get("parameters"):
        props.append({"name": "openaudit:parameters", "value": str(d["parameters"])})
    props += [{"name": "openaudit:unknown", "value": u} for u in b.unknowns]
    props += [{"name": "openaudit:licence-conflict", "value": c} for c in b.conflicts]
    card["properties"] = props
    return card


def _evidence_input(e: Evidence) -> dict[str, Any]:
    what = f"{e.source} {e.locator}" + (f": {e.excerpt}" if e.excerpt else "")
    url = bom.safe_url(e.url)
    if url is not None:
        return {
            "resource": {"externalReference": {"type": "evidence", "url": url, "comment": what}}
        }
    return {"parameters": [{"name": f"{e.source} {e.locator}", "value": e.excerpt or e.locator}]}


def _evidence(part: Part) -> tuple[Evidence, ...]:
    """What the concluded licence of a part was read from: the audit's citations for the model,
    the repository at its commit for a base or dataset."""
    if part.evidence:
        return part.evidence
    return (Evidence("api", "cardData.license", "", part.url),) if part.url else ()


def _task(part: Part, evidence: tuple[Evidence, ...]) -> dict[str, Any]:
    ref = f"evidence:{_ref(part)}"
    task: dict[str, Any] = {
        "bom-ref": ref,
        "uid": ref,
        "name": f"conclude the licence of {part.repo_id}",
        "taskTypes": ["scan"],
    }
    inputs = list(
        {json.dumps(i, sort_keys=True): i for i in map(_evidence_input, evidence)}.values()
    )
    if inputs:
        task["inputs"] = inputs
    return task


def _assemble(
    boms: tuple[ModelBom, ...], refs: dict[str, bom.LicenceRef], version: str
) -> tuple[list[dict[str, Any]], list[tuple[str, Part, dict[str, Any]]]]:
    """Components, and for each part with a concluded licence: its JSON pointer, part and component."""
    components: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    cited: list[tuple[str, Part, dict[str, Any]]] = []
    for b in boms:
        index.setdefault(_ref(b.root), len(components))
        if index[_ref(b.root)] == len(components):
            components.append(_component(b.root, refs, version))
    for b in boms:  # audited models first: a model's own audit is its evidence, not a base's
        i = index[_ref(b.root)]
        if all(p is not b.root for _, p, _ in cited) and "modelCard" not in components[i]:
            cited.append((f"/components/{i}", b.root, components[i]))
    for b in boms:
        i = index[_ref(b.root)]
        root = components[i]
        if "modelCard" in root:
            continue
        datasets = []
        for part in b.datasets:
            if _ref(part) not in index:
                index[_ref(part)] = len(components)
                components.append(_component(part, refs, version))
                cited.append((f"/components/{index[_ref(part)]}", part, components[-1]))
            datasets.append(_ref(part))
        root["modelCard"] = _model_card(b, datasets)
        ancestors = []
        for k, base in enumerate(b.bases):
            a = _component(base, refs, version, f"ancestor:{_ref(b.root)}:{_ref(base)}")
            ancestors.append(a)
            cited.append((f"/components/{i}/pedigree/ancestors/{k}", base, a))
        if ancestors:
            root["pedigree"] = {"ancestors": ancestors}
    return components, cited


def document(scorecard: Scorecard, version: str = "1.6") -> dict[str, Any]:
    if version not in VERSIONS:
        raise ValueError(f"CycloneDX version {version} (one of {', '.join(VERSIONS)})")
    boms, refs = bom.build(scorecard)
    when = bom.created(scorecard)
    serial = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{bom.NAMESPACE}/{bom.digest(boms, when, 'cyclonedx')}"
    )
    components, cited = _assemble(boms, refs, version)
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": bom.iso(when),
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "bom-ref": TOOL_REF,
                        "name": bom.TOOL,
                        "version": __version__,
                    }
                ]
            },
        },
        "components": components,
    }
    tasks: dict[str, dict[str, Any]] = {}
    evidence: dict[str, tuple[Evidence, ...]] = {}
    for _, part, _ in cited:  # audited models come first: their own evidence wins
        if part.concluded.state == "known" and _ref(part) not in tasks:
            evidence[_ref(part)] = _evidence(part)
            tasks[_ref(part)] = _task(part, evidence[_ref(part)])
    if tasks:
        doc["formulation"] = [
            {
                "bom-ref": "formula:openaudit",
                "workflows": [
                    {
                        "bom-ref": "workflow:openaudit-audit",
                        "uid": "workflow:openaudit-audit",
                        "name": "openaudit audit",
                        "taskTypes": ["scan"],
                        "tasks": list(tasks.values()),
                    }
                ],
            }
        ]
    if version != "1.6":
        doc["citations"] = _citations(cited, evidence, bom.iso(when))
    return doc


def _citations(
    cited: list[tuple[str, Part, dict[str, Any]]],
    evidence_of: dict[str, tuple[Evidence, ...]],
    when: str,
) -> list[dict[str, Any]]:
    """One citation per concluded licence, pointing it at the formulation task that lists its evidence."""
    out = []
    for pointer, part, component in cited:
        for j, entry in enumerate(component.get("licenses", [])):
            lic = entry.get("license", entry)
            if lic.get("acknowledgement") != "concluded":
                continue
            evidence = evidence_of[_ref(part)]
            out.append(
                {
                    "bom-ref": f"citation:{lic['bom-ref']}",
                    "pointers": [f"{pointer}/licenses/{j}"],
                    "timestamp": when,
                    "attributedTo": TOOL_REF,
                    "process": f"evidence:{_ref(part)}",
                    "note": "Concluded by openaudit from: "
                    + "; ".join(
                        f"{e.source} {e.locator}" + (f" <{e.url}>" if e.url else "")
                        for e in evidence
                    ),
                }
            )
    return out


@cache
def _validator(version: str) -> Any:
    """The library's strict validator for `version`, with one change: an ASCII IRI is checked by
    the URI grammar (`rfc3986-validator`), which RFC 3987 makes equivalent for ASCII, instead of
    the Earley parser of `rfc3987-syntax` (0.04 s per URL: a batch's BOM took minutes)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from jsonschema import FormatChecker

    strict = JsonStrictValidator(SchemaVersion.from_version(version))._validator
    original = getattr(strict, "format_checker")  # noqa: B009 (not in the Validator protocol)
    checker = FormatChecker()
    checker.checkers = dict(original.checkers)
    # The CLI keeps `rfc3987_syntax` from loading with jsonschema (seconds at every start), so
    # the IRI formats may be missing here: they are registered either way, the grammar parser
    # imported only when a non-ASCII IRI needs it.
    for name, rule, grammar in (
        ("iri", "URI", "iri"),
        ("iri-reference", "URI_reference", "iri_reference"),
    ):
        slow = original.checkers[name][0] if name in original.checkers else _grammar(grammar)
        checker.checkers[name] = (_ascii_first(rule, slow), ValueError)
    return strict.evolve(format_checker=checker)


def _grammar(rule: str) -> Any:
    """RFC 3987's full grammar for `rule`, imported on first use."""

    def check(instance: object) -> bool:
        import importlib
        import sys

        if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]  # the CLI's start-up block (openaudit.cli)
        syntax = importlib.import_module("rfc3987_syntax")
        return not isinstance(instance, str) or bool(syntax.is_valid_syntax(rule, instance))

    return check


def _ascii_first(rule: str, slow: Any) -> Any:
    from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

    def check(instance: object) -> bool:
        if isinstance(instance, str) and instance.isascii():
            return bool(validate_rfc3986(instance, rule=rule))
        return bool(slow(instance))

    return check


def validate(text: str, version: str) -> str | None:
    """The strict validator's first complaint about a document, or None when it is valid."""
    error = next(iter(_validator(version).iter_errors(json.loads(text))), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message[:300]}"


def render(scorecard: Scorecard, cyclonedx_version: str = "1.6") -> str:
    text = json.dumps(document(scorecard, cyclonedx_version), indent=2, ensure_ascii=False) + "\n"
    error = validate(text, cyclonedx_version)
    if error is not None:
        raise CycloneDXInvalid(f"CycloneDX {cyclonedx_version} document invalid: {error[:300]}")
    return text
