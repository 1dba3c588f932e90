"""`openaudit mof export` and `openaudit osai export` end to end through the fake Hub, and the MOF
class the audit now computes from the same components.

The promises checked: a MOF file validates against the MOT schema and classifies, read back
with `openaudit mof classify`, exactly as the audit said; what only a person can confirm is
left out and named at the top; links are pinned to the audited commit; an index entry carries
every parameter of the index with an allowed class; and nothing restricted is ever "open".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from openaudit.report.mof_file import file_name
from openaudit.rules import osai_index
from openaudit.rules.loader import load_dimensions, load_pack
from openaudit.rules.mof import classify, definition, is_open
from openaudit.rules.mof_file import parse_release, read_release
from tests.fakehub import FakeHub
from tests.helpers import by_id, run_cli

PERMISSIVE = ("acme/tiny-apache-encoder", "mof-org/open-science-encoder")
RESTRICTED = ("acme/llama-3.1-acme-chat", "acme/nc-summarizer", "acme/llama-3.1-acme-chat-sql-lora")
MODELS = (
    *PERMISSIVE,
    *RESTRICTED,
    "acme/unlicensed-classifier",
    "acme/auto-gated-vit",
    "mof-org/withdrawn-data-demo",
)
ALLOWED_CLASSES = {"open", "partial", "closed", None}


@pytest.fixture(scope="module")
def hub(_fixture_hub_server: FakeHub) -> Iterator[FakeHub]:
    _fixture_hub_server.reset()
    yield _fixture_hub_server
    _fixture_hub_server.reset()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("export-store")


def _hub_args(hub: FakeHub, store: Path) -> tuple[str, ...]:
    return ("--endpoint", hub.url, "--cache-dir", str(store))


@pytest.fixture(scope="module")
def audit_doc(hub: FakeHub, store: Path) -> dict[str, dict[str, Any]]:
    run = run_cli("audit", *MODELS, "--format", "json", *_hub_args(hub, store))
    # Gated files (auto-gated-vit's own, the Llama chain's base's) are not read without a token.
    assert run.code == 3, run.stderr
    assert "3 of 8 incomplete" in run.stderr
    return by_id(run.json())


@pytest.fixture(scope="module")
def mof_dir(hub: FakeHub, store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mof")
    run = run_cli("mof", "export", *MODELS, "--output-dir", str(out), *_hub_args(hub, store))
    assert run.code == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def osai_dir(hub: FakeHub, store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("osai")
    run = run_cli("osai", "export", *MODELS, "--output-dir", str(out), *_hub_args(hub, store))
    assert run.code == 0, run.stderr
    return out


def _mof(mof_dir: Path, model: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((mof_dir / file_name(model, ".yml")).read_text())
    return data


def _components(mof_dir: Path, model: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in _mof(mof_dir, model)["release"]["components"]}


def _entry(osai_dir: Path, model: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((osai_dir / file_name(model, ".yaml")).read_text())
    return data


# ---------------------------------------------------------------- MOF files


def test_one_file_per_model(mof_dir: Path) -> None:
    assert sorted(p.name for p in mof_dir.iterdir()) == sorted(file_name(m, ".yml") for m in MODELS)
    assert file_name("acme/tiny-apache-encoder", ".yml") == "acme__tiny-apache-encoder.yml"


@pytest.mark.parametrize("model", MODELS)
def test_mof_file_validates_and_classifies_as_the_audit(
    mof_dir: Path, audit_doc: dict[str, dict[str, Any]], model: str
) -> None:
    path = mof_dir / file_name(model, ".yml")
    release = read_release(path)  # validates against mof_schema.json, or raises naming the field
    classified = classify(release).mof_class or None
    assert classified == audit_doc[model]["mof_class"]
    run = run_cli("mof", "classify", str(path), "--format", "json")
    assert run.code == 0, run.stderr
    [result] = json.loads(run.stdout)
    assert (result["classification"]["class"] or None) == audit_doc[model]["mof_class"]


@pytest.mark.parametrize("model", MODELS)
def test_comment_block_lists_every_left_out_component(mof_dir: Path, model: str) -> None:
    text = (mof_dir / file_name(model, ".yml")).read_text()
    header = text.split("\nframework:", 1)[0].splitlines()
    assert all(line.startswith("#") for line in header)
    start = header.index("# To confirm by a person (left out of release.components):")
    also = "# Also to confirm (listed in release.components):"
    block = header[start + 1 : header.index(also)] if also in header else header[start + 1 :]
    named = {
        line.removeprefix("#   - ").split(":", 1)[0] for line in block if line.startswith("#   - ")
    }
    included = set(_components(mof_dir, model))
    assert named == {c.name for c in definition().components} - included
    assert "Model parameters (Intermediate)" in named  # checkpoints are never visible


@pytest.mark.parametrize("model", MODELS)
def test_locations_are_pinned_to_the_audited_commit(
    mof_dir: Path, audit_doc: dict[str, dict[str, Any]], model: str
) -> None:
    revision = audit_doc[model]["revision"]
    release = _mof(mof_dir, model)["release"]
    assert revision in release["huggingface"]
    for c in release["components"]:
        path = c.get("component_path")
        assert path, c
        if "/datasets/" in path:
            assert "/tree/" in path or "/blob/" in path  # pinned to the dataset's own commit
        else:
            assert f"/{model}/blob/{revision}/" in path


def test_permissive_model_lists_what_the_hub_shows(mof_dir: Path) -> None:
    comps = _components(mof_dir, "mof-org/open-science-encoder")
    assert set(comps) == {
        "Model architecture",
        "Model parameters (Final)",
        "Model card",
        "Data card",
        "Evaluation results",
        "Datasets",
    }
    assert comps["Model parameters (Final)"]["license"] == "Apache-2.0"
    assert comps["Model architecture"]["component_path"].endswith("/modeling_openscience.py")
    assert comps["Data card"]["license"] == "CC-BY-4.0"
    release = _mof(mof_dir, "mof-org/open-science-encoder")["release"]
    assert release["license"]["distribution"]["name"] == "Apache-2.0"
    assert release["producer"] == "mof-org"
    assert release["date"] == "2025-02-03"


def test_a_person_confirming_the_paper_completes_class_iii(mof_dir: Path) -> None:
    """The export is a floor: Class III needs only the paper's licence, which the Hub cannot show."""
    path = mof_dir / file_name("mof-org/open-science-encoder", ".yml")
    before = classify(read_release(path))
    assert before.mof_class == 0 and round(before.progress[3], 1) == 83.3
    data = yaml.safe_load(path.read_text())
    data["release"]["components"].append(
        {
            "name": "Research paper",
            "license": "CC-BY-4.0",
            "component_path": "https://arxiv.org/abs/2405.01234",
        }
    )
    after = classify(parse_release(yaml.safe_dump(data), str(path)))
    assert after.mof_class == 3


@pytest.mark.parametrize("model", RESTRICTED)
def test_restricted_weights_never_count_as_open(mof_dir: Path, model: str) -> None:
    weights = _components(mof_dir, model)["Model parameters (Final)"]
    assert not is_open(weights["license"]), weights


def test_adapter_declaring_apache_carries_its_base_licence(mof_dir: Path) -> None:
    weights = _components(mof_dir, "acme/llama-3.1-acme-chat-sql-lora")["Model parameters (Final)"]
    assert weights["license"] == "LicenseRef-openaudit-llama3.1"


def test_no_licence_is_unlicensed(mof_dir: Path) -> None:
    data = _mof(mof_dir, "acme/unlicensed-classifier")
    assert data["release"]["license"] == {}
    assert (
        _components(mof_dir, "acme/unlicensed-classifier")["Model parameters (Final)"]["license"]
        == "unlicensed"
    )


def test_gated_weights_are_left_for_a_person(mof_dir: Path) -> None:
    assert "Model parameters (Final)" not in _components(mof_dir, "acme/auto-gated-vit")
    text = (mof_dir / file_name("acme/auto-gated-vit", ".yml")).read_text()
    assert "#   - Model parameters (Final): the weights are gated (auto)" in text


def test_data_not_on_the_hub_is_left_for_a_person(mof_dir: Path) -> None:
    comps = _components(mof_dir, "mof-org/withdrawn-data-demo")
    assert "Data card" not in comps and "Datasets" not in comps
    text = (mof_dir / file_name("mof-org/withdrawn-data-demo", ".yml")).read_text()
    assert (
        "#   - Datasets: not every named dataset could be read openly on the Hub: mof-org/withdrawn-corpus (not-found)"
        in text
    )


def test_export_to_stdout_is_a_yaml_stream(hub: FakeHub, store: Path) -> None:
    run = run_cli("mof", "export", *PERMISSIVE, *_hub_args(hub, store))
    assert run.code == 0, run.stderr
    docs = [d for d in yaml.safe_load_all(run.stdout) if d is not None]
    assert [d["release"]["name"] for d in docs] == [m.split("/")[1] for m in PERMISSIVE]


def test_unreadable_model_exits_3_and_writes_nothing(
    hub: FakeHub, store: Path, tmp_path: Path
) -> None:
    run = run_cli(
        "mof",
        "export",
        "acme/retired-base-7b",
        "--output-dir",
        str(tmp_path),
        *_hub_args(hub, store),
    )
    assert run.code == 3
    assert "acme/retired-base-7b" in run.stderr
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- the audit's mof_class


def test_audit_computes_mof_class_and_names_what_blocks_class_iii(
    audit_doc: dict[str, dict[str, Any]],
) -> None:
    model = audit_doc["mof-org/open-science-encoder"]
    assert model["mof_class"] is None  # the technical report is for a person to confirm
    findings = {f["rule"]: f for f in model["findings"]}
    assert "Unclassified" in findings["mof.class-from-evidence"]["message"]
    blocked = findings["mof.class-3-blocked"]["message"]
    assert "Technical report" in blocked
    for ok in (
        "Model architecture",
        "Model parameters (Final)",
        "Model card",
        "Data card",
        "Evaluation results",
    ):
        assert ok not in blocked
    restricted = {f["rule"]: f for f in audit_doc["acme/nc-summarizer"]["findings"]}
    assert (
        "Model parameters (Final) (licence CC-BY-NC-4.0 is not open)"
        in restricted["mof.class-3-blocked"]["message"]
    )


# ---------------------------------------------------------------- index entries


def _parameter_refs(path: Path) -> list[str]:
    return [p["ref"] for group in yaml.safe_load(path.read_text()) for p in group["params"]]


def test_shipped_parameters_match_the_index(shared_dir: Path) -> None:
    shipped = osai_index.folder()
    source = shared_dir / "osai"
    if not (source / "_parameters.yml").is_file():
        pytest.skip("no ../shared/osai/_parameters.yml")
    assert _parameter_refs(shipped / "_parameters.yml") == _parameter_refs(
        source / "_parameters.yml"
    )
    assert yaml.safe_load((shipped / "a_submission_template.yaml").read_text()) == yaml.safe_load(
        (source / "a_submission_template.yaml").read_text()
    )


def test_every_parameter_has_a_dimension_and_a_rule() -> None:
    refs = _parameter_refs(osai_index.folder() / "_parameters.yml")
    assert [p.ref for p in osai_index.parameters()] == refs
    dims = load_dimensions()
    pack = load_pack(osai_index.folder(), dims)
    judged = {r.dimension for r in pack.rules}
    for ref in refs:
        assert f"osai.{ref}" in dims and f"osai.{ref}" in judged
        assert dims[f"osai.{ref}"].precedence[0] == "closed"


def test_only_weights_are_ever_judged_open() -> None:
    """The index's open asks for completeness the Hub never shows, except for downloadable weights."""
    pack = load_pack(osai_index.folder(), load_dimensions())
    open_dims = {
        r.dimension
        for r in pack.rules
        for o in (r.on_true, r.on_false, r.on_missing)
        if o.status == "open"
    }
    assert open_dims == {"osai.weights_endmodel", "osai.weights_basemodel"}


@pytest.mark.parametrize("model", MODELS)
def test_entry_carries_every_parameter(
    osai_dir: Path, audit_doc: dict[str, dict[str, Any]], model: str
) -> None:
    entry = _entry(osai_dir, model)
    template = osai_index.template()
    assert list(entry)[:2] == ["system", "org"]
    assert list(entry["system"]) == list(template["system"])
    assert list(entry["org"]) == list(template["org"])
    assert entry["system"]["endmodelname"] == model
    refs = _parameter_refs(osai_index.folder() / "_parameters.yml")
    assert [k for k in entry if k not in ("system", "org")] == refs
    revision = audit_doc[model]["revision"]
    for ref in refs:
        value = entry[ref]
        assert set(value) == {"class", "link", "notes"}
        assert value["class"] in ALLOWED_CLASSES, (ref, value)
        assert revision in value["link"], (ref, value)
        assert value["notes"]
        if value["class"] is None:
            assert value["notes"].startswith("Needs a person"), (ref, value)


@pytest.mark.parametrize("model", (*RESTRICTED, "acme/unlicensed-classifier"))
def test_restricted_or_missing_licence_is_never_open(osai_dir: Path, model: str) -> None:
    assert _entry(osai_dir, model)["licenses"]["class"] != "open"


@pytest.mark.parametrize(
    ("model", "parameter", "expected"),
    [
        ("acme/nc-summarizer", "licenses", "closed"),
        ("acme/unlicensed-classifier", "licenses", "closed"),
        ("acme/llama-3.1-acme-chat", "licenses", None),  # partial only if the training code is open
        ("acme/tiny-apache-encoder", "licenses", "partial"),
        ("acme/tiny-apache-encoder", "weights_endmodel", "open"),
        ("acme/tiny-apache-encoder", "weights_basemodel", "open"),
        ("acme/auto-gated-vit", "weights_endmodel", "partial"),
        # The base is gated, and its files, unread without a token, leave its facts undecided.
        ("acme/llama-3.1-acme-chat", "weights_basemodel", None),
        ("acme/llama-3.1-acme-chat", "datasources_basemodel", None),
        ("acme/llama-3.1-acme-chat-sql-lora", "weights_endmodel", "partial"),  # adapter only
        ("mof-org/open-science-encoder", "trainingcode", "partial"),
        ("mof-org/open-science-encoder", "preprint", None),
        ("mof-org/open-science-encoder", "paper", None),
        ("acme/unlicensed-classifier", "modelcard", "closed"),
    ],
)
def test_entry_classes(osai_dir: Path, model: str, parameter: str, expected: str | None) -> None:
    assert _entry(osai_dir, model)[parameter]["class"] == expected


def test_every_index_rule_is_exercised(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each osai-index rule that proposes a class is seen to fire on some fixture of our own."""
    from openaudit.model import ModelRef
    from openaudit.pipeline import AuditOptions, audit
    from tests.conftest import FIXTURE_HUB_DIR

    with FakeHub(FIXTURE_HUB_DIR) as server:
        scorecard = audit(
            [ModelRef(i) for i in server.repo_ids("model")],
            AuditOptions(endpoint=server.url, cache_dir=tmp_path_factory.mktemp("index-store")),
        )
    engine = osai_index._judge()
    fired = {
        f.rule for v in scorecard.models if v.facts is not None for f in engine.findings(v.facts)
    }
    rules = {r.id for r in engine.ruleset.rules}
    assert rules - fired == set()
