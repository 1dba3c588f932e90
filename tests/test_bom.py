"""AI bills of materials: SPDX 2.3, SPDX 3.0.1 (AI and Dataset profiles), CycloneDX 1.6 and 1.7.

Each document is checked by the validator of its own standard's library; the fixtures and the
shared corpus are each audited once, and every format is rendered from that one audit.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from openaudit.model import ModelRef, Scorecard
from openaudit.report import cyclonedx_json, render, spdx3_json, spdx_json
from openaudit.report.json_format import read_scorecard
from openaudit.resources import data_dir
from tests.fakehub import FakeHub
from tests.helpers import run_cli

DATE = "2025-01-02T03:04:05Z"
FORMATS = (
    ("spdx-json", {}),
    ("spdx3-json", {}),
    ("cyclonedx-json", {"cyclonedx_version": "1.6"}),
    ("cyclonedx-json", {"cyclonedx_version": "1.7"}),
)


@pytest.fixture(scope="module")
def fixtures(fixture_scorecard: Scorecard) -> Scorecard:
    return replace(fixture_scorecard, generated_at=DATE)


@pytest.fixture(scope="module")
def corpus(_corpus_hub_server: FakeHub, tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    """Every corpus model, audited once for all the formats."""
    from openaudit.pipeline import AuditOptions, audit

    hub = _corpus_hub_server
    hub.reset()
    options = AuditOptions(endpoint=hub.url, cache_dir=tmp_path_factory.mktemp("bom-store"))
    try:
        scorecard = audit([ModelRef(i) for i in hub.repo_ids("model")], options)
    finally:
        hub.reset()
    return replace(scorecard, generated_at=DATE)


def _on_the_hub(scorecard: Scorecard) -> Scorecard:
    """The same audit as if read from huggingface.co: spdx-tools only takes URLs with a domain
    name, so the loopback Hub's URLs would all become NOASSERTION download locations."""
    text = render(scorecard, "json")
    return replace(
        read_scorecard(re.sub(r"http://127\.0\.0\.1:\d+", "https://huggingface.co", text)),
        generated_at=scorecard.generated_at,
    )


def _check_all(scorecard: Scorecard) -> None:
    assert spdx_json.validate(spdx_json.document(scorecard)) == []
    assert spdx3_json.check(render(scorecard, "spdx3-json")) == []
    for version in cyclonedx_json.VERSIONS:
        text = json.dumps(cyclonedx_json.document(scorecard, version))
        assert cyclonedx_json.validate(text, version) is None


def test_every_fixture_validates_in_every_format(fixtures: Scorecard) -> None:
    _check_all(fixtures)
    _check_all(_on_the_hub(fixtures))


def test_every_corpus_model_validates_in_every_format(corpus: Scorecard) -> None:
    _check_all(corpus)
    _check_all(_on_the_hub(corpus))


def test_fast_validator_agrees_with_the_library_strict_one(fixtures: Scorecard) -> None:
    """The validator used is the library's strict one with an ASCII IRI check by the URI grammar;
    on one model's BOM the unmodified validator gives the same answer, valid and invalid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    one = replace(
        fixtures, models=tuple(v for v in fixtures.models if v.id == "acme/llama-3.1-acme-chat")
    )
    for version in cyclonedx_json.VERSIONS:
        doc = cyclonedx_json.document(_on_the_hub(one), version)
        strict = JsonStrictValidator(SchemaVersion.from_version(version))
        assert strict.validate_str(json.dumps(doc)) is None
        assert cyclonedx_json.validate(json.dumps(doc), version) is None
        doc["components"][0]["externalReferences"][0]["url"] = "https://exa mple.org/a b"
        assert strict.validate_str(json.dumps(doc)) is not None
        assert cyclonedx_json.validate(json.dumps(doc), version) is not None


def _by_name(spdx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spdx["packages"]}


def test_spdx23_packages_licences_and_relationships(fixtures: Scorecard) -> None:
    doc = json.loads(render(_on_the_hub(fixtures), "spdx-json"))
    packages = _by_name(doc)
    lora = packages["acme/llama-3.1-acme-chat-sql-lora"]
    # Declares Apache-2.0; the Llama base's terms bind it, so the conclusion carries both.
    assert lora["licenseDeclared"] == "Apache-2.0"
    assert lora["licenseConcluded"] == "Apache-2.0 AND LicenseRef-openaudit-llama3.1"
    assert lora["versionInfo"] == "9e4a05c1c80f42fe0b15f6201cab4ba5fdec9c69"
    assert lora["downloadLocation"].startswith(
        "https://huggingface.co/acme/llama-3.1-acme-chat-sql-lora/tree/9e4a05c"
    )
    purls = [r["referenceLocator"] for r in lora["externalRefs"]]
    assert purls == [
        "pkg:huggingface/acme/llama-3.1-acme-chat-sql-lora@9e4a05c1c80f42fe0b15f6201cab4ba5fdec9c69"
    ]
    # An undecided licence is NOASSERTION, never a guess; its reason is an annotation.
    family = packages["cover-org/cc-family-model"]
    assert family["licenseConcluded"] == "NOASSERTION"
    assert any(a["comment"].startswith("unknown: licence") for a in family["annotations"])
    # A licence with no SPDX id is a LicenseRef whose extracted text points at the licence file.
    custom = packages["fixture-org/custom-licence-lm"]
    assert custom["licenseDeclared"] == "LicenseRef-fixture-research-license"
    extracted = {e["licenseId"]: e for e in doc["hasExtractedLicensingInfos"]}
    pointer = extracted["LicenseRef-fixture-research-license"]["extractedText"]
    assert pointer.endswith(
        "/fixture-org/custom-licence-lm/blob/" + custom["versionInfo"] + "/LICENSE"
    )
    # A card naming a non-commercial licence beside `mit` declares both, and both bind.
    nc_name = packages["decl-org/mit-with-nc-name"]
    both = "MIT AND LicenseRef-acme-non-commercial-model-license"
    assert nc_name["licenseDeclared"] == nc_name["licenseConcluded"] == both
    # No licence at all, read: NONE.
    assert packages["acme/unlicensed-classifier"]["licenseDeclared"] == "NONE"
    # Every LicenseRef used has its extracted-licensing entry.
    fields = [p[k] for p in doc["packages"] for k in ("licenseDeclared", "licenseConcluded")]
    used = set(re.findall(r"LicenseRef-[A-Za-z0-9.-]+", " ".join(fields)))
    assert used <= {e["licenseId"] for e in doc["hasExtractedLicensingInfos"]}
    ids = {p["SPDXID"]: p["name"] for p in doc["packages"]}
    rels = {
        (ids.get(r["spdxElementId"]), r["relationshipType"], ids.get(r["relatedSpdxElement"]))
        for r in doc["relationships"]
    }
    assert ("acme/llama-3.1-acme-chat-sql-lora", "DEPENDS_ON", "acme/llama-3.1-acme-chat") in rels
    assert ("acme/llama-3.1-acme-chat", "DESCENDANT_OF", "fixture-org/llama-3.1-fixture-8b") in rels
    assert ("acme/llama-3.1-acme-chat", "GENERATED_FROM", "fixture-org/nc-dialogues") in rels
    assert (
        "fixture-org/llama-3.1-acme-chat-GGUF",
        "VARIANT_OF",
        "acme/llama-3.1-acme-chat",
    ) in rels
    assert packages["fixture-org/nc-dialogues"]["licenseConcluded"] == "CC-BY-NC-4.0"
    # A dataset that could not be read is still listed, with nothing asserted.
    missing = packages["acme/internal-instructions"]
    assert missing["licenseConcluded"] == missing["licenseDeclared"] == "NOASSERTION"


def test_spdx3_profiles(fixtures: Scorecard) -> None:
    import spdx_python_model

    text = render(_on_the_hub(fixtures), "spdx3-json")
    model, objects = spdx_python_model.load_data(json.loads(text))
    ai = {p.name: p for p in objects.foreach_type(model.ai_AIPackage)}
    data = {p.name: p for p in objects.foreach_type(model.dataset_DatasetPackage)}
    chat = ai["acme/llama-3.1-acme-chat"]
    assert chat.software_packageVersion == "3911a3779b68a16b841caccc63dd8a2c40f4312d"
    assert chat.suppliedBy.name == "acme"
    assert chat.software_packageUrl.startswith("pkg:huggingface/acme/llama-3.1-acme-chat@3911a37")
    assert chat.ai_informationAboutApplication == "Hub task (pipeline_tag): text-generation"
    assert list(chat.ai_typeOfModel) == ["llama", "LlamaForCausalLM"]
    assert chat.ai_energyConsumption is None  # no card states it
    assert "fixture-org/nc-dialogues" in data
    # Unread repositories cannot fill the profiles' required fields: plain packages, with why.
    plain = {p.name for p in objects.foreach_type(model.software_Package)} - set(ai) - set(data)
    assert {"acme/internal-instructions", "acme/retired-base-7b"} <= plain
    rels = [
        (
            r.from_.name,
            str(r.relationshipType).rsplit("/", 1)[-1],
            [t.name for t in r.to if hasattr(t, "name")],
        )
        for r in objects.foreach_type(model.Relationship)
    ]
    assert (
        "acme/llama-3.1-acme-chat",
        "trainedOn",
        [
            "fixture-org/open-web-text-sample",
            "fixture-org/nc-dialogues",
            "acme/internal-instructions",
        ],
    ) in rels
    concluded = {
        r.from_.name: r.to[0]
        for r in objects.foreach_type(model.Relationship)
        if str(r.relationshipType).endswith("hasConcludedLicense")
    }
    assert str(concluded["cover-org/cc-family-model"]).endswith("NoAssertionLicense")
    # A licence name beside an id is never dropped from the conclusion.
    assert concluded["decl-org/mit-with-nc-name"].simplelicensing_licenseExpression == (
        "MIT AND LicenseRef-acme-non-commercial-model-license"
    )
    assert concluded["acme/llama-3.1-acme-chat-sql-lora"].simplelicensing_licenseExpression == (
        "Apache-2.0 AND LicenseRef-openaudit-llama3.1"
    )


def _pointer(doc: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def test_cyclonedx_17_citations_point_at_the_audit_evidence(fixtures: Scorecard) -> None:
    """Each concluded licence of an audited model is cited, and the citation's process lists
    exactly the evidence the JSON audit cites for the licence."""
    audit = {m["id"]: m for m in json.loads(render(fixtures, "json"))["models"]}
    doc = json.loads(render(fixtures, "cyclonedx-json", {"cyclonedx_version": "1.7"}))
    tasks = {t["bom-ref"]: t for t in doc["formulation"][0]["workflows"][0]["tasks"]}
    cited = {}
    for c in doc["citations"]:
        (pointer,) = c["pointers"]
        licence = _pointer(doc, pointer)
        assert licence["acknowledgement"] == "concluded"
        cited[pointer.rsplit("/licenses", 1)[0]] = (licence, tasks[c["process"]])
    roots = 0
    for i, component in enumerate(doc["components"]):
        if component["type"] != "machine-learning-model":
            continue
        model = audit[f"{component['group']}/{component['name']}"]
        concluded = [
            e for e in component.get("licenses", []) if e.get("acknowledgement") == "concluded"
        ]
        props = {p["name"]: p["value"] for p in component["properties"]}
        if model["licence"]["status"] == "unknown" or not model["audited"]:
            assert concluded == []
            assert props["openaudit:concluded-licence"] == "NOASSERTION"
            continue
        if not (model["details"].get("effective_licence_ids") or model["licence"]["ids"]):
            assert concluded == []  # read, and no licence given: SPDX's NONE, said as a property
            assert props["openaudit:concluded-licence"] == "NONE"
            continue
        assert concluded, model["id"]
        licence, task = cited[f"/components/{i}"]
        expected = {
            e["url"] or e["locator"] for f in model["licence"]["findings"] for e in f["evidence"]
        }
        got = {
            i["resource"]["externalReference"]["url"]
            if "resource" in i
            else i["parameters"][0]["value"]
            for i in task["inputs"]
        }
        assert got == expected, model["id"]
        roots += 1
    assert roots >= 20


def test_cyclonedx_model_card_pedigree_and_licences(fixtures: Scorecard) -> None:
    doc = json.loads(render(fixtures, "cyclonedx-json"))
    assert doc["specVersion"] == "1.6" and "citations" not in doc
    comps = {f"{c['group']}/{c['name']}": c for c in doc["components"]}
    lora = comps["acme/llama-3.1-acme-chat-sql-lora"]
    assert (
        lora["purl"]
        == "pkg:huggingface/acme/llama-3.1-acme-chat-sql-lora@9e4a05c1c80f42fe0b15f6201cab4ba5fdec9c69"
    )
    acks = {
        (e["license"].get("id") or e["license"]["name"], e["license"]["acknowledgement"])
        for e in lora["licenses"]
    }
    assert acks == {
        ("Apache-2.0", "declared"),
        ("Apache-2.0", "concluded"),
        ("Llama 3.1 Community License Agreement", "concluded"),
    }
    ancestors = [f"{a['group']}/{a['name']}" for a in lora["pedigree"]["ancestors"]]
    assert ancestors == ["acme/llama-3.1-acme-chat", "fixture-org/llama-3.1-fixture-8b"]
    chat = comps["acme/llama-3.1-acme-chat"]
    refs = [d["ref"] for d in chat["modelCard"]["modelParameters"]["datasets"]]
    data = {c["bom-ref"]: c for c in doc["components"] if c["type"] == "data"}
    assert set(refs) <= set(data)
    nc = data[next(r for r in refs if "nc-dialogues" in r)]
    assert {e["license"]["id"] for e in nc["licenses"]} == {"CC-BY-NC-4.0"}
    assert chat["modelCard"]["modelParameters"]["task"] == "text-generation"
    assert chat["modelCard"]["modelParameters"]["modelArchitecture"] == "LlamaForCausalLM"


@pytest.mark.parametrize(("fmt", "options"), FORMATS)
def test_same_bytes_from_the_audit_and_from_its_json(
    fixtures: Scorecard, fmt: str, options: dict[str, str]
) -> None:
    """Deterministic for a date, and a stored audit renders the same BOM as the live one."""
    live = render(fixtures, fmt, options)
    assert render(fixtures, fmt, options) == live
    stored = replace(read_scorecard(render(fixtures, "json")), generated_at=DATE)
    assert render(stored, fmt, options) == live
    later = render(replace(fixtures, generated_at="2025-02-01T00:00:00Z"), fmt, options)
    assert later != live


def test_cli_no_token_no_local_path(tmp_path: Path) -> None:
    token = "hf_openauditSECRETtoken0123456789"
    for fmt in ("spdx-json", "spdx3-json", "cyclonedx-json"):
        run = run_cli(
            "audit",
            "--offline",
            "--examples",
            "--format",
            fmt,
            "--date",
            "2025-01-02",
            "--cache-dir",
            str(tmp_path),
            env={"HF_TOKEN": token},
        )
        assert run.code == 0, run.stderr
        assert token not in run.stdout and token not in run.stderr
        assert str(tmp_path) not in run.stdout
        assert str(data_dir("examples")) not in run.stdout
        assert "2025-01-02T00:00:00Z" in run.stdout


def test_cli_from_json_and_options(fixtures: Scorecard, tmp_path: Path) -> None:
    stored = tmp_path / "audit.json"
    stored.write_text(render(fixtures, "json"), encoding="utf-8")
    run = run_cli(
        "audit",
        "--from-json",
        str(stored),
        "--format",
        "cyclonedx-json",
        "--cyclonedx-version",
        "1.7",
        "--date",
        DATE,
    )
    assert run.code == 3  # the stored audit has models that could not be read
    assert json.loads(run.stdout)["specVersion"] == "1.7"
    assert run.stdout == render(fixtures, "cyclonedx-json", {"cyclonedx_version": "1.7"})
    run = run_cli(
        "audit", "--from-json", str(stored), "--format", "json", "--cyclonedx-version", "1.7"
    )
    assert run.code == 2 and "--cyclonedx-version" in run.stderr
    run = run_cli(
        "audit", "--from-json", str(stored), "--format", "spdx-json", "--date", "yesterday"
    )
    assert run.code == 2 and run.stderr.count("\n") == 1 and "--date" in run.stderr


def test_spdx3_check_finds_what_is_missing(fixtures: Scorecard) -> None:
    """The read-back check is not a formality: a package without its version, a dataset without
    its type, or a second concluded licence are each reported."""
    text = render(fixtures, "spdx3-json")
    doc = json.loads(text)
    graph = doc["@graph"]
    ai = next(o for o in graph if o["type"] == "ai_AIPackage")
    del ai["software_packageVersion"]
    assert any("software_packageVersion missing" in p for p in spdx3_json.check(json.dumps(doc)))
    doc = json.loads(text)
    data = next(o for o in doc["@graph"] if o["type"] == "dataset_DatasetPackage")
    del data["dataset_datasetType"]
    assert spdx3_json.check(json.dumps(doc))
    doc = json.loads(text)
    concluded = next(o for o in doc["@graph"] if o.get("relationshipType") == "hasConcludedLicense")
    doc["@graph"].append({**concluded, "spdxId": concluded["spdxId"] + "-again"})
    assert any("hasConcludedLicense" in p for p in spdx3_json.check(json.dumps(doc)))
    assert spdx3_json.check("{}")


def test_spdx23_validator_is_not_a_formality(fixtures: Scorecard) -> None:
    doc = spdx_json.document(fixtures)
    assert spdx_json.validate(doc) == []
    doc.extracted_licensing_info = []  # LicenseRefs with no text or pointer
    assert any("LicenseRef" in m for m in spdx_json.validate(doc))


def test_hostile_links_never_invalidate_a_bom(fixtures: Scorecard) -> None:
    """Links come from cards: one with spaces, another scheme or non-ASCII text is kept out of
    URL fields (named in text instead), and every document still validates."""
    doc = json.loads(render(fixtures, "json"))
    bad = [
        "http://exa mple.org/licence",
        "javascript:alert(1)",
        "https://例え.jp/ライセンス",
        "h\x01",
    ]
    for n, m in enumerate(doc["models"]):
        for f in m["licence"]["findings"]:
            for e in f["evidence"]:
                e["url"] = bad[n % len(bad)]
        for lf in m["details"].get("licence_files") or []:
            lf["path"] = bad[(n + 1) % len(bad)]
    hostile = replace(read_scorecard(json.dumps(doc)), generated_at=DATE)
    _check_all(hostile)
    spdx = json.loads(render(hostile, "spdx-json"))
    urls = [u for e in spdx["hasExtractedLicensingInfos"] for u in e.get("seeAlsos", [])]
    assert all(u.startswith(("http://", "https://")) and " " not in u for u in urls)
    cdx = json.loads(render(hostile, "cyclonedx-json", {"cyclonedx_version": "1.7"}))
    inputs = [i for t in cdx["formulation"][0]["workflows"][0]["tasks"] for i in t["inputs"]]
    assert any("parameters" in i for i in inputs)  # the bad links are named, not linked
    linked = [i["resource"]["externalReference"]["url"] for i in inputs if "resource" in i]
    assert not any(u in bad for u in linked)


def test_iri_checks_hold_when_the_cli_kept_the_grammar_from_loading(
    fixtures: Scorecard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI stops jsonschema from loading the RFC 3987 grammar (seconds at every start); the
    CycloneDX validator still checks IRIs, loading the grammar only for a non-ASCII one."""
    import sys

    monkeypatch.setitem(sys.modules, "rfc3987_syntax", None)  # type: ignore[arg-type]
    cyclonedx_json._validator.cache_clear()
    try:
        one = replace(
            fixtures,
            models=tuple(v for v in fixtures.models if v.id == "acme/llama-3.1-acme-chat"),
        )
        for version in cyclonedx_json.VERSIONS:
            doc = cyclonedx_json.document(_on_the_hub(one), version)
            assert cyclonedx_json.validate(json.dumps(doc), version) is None
            ref = doc["components"][0]["externalReferences"][0]
            ref["url"] = "https://exa mple.org/a b"
            assert cyclonedx_json.validate(json.dumps(doc), version) is not None
            ref["url"] = "https://example.org/modèle"
            assert cyclonedx_json.validate(json.dumps(doc), version) is None
            ref["url"] = "https://exa mple.org/modèle"
            assert cyclonedx_json.validate(json.dumps(doc), version) is not None
    finally:
        cyclonedx_json._validator.cache_clear()
