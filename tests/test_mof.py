"""MOF classification: the Model Openness Tool's own results, real model files, and our fixtures.

The tool's 27 expected results are the specification: a class or a progress
value that differs from mot.isitopen.ai by one float ulp is a different answer
to a reviewer comparing the two, so progress is compared exactly.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from openaudit.cli.mof import mof
from openaudit.model import MofComponent, MofRelease
from openaudit.rules.mof import classify, definition, is_open, is_type_appropriate, to_api
from openaudit.rules.mof_file import MofFileError, parse_release, read_release

MOT = Path(__file__).resolve().parents[1].parent / "shared" / "mot"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mof"
needs_mot = pytest.mark.skipif(not MOT.is_dir(), reason="../shared/mot is not present")

#: Class counts of the 273 MOT model files at the commit SOURCE.md names (0 = unclassified).
MODELS_CLASS_COUNTS = {0: 242, 1: 14, 2: 1, 3: 16}


def _expected() -> dict[str, dict[str, Any]]:
    text = (MOT / "Test_Data" / "expected_results.json").read_text(encoding="utf-8")
    data = json.loads(re.sub(r",(\s*[}\]])", r"\1", text))  # the file has trailing commas
    return {m["release"]["name"]: m["classification"] for m in data["models"]}


def _test_data_files() -> list[Any]:
    if not MOT.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/mot is not present"))]
    return [pytest.param(p, id=p.stem[:60]) for p in sorted((MOT / "Test_Data").glob("*.yml"))]


# --- the tool's own test suite --------------------------------------------------------------


@needs_mot
def test_expected_results_cover_every_test_file() -> None:
    names = {read_release(p).name for p in (MOT / "Test_Data").glob("*.yml")}
    assert names == set(_expected())
    assert len(names) == 27


@pytest.mark.parametrize("path", _test_data_files())
def test_reproduces_mot_expected_result(path: Path) -> None:
    release = read_release(path)
    assert to_api(classify(release)) == _expected()[release.name]


@needs_mot
def test_classifies_every_mot_model_file() -> None:
    counts: collections.Counter[int] = collections.Counter()
    errors = []
    for path in sorted((MOT / "models").glob("*.yml")):
        try:
            counts[classify(read_release(path)).mof_class] += 1
        except MofFileError as exc:
            errors.append(str(exc))
    print("MOF classes of the MOT model files:", dict(sorted(counts.items())))
    assert errors == []
    assert sum(counts.values()) == 273
    assert dict(counts) == MODELS_CLASS_COUNTS


@needs_mot
def test_licence_data_is_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location(
        "mof_licenses", Path(__file__).resolve().parents[1] / "tools" / "mof_licenses.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (Path(__file__).resolve().parents[1] / "rules" / "mof" / "licenses.yml").read_text()
    assert module.build(MOT) == committed


# --- the definition -------------------------------------------------------------------------


def test_definition_has_the_tools_components() -> None:
    d = definition()
    assert len(d.components) == 17
    assert [len(d.required(k)) for k in (3, 2, 1)] == [6, 4, 4]
    assert d.labels[0] == "Unclassified"
    assert d.component("Model parameters (Final)") is not None


def test_licence_decisions_follow_the_tool() -> None:
    assert is_open("Apache-2.0") and is_open("CC-BY-4.0") and is_open("OpenMDW-1.0")
    assert is_open("Apache-1.0")  # FSF libre though not OSI-approved
    assert not is_open("MulanPSL-1.0")  # the tool's override clears the SPDX flag
    assert not is_open("Apache 2.0") and not is_open("apache-2.0")  # exact ids only
    assert not is_open("Llama 2 Community License") and not is_open("CC-BY-NC-4.0")
    assert is_type_appropriate("MIT", "code") and not is_type_appropriate("MIT", "data")
    assert is_type_appropriate("CC0-1.0", "document") and is_type_appropriate("CC0-1.0", "data")


# --- our fixtures, one per outcome ----------------------------------------------------------


def _classified(name: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    c = classify(read_release(FIXTURES / name))
    return to_api(c), [(w.kind, w.component) for w in c.warnings]


def test_class_1() -> None:
    api, warnings = _classified("class_1.yml")
    assert api == {
        "class": 1,
        "label": "Class I - Open Science Model",
        "progress": {"1": 100, "2": 100, "3": 100},
    }
    assert warnings == []


def test_class_2() -> None:
    api, warnings = _classified("class_2.yml")
    assert api["class"] == 2 and api["label"] == "Class II - Open Tooling Model"
    assert api["progress"] == {"1": (11 / 14) * 100, "2": 100, "3": 100}
    assert warnings == [("not-open", "Datasets")]


def test_class_3_and_lower_classes_stop_at_the_first_gap() -> None:
    api, warnings = _classified("class_3.yml")
    assert api == {
        "class": 3,
        "label": "Class III - Open Model",
        "progress": {"1": 0, "2": 70, "3": 100},
    }
    assert warnings == [("unlicensed", "Training code")]


def test_unclassified_when_weights_are_not_openly_licensed() -> None:
    api, warnings = _classified("unclassified.yml")
    assert api == {
        "class": 0,
        "label": "Unclassified",
        "progress": {"1": 0, "2": 0, "3": (5 / 6) * 100},
    }
    assert warnings == [("not-open", "Model parameters (Final)")]


def test_research_paper_stands_in_for_a_missing_technical_report() -> None:
    c = classify(read_release(FIXTURES / "report_omitted.yml"))
    assert c.report_replaced_by_paper
    assert c.mof_class == 1  # class I needs 13 components, not 14, without the report
    assert [w.kind for w in c.warnings] == []


def test_research_paper_stands_in_for_a_report_under_a_closed_licence() -> None:
    base = ["Model architecture", "Model parameters (Final)", "Model card", "Data card"]
    components = [MofComponent(n) for n in [*base, "Evaluation results"]]
    release = MofRelease(
        "no-open-report",
        {"distribution": "Apache-2.0"},
        (
            *components,
            MofComponent("Technical report", "Proprietary"),
            MofComponent("Research paper"),
        ),
    )
    c = classify(release)
    assert c.mof_class == 3 and c.progress[3] == 100
    # Without the paper, the report's licence keeps class III out of reach.
    without = classify(MofRelease("x", release.licenses, release.components[:-1]))
    assert without.mof_class == 0 and without.progress[3] == (5 / 6) * 100


def test_open_licence_of_the_wrong_type_counts_but_warns() -> None:
    c = classify(read_release(FIXTURES / "type_inappropriate.yml"))
    assert c.mof_class == 3
    assert [(w.kind, w.component, w.license) for w in c.warnings] == [
        ("not-type-appropriate", "Model parameters (Final)", "MIT"),
    ]
    weights = next(r for r in c.components if r.name == "Model parameters (Final)")
    assert (weights.status, weights.license_from, weights.type_appropriate) == (
        "open",
        "component",
        False,
    )


def test_licence_resolution_order() -> None:
    release = MofRelease(
        "resolution",
        {"distribution": "Apache-2.0", "document": "CC-BY-4.0"},
        (
            MofComponent("Model card"),
            MofComponent("Model architecture"),
            MofComponent("Data card", "unlicensed"),
            MofComponent("Evaluation results", ""),
        ),
    )
    got = {r.name: (r.status, r.license, r.license_from) for r in classify(release).components}
    assert got["Model card"] == ("open", "CC-BY-4.0", "global:document")
    assert got["Model architecture"] == ("open", "Apache-2.0", "global:distribution")
    assert got["Data card"] == ("unlicensed", "unlicensed", "component")
    assert got["Evaluation results"] == ("unlicensed", "unlicensed", "component")
    assert got["Training code"] == ("missing", None, None)
    bare = classify(MofRelease("bare", {}, (MofComponent("Model card"),)))
    card = next(r for r in bare.components if r.name == "Model card")
    assert (card.status, card.license, card.license_from) == ("unlicensed", "unlicensed", None)


def test_unknown_component_is_a_warning_not_a_crash() -> None:
    c = classify(MofRelease("x", {}, (MofComponent("Weights"),)))
    assert c.mof_class == 0
    assert [w.kind for w in c.warnings] == ["unknown-component"]


# --- broken files ---------------------------------------------------------------------------


def test_schema_error_names_the_field() -> None:
    with pytest.raises(MofFileError) as info:
        read_release(FIXTURES / "schema_error.yml")
    assert info.value.field == "/release/components/2/license"
    assert info.value.file.endswith("schema_error.yml")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("framework: {name: Model Openness Framework, version: '1', date: '2024-01-01'}\n"
         "release: {name: x, license: {}, components: []}\n", "/release/producer"),
        ("release: [\n", "line 2"),
        ("framework: {name: Model Openness Framework, version: '1', date: '2024-01-01'}\n"
         "release: {name: x, producer: p, license: {}, components: [{name: Weights}]}\n",
         "/release/components/0/name"),
        ("framework: {name: Model Openness Framework, version: '1', date: '2024-13-01'}\n"
         "release: {name: x, producer: p, license: {}, components: []}\n", "/framework/date"),
        ("just text\n", "/"),
    ],
)  # fmt: skip
def test_broken_files_name_the_field(text: str, field: str) -> None:
    with pytest.raises(MofFileError) as info:
        parse_release(text, "broken.yml")
    assert info.value.field == field
    assert str(info.value).startswith(f"broken.yml: {field}: ")


# --- command line ---------------------------------------------------------------------------


def test_cli_json_is_the_tools_shape() -> None:
    result = CliRunner().invoke(
        mof, ["classify", "--format", "json", str(FIXTURES / "class_3.yml")]
    )
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert entry["name"] == "fixture-class-3"
    assert entry["classification"] == {
        "class": 3,
        "label": "Class III - Open Model",
        "progress": {"1": 0, "2": 70, "3": 100},
    }
    assert entry["warnings"][0]["kind"] == "unlicensed"


def test_cli_reports_a_broken_file_and_goes_on() -> None:
    files = [str(FIXTURES / "schema_error.yml"), str(FIXTURES / "class_1.yml"), "missing.yml"]
    result = CliRunner().invoke(mof, ["classify", "--format", "json", *files])
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0] == (
        f"openaudit: {files[0]}: /release/components/2/license: 2 is not of type 'string'"
    )
    assert errors[1].startswith("openaudit: missing.yml: /: cannot read")
    assert [e["name"] for e in json.loads(result.stdout)] == ["fixture-class-1"]


def test_cli_table() -> None:
    result = CliRunner().invoke(mof, ["classify", str(FIXTURES / "class_2.yml")])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["FILE", "NAME", "CLASS", "I", "II", "III"]
    assert "Class II - Open Tooling Model  79%  100%  100%" in lines[1]
    assert lines[2].strip().startswith("warning: Datasets:")
