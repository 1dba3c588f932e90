"""Discovery of model references in a codebase (`openaudit.sources.code`).

The sample codebase `tests/fixtures/codebases/styles` names models in every style the issue
lists; each expected location below was read off the fixture by hand (1-based line and column
of the model argument; notebooks by cell and line within the cell).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openaudit.sources.code import scan, scan_file

STYLES = Path(__file__).parent / "fixtures" / "codebases" / "styles"
ENC_SHA = "b9e3ddc54563a8a03b098b2e53dcc1a64f42f459"

#: (location, call, status, repo id, revision) for every reference, in file order.
EXPECTED = [
    ("pyproject.toml:7:3", "manifest", "hub", "fixture-org/custom-licence-lm", None),
    ("pyproject.toml:8:3", "manifest", "hub", "acme/tiny-apache-encoder", ENC_SHA),
    ("notebooks/explore.ipynb:cell 3:3:45", "pipeline", "hub", "acme/nc-summarizer", None),
    ("notebooks/explore.ipynb:cell 3:4:34", "AutoModel.from_pretrained", "unresolved", None, None),
    (
        "src/app.py:20:37",
        "AutoTokenizer.from_pretrained",
        "hub",
        "acme/tiny-apache-encoder",
        ENC_SHA,
    ),
    ("src/app.py:21:34", "BertModel.from_pretrained", "hub", "acme/tiny-apache-encoder", None),
    (
        "src/app.py:22:73",
        "AutoModelForCausalLM.from_pretrained",
        "hub",
        "acme/llama-3.1-acme-chat",
        None,
    ),
    ("src/app.py:23:40", "pipeline", "hub", "acme/nc-summarizer", None),
    ("src/app.py:24:48", "pipeline", "hub", "fixture-org/gpl-sequence-tagger", None),
    ("src/app.py:25:32", "hf_hub_download", "hub", "acme/auto-gated-vit", None),
    ("src/app.py:26:26", "snapshot_download", "hub", "acme/rail-diffusion-mini", "v1.0"),
    ("src/app.py:27:27", "HfApi().model_info", "hub", "acme/unlicensed-classifier", None),
    ("src/app.py:28:27", "SentenceTransformer", "hub", "acme/tiny-apache-encoder", None),
    ("src/app.py:29:40", "CrossEncoder", "hub", "acme/tiny-apache-encoder", None),
    (
        "src/app.py:30:46",
        "StableDiffusionPipeline.from_pretrained",
        "hub",
        "acme/rail-diffusion-mini",
        None,
    ),
    (
        "src/app.py:31:45",
        "AutoModelForCausalLM.from_pretrained",
        "hub",
        "acme/llama-3.1-acme-chat",
        None,
    ),
    (
        "src/app.py:32:40",
        "PeftModel.from_pretrained",
        "hub",
        "acme/llama-3.1-acme-chat-sql-lora",
        None,
    ),
    (
        "src/app.py:33:54",
        "AutoPeftModelForCausalLM.from_pretrained",
        "hub",
        "acme/llama-3.1-acme-chat-sql-lora",
        None,
    ),
    ("src/app.py:34:25", "timm.create_model", "hub", "acme/auto-gated-vit", None),
    (
        "src/app.py:36:61",
        "open_clip.create_model_and_transforms",
        "hub",
        "acme/tiny-apache-encoder",
        None,
    ),
    ("src/app.py:37:17", "LLM", "hub", "acme/llama-3.1-acme-chat", None),
    (
        "src/app.py:38:38",
        "Llama.from_pretrained",
        "hub",
        "fixture-org/llama-3.1-acme-chat-GGUF",
        None,
    ),
    ("src/app.py:39:37", "AutoTokenizer.from_pretrained", "hub", "acme/nc-summarizer", None),
    ("src/app.py:41:50", "AutoModelForCausalLM.from_pretrained", "unresolved", None, None),
    ("src/app.py:42:41", "AutoTokenizer.from_pretrained", "unresolved", None, None),
    ("src/app.py:43:46", "AutoModelForCausalLM.from_pretrained", "local", None, None),
    ("src/app.py:44:47", "AutoModelForCausalLM.from_pretrained", "local", None, None),
    ("src/app.py:45:48", "AutoModelForCausalLM.from_pretrained", "hub", "models/my-finetune", None),
    ("src/app.py:49:49", "AutoModelForCausalLM.from_pretrained", "unresolved", None, None),
    ("src/app.py:53:12", "pipeline", "unresolved", None, None),
]


@pytest.fixture
def in_styles(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(STYLES)
    return Path(".")


def test_every_reference_style_is_found_at_its_location(in_styles: Path) -> None:
    found = scan([in_styles])
    got = [(r.location, r.call, r.status, r.repo_id, r.revision) for r in found.refs]
    assert got == EXPECTED
    assert len({e[1].rsplit(".", 1)[-1] for e in EXPECTED} | {e[1] for e in EXPECTED}) >= 15


def test_unresolved_references_say_why(in_styles: Path) -> None:
    found = {r.location: r for r in scan([in_styles]).refs if r.status == "unresolved"}
    assert found["src/app.py:41:50"].reason == "read from the environment at run time"
    assert found["src/app.py:41:50"].expression == "os.environ['MODEL_ID']"
    assert found["src/app.py:42:41"].reason == "an f-string built at run time"
    assert "name" in found["src/app.py:49:49"].reason
    assert found["notebooks/explore.ipynb:cell 3:4:34"].reason == "the result of a call at run time"
    assert "task's default model" in found["src/app.py:53:12"].reason


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('from transformers import pipeline\np = pipeline("ner")\n', True),
        ('from transformers import pipeline as pl\np = pl(task="ner")\n', True),
        ('import transformers\np = transformers.pipeline("ner")\n', True),
        # Another library's `pipeline`, or a model that may come in **kwargs: nothing to locate.
        ('from mylib import pipeline\np = pipeline("ner")\n', False),
        ('from transformers import pipeline\np = pipeline("ner", **options)\n', False),
    ],
)
def test_a_pipeline_without_a_model_is_the_tasks_default(
    tmp_path: Path, source: str, found: bool
) -> None:
    file = tmp_path / "main.py"
    file.write_text(source)
    refs, problems = scan_file(file, "python")
    assert not problems
    assert [(r.status, r.line) for r in refs] == ([("unresolved", 2)] if found else [])


def test_flags_trust_remote_code_and_a_missing_local_path(in_styles: Path) -> None:
    refs = {r.location: r for r in scan([in_styles]).refs}
    assert refs["src/app.py:22:73"].trust_remote_code
    assert not refs["src/app.py:31:45"].trust_remote_code
    assert refs["src/app.py:45:48"].missing_local
    assert not refs["src/app.py:21:34"].missing_local
    assert refs["src/app.py:44:47"].reason == "a folder next to the code"


def test_ignored_and_skipped_folders_are_not_scanned(in_styles: Path) -> None:
    found = scan([in_styles])
    ids = {r.repo_id for r in found.refs}
    for hidden in (
        "ignored-build",
        "ignored-generated",
        "ignored-venv",
        "ignored-node",
        "ignored-env2",
    ):
        assert f"acme/{hidden}" not in ids
    assert "acme/not-code" not in ids and "acme/not-a-ref" not in ids
    assert found.files == 4  # app.py, broken.py, explore.ipynb, pyproject.toml


def test_a_file_that_does_not_parse_is_reported_not_dropped(in_styles: Path) -> None:
    found = scan([in_styles])
    assert [(p.subject, p.reason) for p in found.problems] == [("src/broken.py:2", "malformed")]


def test_dataset_downloads_and_builtin_architectures_are_not_models(in_styles: Path) -> None:
    text = Path("src/app.py").read_text().splitlines()
    lines = {int(r.location.split(":")[1]) for r in scan([Path("src/app.py")]).refs}
    assert 'repo_type="dataset"' in text[39] and 40 not in lines
    assert "resnet50" in text[34] and 35 not in lines


def test_constants_shadowed_or_reassigned_are_not_trusted(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from transformers import AutoModel\n"
        "A = 'acme/one'\n"
        "A = 'acme/two'\n"
        "B = 'acme/three'\n"
        "AutoModel.from_pretrained(A)\n"
        "def f(B):\n"
        "    return AutoModel.from_pretrained(B)\n"
        "AutoModel.from_pretrained(B + '-v2', revision=B)\n"
    )
    refs, problems = scan_file(src, "python")
    assert problems == []
    assert [(r.line, r.status, r.repo_id) for r in refs] == [
        (5, "unresolved", None),
        (7, "unresolved", None),
        (8, "hub", "acme/three-v2"),
    ]
    assert refs[2].revision == "acme/three"


def test_a_broken_notebook_cell_does_not_hide_the_others(tmp_path: Path) -> None:
    import json

    nb = tmp_path / "n.ipynb"
    cells = [
        {"cell_type": "code", "source": "def broken(:\n"},
        {
            "cell_type": "code",
            "source": [
                "from transformers import AutoModel\n",
                "AutoModel.from_pretrained('acme/x')",
            ],
        },
    ]
    nb.write_text(json.dumps({"cells": cells}))
    refs, problems = scan_file(nb, "notebook")
    assert [r.location for r in refs] == [f"{nb.as_posix()}:cell 2:2:27"]
    assert [p.subject for p in problems] == [f"{nb.as_posix()}:cell 1"]


def test_openaudit_toml_manifest_and_bad_manifest(tmp_path: Path) -> None:
    good = tmp_path / "openaudit.toml"
    good.write_text('models = ["acme/a@v2", "./weights"]\n')
    refs, _ = scan_file(good, "manifest")
    assert [(r.status, r.repo_id, r.revision) for r in refs] == [
        ("hub", "acme/a", "v2"),
        ("local", None, None),
    ]
    bad = tmp_path / "pyproject.toml"
    bad.write_text("[tool.openaudit]\nmodels = 3\n")
    refs, problems = scan_file(bad, "manifest")
    assert refs == [] and problems[0].reason == "malformed"


def test_nested_gitignore_applies_to_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / ".gitignore").write_text("skip.py\n")
    line = "from transformers import AutoModel\nAutoModel.from_pretrained('acme/m')\n"
    for folder in ("a", "b"):
        (tmp_path / folder / "skip.py").write_text(line)
    found = scan([tmp_path])
    assert [Path(r.file).parent.name for r in found.refs] == ["b"]


def test_a_gitignore_above_the_scanned_folder_applies(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("src/generated/\n")
    gen = tmp_path / "src" / "generated"
    gen.mkdir(parents=True)
    line = "from transformers import AutoModel\nAutoModel.from_pretrained('acme/m')\n"
    (gen / "a.py").write_text(line)
    (tmp_path / "src" / "b.py").write_text(line)
    found = scan([tmp_path / "src"])
    assert [Path(r.file).name for r in found.refs] == ["b.py"]


def test_notebook_references_know_their_line_in_the_ipynb_file(in_styles: Path) -> None:
    found = {r.location: r.file_line for r in scan([in_styles]).refs if r.cell is not None}
    assert found == {
        "notebooks/explore.ipynb:cell 3:3:45": 33,
        "notebooks/explore.ipynb:cell 3:4:34": 34,
    }


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # One line for the whole file (no indentation): every reference is on line 1.
        ("compact", [1, 1]),
        # Source as one string, after a metadata key of the same name with another value.
        ("string", [4, 4]),
        # An element without a trailing newline: the next element continues its line, so
        # the call split over elements 1 and 2 is where it starts (line 3); element 3 is line 5.
        ("split", [3, 5]),
    ],
)
def test_notebook_file_lines_follow_the_layout(
    tmp_path: Path, layout: str, expected: list[int]
) -> None:
    import json

    code = 'A = "acme/one"\nm = AutoModel.from_pretrained(A)\nn = AutoModel.from_pretrained("acme/two")\n'
    if layout == "compact":
        cell = {"cell_type": "code", "source": code.splitlines(keepends=True)}
        text = json.dumps({"cells": [cell]})
    elif layout == "string":
        text = (
            '{"cells": [{"cell_type": "code", "metadata": {"source": "elsewhere"},\n'
            ' "outputs": [],\n'
            ' "source":\n' + "  " + json.dumps(code) + "}]}"
        )
    else:
        parts = [
            'A = "acme/one"\nm = AutoModel.',
            "from_pretrained(A)\n",
            'n = AutoModel.from_pretrained("acme/two")',
        ]
        text = (
            '{"cells": [{"cell_type": "code",\n "source": [\n'
            + ",\n".join("  " + json.dumps(p) for p in parts)
            + "]}]}"
        )
    file = tmp_path / "nb.ipynb"
    file.write_text(text)
    refs, problems = scan_file(file, "notebook")
    assert not problems
    assert [r.file_line for r in refs if r.status == "hub" or r.status == "unresolved"] == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["ref", "junk", "quote", "blank"]), min_size=1, max_size=6),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, 1, 2]),
    st.integers(1, 3),
)
def test_notebook_file_lines_point_at_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
    cells: list[list[str]],
    indent: int | None,
    per_element: int,
) -> None:
    """Whatever the layout, a located reference's file line holds its (JSON-encoded) source."""
    import json

    counter = 0
    doc_cells = []
    for kinds in cells:
        lines = []
        for kind in kinds:
            counter += 1
            lines.append(
                {
                    "ref": f'm{counter} = AutoModel.from_pretrained("acme/m{counter}")\n',
                    "junk": f'x = {counter}  # source: "quoted"\n',
                    "quote": 'print("source", "[", "]")\n',
                    "blank": "\n",
                }[kind]
            )
        elements = ["".join(lines[i : i + per_element]) for i in range(0, len(lines), per_element)]
        doc_cells.append(
            {"cell_type": "markdown", "metadata": {"source": "x"}, "source": ["# t\n"]}
        )
        doc_cells.append({"cell_type": "code", "outputs": [], "source": elements})
    text = json.dumps({"cells": doc_cells}, indent=indent)
    file = tmp_path_factory.mktemp("nb") / "nb.ipynb"
    file.write_text(text)
    refs, problems = scan_file(file, "notebook")
    assert not problems
    physical = text.splitlines()
    assert len(refs) == sum(kinds.count("ref") for kinds in cells)
    assert all(r.file_line is not None for r in refs)
    for r in refs:
        assert r.repo_id is not None and r.repo_id in physical[r.file_line - 1]  # type: ignore[operator]
