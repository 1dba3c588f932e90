"""The licence knowledge base: coverage of the Hub's ids, schema, loader errors and hard cases.

The hard cases are asserted value by value because a wrong `open` or `allowed` here
becomes a wrong verdict for every model that declares the licence.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from openaudit.kb import KnowledgeBaseError, load_kb, use_restrictions
from openaudit.model import LicenseEntry
from openaudit.resources import data_dir, schema_path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_TSV = Path(__file__).resolve().parents[1].parent / "shared" / "hub_licenses.tsv"
HUB_IDS = [
    line.strip()
    for line in (FIXTURES / "hub_license_ids.txt").read_text().splitlines()
    if line.strip()
]
VENDOR_IDS = [
    "tongyi-qianwen",
    "tongyi-qianwen-research",
    "qwen",
    "deepseek",
    "falcon-180b-tii-license",
    "nvidia-open-model-license",
    "nvidia-open-model-agreement",
    "stability-ai-community",
    "stability-ai-noncommercial-research",
    "cohere-cc-by-nc-4.0-aup",
    "opt-175b",
    "opt-iml-175b",
    "mrl",
    "yi-license",
    "baichuan",
    "chatglm",
]


def entry(license_id: str) -> LicenseEntry:
    found = load_kb().get(license_id)
    assert found is not None, license_id
    return found


def restriction_value(e: LicenseEntry, name: str) -> int | str | None:
    return next(r.value for r in e.restrictions if r.name == name)


# ---- coverage -----------------------------------------------------------------------------


def test_fixture_lists_83_hub_ids() -> None:
    assert len(HUB_IDS) == 83 == len(set(HUB_IDS))


@pytest.mark.parametrize("hub_id", HUB_IDS)
def test_every_hub_id_has_an_entry(hub_id: str) -> None:
    kb = load_kb()
    assert kb.get(hub_id) is not None
    assert kb.find(hub_id) is kb.get(hub_id)


@pytest.mark.parametrize("license_id", VENDOR_IDS)
def test_vendor_licences_have_entries(license_id: str) -> None:
    assert load_kb().get(license_id) is not None


def test_fixture_matches_shared_hub_list() -> None:
    if not SHARED_TSV.is_file():
        pytest.skip("../shared/hub_licenses.tsv is not present")
    with SHARED_TSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert [r["hub_id"] for r in rows] == HUB_IDS
    for row in rows:
        if row["spdx_id_if_any"]:
            assert entry(row["hub_id"]).spdx == row["spdx_id_if_any"], row["hub_id"]


def test_entries_sorted_and_unique() -> None:
    ids = [e.id for e in load_kb().entries]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    spdx = [e.spdx for e in load_kb().entries]
    assert len(spdx) == len(set(spdx))


# ---- schema ---------------------------------------------------------------------------------

SCHEMA = json.loads(schema_path("license.schema.json").read_text(encoding="utf-8"))


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted(data_dir("licenses").glob("*.yml")), ids=lambda p: p.stem)
def test_every_file_validates(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["id"] == path.stem


def test_readme_documents_every_vocabulary_value() -> None:
    readme = (data_dir("licenses") / "README.md").read_text(encoding="utf-8")
    defs = SCHEMA["$defs"]
    values = (
        defs["condition"]["properties"]["name"]["enum"]
        + defs["restriction"]["properties"]["name"]["enum"]
        + SCHEMA["properties"]["kind"]["enum"]
        + SCHEMA["properties"]["commercial_use"]["enum"]
    )
    missing = [v for v in values if f"`{v}`" not in readme]
    assert not missing


def test_use_restrictions_are_schema_values() -> None:
    enum = set(SCHEMA["$defs"]["restriction"]["properties"]["name"]["enum"])
    assert enum >= use_restrictions()
    assert enum - use_restrictions() == {"patent-termination", "output-training-derivative"}


# ---- loader errors --------------------------------------------------------------------------


def _copy_entry(tmp_path: Path, source_id: str, new_id: str, **changes: object) -> Path:
    doc = yaml.safe_load((data_dir("licenses") / f"{source_id}.yml").read_text(encoding="utf-8"))
    doc.update(id=new_id, spdx=f"LicenseRef-test-{new_id}", name=f"Test {new_id}", aliases=[])
    doc.update(changes)
    path = tmp_path / f"{new_id}.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_bad_enum_names_file_and_field(tmp_path: Path) -> None:
    _copy_entry(tmp_path, "mit", "foo", commercial_use="sometimes")
    with pytest.raises(KnowledgeBaseError) as err:
        load_kb((tmp_path,))
    message = str(err.value)
    assert message.startswith(f"{tmp_path.name}/foo.yml: commercial_use: 'sometimes' is not one of")


def test_bad_nested_rule_names_path(tmp_path: Path) -> None:
    _copy_entry(tmp_path, "mit", "bar", restrictions=[{"name": "no-warranty"}])
    with pytest.raises(KnowledgeBaseError, match=r"bar\.yml: restrictions\.0\.name: 'no-warranty'"):
        load_kb((tmp_path,))


def test_threshold_needs_integer(tmp_path: Path) -> None:
    _copy_entry(tmp_path, "mit", "baz", restrictions=[{"name": "user-threshold", "value": "many"}])
    with pytest.raises(KnowledgeBaseError, match=r"baz\.yml: restrictions\.0\.value"):
        load_kb((tmp_path,))


def test_missing_field_and_bad_yaml(tmp_path: Path) -> None:
    path = _copy_entry(tmp_path, "mit", "qux")
    doc = yaml.safe_load(path.read_text())
    del doc["kind"]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(
        KnowledgeBaseError, match=r"qux\.yml: \(entry\): 'kind' is a required property"
    ):
        load_kb((tmp_path,))
    path.write_text("id: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match=r"qux\.yml: not valid YAML"):
        load_kb((tmp_path,))


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = _copy_entry(tmp_path, "mit", "one")
    path.rename(tmp_path / "two.yml")
    with pytest.raises(KnowledgeBaseError, match=r"two\.yml: id: 'one' does not match"):
        load_kb((tmp_path,))


def test_duplicate_id_and_ambiguous_alias_are_errors(tmp_path: Path) -> None:
    shutil.copy(data_dir("licenses") / "mit.yml", tmp_path / "mit.yml")
    with pytest.raises(KnowledgeBaseError, match=r"mit\.yml: id: 'mit' is already defined"):
        load_kb((tmp_path,))
    (tmp_path / "mit.yml").unlink()
    _copy_entry(tmp_path, "mit", "sneaky", aliases=["Apache License, Version 2.0"])
    with pytest.raises(KnowledgeBaseError, match=r"sneaky\.yml: aliases: .* is ambiguous"):
        load_kb((tmp_path,))


def test_extra_dir_adds_entries(tmp_path: Path) -> None:
    _copy_entry(tmp_path, "cc-by-nc-4.0", "acme-internal", aliases=["ACME Internal Licence"])
    kb = load_kb((tmp_path,))
    found = kb.find("acme internal license")
    assert found is not None and found.id == "acme-internal"
    assert found.commercial_use == "prohibited"
    assert load_kb().get("acme-internal") is None


def test_load_is_cached() -> None:
    assert load_kb() is load_kb()


# ---- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Apache 2.0", "apache-2.0"),
        ("Apache License, Version 2.0", "apache-2.0"),
        ("apache_license_2.0", "apache-2.0"),
        ("Apache-2.0", "apache-2.0"),
        ("MIT License", "mit"),
        ("Llama 3.1 Community License Agreement", "llama3.1"),
        ("llama-3.1", "llama3.1"),
        ("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT", "llama3.1"),
        ("CC BY-NC 4.0", "cc-by-nc-4.0"),
        ("Attribution-NonCommercial 4.0 International", "cc-by-nc-4.0"),
        ("CC-BY-SA-4.0", "cc-by-sa-4.0"),
        ("GPL-3.0-only", "gpl-3.0"),
        ("GPL v3", "gpl-3.0"),
        ("tongyi-qianwen-license-agreement", "tongyi-qianwen"),
        ("creativeml-openrail++-m", "openrail++"),
        ("Gemma Terms of Use", "gemma"),
        ("deepseek", "deepseek"),
        ("mrl", "mrl"),
    ],
)
def test_find_resolves_spellings(name: str, expected: str) -> None:
    found = load_kb().find(name)
    assert found is not None and found.id == expected


@pytest.mark.parametrize(
    "name", ["", "  ", "Apache", "llama", "my custom licence", "cc-by-nc", "gpl-4.0", "openrail+"]
)
def test_find_never_guesses(name: str) -> None:
    assert load_kb().find(name) is None


def test_by_spdx() -> None:
    kb = load_kb()
    apache = kb.by_spdx("Apache-2.0")
    assert apache is not None and apache.id == "apache-2.0"
    gpl = kb.by_spdx("GPL-2.0-only")
    assert gpl is not None and gpl.id == "gpl-2.0"
    assert kb.by_spdx("CC-BY-NC-4.0") is kb.get("cc-by-nc-4.0")
    assert kb.by_spdx("NOT-A-LICENSE") is None


# ---- hard cases -------------------------------------------------------------------------------


def test_llama31_conditional_with_700m_threshold() -> None:
    e = entry("llama3.1")
    assert e.commercial_use == "conditional"
    assert e.osi_approved is False and e.osaid_compatible is False
    assert restriction_value(e, "user-threshold") == 700_000_000
    assert {"use-based-restrictions", "user-threshold"} <= set(e.restriction_names)
    assert {"accept-acceptable-use-policy", "name-in-derivative"} <= set(e.condition_names)
    assert any("700 million monthly active users" in ev.excerpt for ev in e.evidence)


@pytest.mark.parametrize(
    "license_id", ["llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"]
)
def test_all_llamas_have_the_threshold(license_id: str) -> None:
    assert restriction_value(entry(license_id), "user-threshold") == 700_000_000


def test_llama_eu_exclusion_is_machine_readable() -> None:
    for license_id in ("llama3.2", "llama4"):
        assert "geographic-restriction" in entry(license_id).restriction_names
    assert "geographic-restriction" not in entry("llama3.1").restriction_names


def test_cc_by_nc_40_prohibited() -> None:
    e = entry("cc-by-nc-4.0")
    assert (e.commercial_use, e.kind, e.osi_approved) == ("prohibited", "non-commercial", False)
    assert "non-commercial" in e.restriction_names
    assert e.spdx == "CC-BY-NC-4.0"


def test_apache_allowed_and_osi() -> None:
    e = entry("apache-2.0")
    assert (e.commercial_use, e.kind, e.osi_approved, e.osaid_compatible) == (
        "allowed",
        "permissive",
        True,
        True,
    )
    assert not set(e.restriction_names) & use_restrictions()


def test_gemma_conditional() -> None:
    e = entry("gemma")
    assert e.commercial_use == "conditional"
    assert "use-based-restrictions" in e.restriction_names
    assert "pass-on-use-restrictions" in e.condition_names
    assert not any("ScanCode key gemma" in ev.excerpt for ev in e.evidence)


@pytest.mark.parametrize(
    "license_id",
    [
        "openrail",
        "openrail++",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigcode-openrail-m",
        "bigscience-bloom-rail-1.0",
        "deepseek",
    ],
)
def test_rail_family_conditional(license_id: str) -> None:
    e = entry(license_id)
    assert e.commercial_use == "conditional"
    assert e.kind == "responsible-ai"
    assert "use-based-restrictions" in e.restriction_names
    assert e.osaid_compatible is False


@pytest.mark.parametrize("license_id", ["other", "unknown"])
def test_other_and_unknown_decide_nothing(license_id: str) -> None:
    e = entry(license_id)
    assert (e.kind, e.commercial_use, e.osi_approved, e.osaid_compatible) == (
        "unknown",
        "unknown",
        False,
        None,
    )


def test_families_do_not_claim_a_variant() -> None:
    cc = entry("cc")
    assert (cc.kind, cc.commercial_use, cc.osaid_compatible) == ("unknown", "unknown", None)
    for family in ("bsd", "gpl"):
        assert entry(family).osi_approved is False
        assert entry(family).osaid_compatible is None


def test_nvidia_versions_are_separate() -> None:
    old, new = entry("nvidia-open-model-license"), entry("nvidia-open-model-agreement")
    assert old.commercial_use == "conditional" and "revocable" in old.restriction_names
    assert "accept-acceptable-use-policy" in old.condition_names
    assert new.commercial_use == "allowed" and "revocable" not in new.restriction_names
    assert not set(new.restriction_names) & use_restrictions()


def test_review_additions() -> None:
    research = entry("tongyi-qianwen-research")
    assert research.commercial_use == "prohibited"
    assert {"non-commercial", "no-output-training"} <= set(research.restriction_names)
    assert "user-threshold" not in research.restriction_names
    assert restriction_value(entry("tongyi-qianwen"), "user-threshold") == 100_000_000
    snc = entry("stability-ai-noncommercial-research")
    assert snc.commercial_use == "prohibited" and "revocable" in snc.restriction_names
    assert restriction_value(entry("stability-ai-community"), "revenue-threshold") == 1_000_000


def test_no_wrong_open() -> None:
    """Whatever a rule makes of "open", nothing with use restrictions looks free."""
    for e in load_kb().entries:
        restricted = bool(set(e.restriction_names) & use_restrictions())
        if restricted or e.kind in ("non-commercial", "responsible-ai", "community", "unknown"):
            assert e.osaid_compatible is not True, e.id
        if e.osi_approved:
            assert not restricted and e.commercial_use == "allowed", e.id
        if e.kind == "unknown":
            assert e.commercial_use == "unknown", e.id
        if e.commercial_use == "allowed":
            assert not set(e.restriction_names) & (use_restrictions() - {"no-derivatives"}), e.id


def test_evidence_is_cited() -> None:
    for e in load_kb().entries:
        for ev in e.evidence:
            assert ev.source == "knowledge-base"
            assert ev.locator.startswith(f"licenses/{e.id}.yml#")
            assert ev.excerpt
        if e.kind != "unknown" and "UNVERIFIED" not in e.notes:
            assert e.evidence, e.id


def test_extra_dirs_may_be_a_list(tmp_path: Path) -> None:
    assert load_kb([tmp_path]) is load_kb((tmp_path,))
    with pytest.raises(KnowledgeBaseError, match="not a folder"):
        load_kb((tmp_path / "missing",))
