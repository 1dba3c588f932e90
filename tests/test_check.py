"""`openaudit check` / `openaudit lock` end to end: the real Hub client against the fake Hub.

Sample codebases live in tests/fixtures/codebases: `styles` (every reference style, a
notebook, unresolved and local references) and `monorepo` (two services with their own
policies, a library under the default policy).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fakehub import FakeHub
from tests.helpers import Run, run_cli

CODEBASES = Path(__file__).parent / "fixtures" / "codebases"
FIXTURE_HUB = Path(__file__).parent / "fixtures" / "hub"


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


def check(hub: FakeHub, store: Path, *args: str) -> Run:
    return run_cli("check", "--endpoint", hub.url, "--cache-dir", str(store), *args)


def violations(run: Run) -> list[tuple[str, str, str, str | None, bool]]:
    doc = json.loads(run.stdout)
    assert doc["schema"] == "openaudit/check/v1"
    out = []
    for v in doc["violations"]:
        loc = v["location"]
        where = ""
        if loc:
            cell = f"cell {loc['cell']}:" if loc["cell"] else ""
            where = f"{loc['file']}:{cell}{loc['line']}:{loc['column']}"
        out.append((where, v["rule"], v["level"], v["model"], bool(v["suppressed"])))
    return out


@pytest.fixture
def monorepo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CODEBASES / "monorepo")
    return Path(".")


@pytest.fixture
def styles(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CODEBASES / "styles")
    return Path(".")


def test_monorepo_each_service_judged_by_its_own_policy(
    fixture_hub: FakeHub, store: Path, monorepo: Path
) -> None:
    run = check(fixture_hub, store, "--format", "json")
    assert run.code == 1, run.stderr
    product = "services/product/serve.py"
    nc, chat, gpl, vit = (
        "acme/nc-summarizer",
        "acme/llama-3.1-acme-chat",
        "fixture-org/gpl-sequence-tagger",
        "acme/auto-gated-vit",
    )
    # Without a token the gated files (auto-gated-vit's LICENSE, the chat model's base's) are not
    # read: their commercial use (and vit's licence) are unknown, which the default policy fails.
    assert violations(run) == [
        ("libs/shared.py:3:32", "policy/dimension", "error", "acme/unlicensed-classifier", False),
        (f"{product}:3:46", "policy/commercial-use", "error", nc, False),
        (f"{product}:3:46", "policy/dimension", "error", nc, False),
        (f"{product}:3:46", "policy/licence-forbidden", "error", nc, False),
        # The gated base's files are evidence that exists and was not read: incomplete.
        (f"{product}:4:34", "check/not-audited", "error", chat, False),
        (f"{product}:4:34", "policy/commercial-use", "error", chat, False),
        (f"{product}:4:34", "policy/dimension", "error", chat, False),
        (f"{product}:4:34", "policy/licence-review", "warning", chat, False),
        (f"{product}:5:36", "policy/exception-expired", "error", gpl, False),
        (f"{product}:5:36", "policy/licence-review", "warning", gpl, False),
        (f"{product}:5:36", "policy/pickle-weights", "error", gpl, False),
        (f"{product}:6:33", "check/not-audited", "error", vit, False),
        (f"{product}:6:33", "policy/commercial-use", "error", vit, False),
        (f"{product}:6:33", "policy/dimension", "error", vit, False),
        (f"{product}:6:33", "policy/dimension", "error", vit, False),
        (f"{product}:6:33", "policy/gated", "error", vit, True),
    ]
    doc = json.loads(run.stdout)
    assert doc["policies"] == [
        "default policy",
        "services/product/openaudit-policy.yaml",
        "services/research/openaudit-policy.yaml",
    ]
    expired = next(v for v in doc["violations"] if v["rule"] == "policy/exception-expired")
    assert (
        "expired on 2020-01-31" in expired["message"] and "legal@example.com" in expired["message"]
    )
    forbidden = next(v for v in doc["violations"] if v["rule"] == "policy/licence-forbidden")
    assert any(e["locator"].startswith("README.md:2") for e in forbidden["evidence"])
    assert (
        forbidden["audit_rules"] and forbidden["policy"] == "services/product/openaudit-policy.yaml"
    )
    incomplete = {
        v["model"]: v["message"] for v in doc["violations"] if v["rule"] == "check/not-audited"
    }
    assert "incomplete" in incomplete["acme/llama-3.1-acme-chat"]
    assert "README.md: gated-no-token" in incomplete["acme/auto-gated-vit"]
    assert sorted(m["id"] for m in doc["models"] if not m["audited"]) == [
        "acme/auto-gated-vit",
        "acme/llama-3.1-acme-chat",
    ]


def test_one_policy_for_all_with_policy_option(
    fixture_hub: FakeHub, store: Path, monorepo: Path
) -> None:
    run = check(
        fixture_hub,
        store,
        "--format",
        "json",
        "--policy",
        "services/research/openaudit-policy.yaml",
    )
    # Research warns on unknown commercial use and fails an unknown licence: auto-gated-vit's
    # LICENSE is behind its gate, unread without a token, so its licence is not known.
    assert run.code == 1, run.stdout
    assert violations(run) == [
        (
            "services/product/serve.py:4:34",
            "check/not-audited",
            "error",
            "acme/llama-3.1-acme-chat",
            False,
        ),
        (
            "services/product/serve.py:4:34",
            "policy/dimension",
            "warning",
            "acme/llama-3.1-acme-chat",
            False,
        ),
        (
            "services/product/serve.py:6:33",
            "check/not-audited",
            "error",
            "acme/auto-gated-vit",
            False,
        ),
        (
            "services/product/serve.py:6:33",
            "policy/dimension",
            "warning",
            "acme/auto-gated-vit",
            False,
        ),
        (
            "services/product/serve.py:6:33",
            "policy/dimension",
            "error",
            "acme/auto-gated-vit",
            False,
        ),
    ]


def test_styles_codebase_reports_every_unresolved_and_path_problem(
    fixture_hub: FakeHub, store: Path, styles: Path
) -> None:
    run = check(fixture_hub, store, "--format", "json", "--no-fail-on-unknown")
    found = violations(run)
    unresolved = [w for w, rule, *_ in found if rule == "check/unresolved"]
    assert unresolved == [
        "notebooks/explore.ipynb:cell 3:4:34",
        "src/app.py:41:50",
        "src/app.py:42:41",
        "src/app.py:49:49",
        "src/app.py:53:12",  # pipeline("task"): the task's default model
    ]
    assert (
        "src/app.py:45:48",
        "check/local-path-missing",
        "warning",
        "models/my-finetune",
        False,
    ) in found
    assert (
        "src/app.py:45:48",
        "check/not-audited",
        "warning",
        "models/my-finetune",
        False,
    ) in found
    assert ("src/broken.py:2:1", "check/unscanned", "warning", None, False) in found
    unpinned = {w: level for w, rule, level, *_ in found if rule == "check/unpinned"}
    assert unpinned["src/app.py:22:73"] == "error"  # trust_remote_code=True: high severity
    assert unpinned["src/app.py:26:26"] == "warning"  # revision="v1.0" is a tag, not a commit
    assert "src/app.py:20:37" not in unpinned  # pinned to a commit
    assert not any(w.startswith("pyproject.toml") for w in unpinned)  # a manifest is not a call
    doc = json.loads(run.stdout)
    high = next(v for v in doc["violations"] if v["rule"] == "check/unpinned" and v["severity"])
    assert high["severity"] == "high" and "b9e3" not in high["message"]
    assert 'revision="3911a3779b68a16b841caccc63dd8a2c40f4312d"' in high["message"]
    local = [r for r in doc["references"] if r["status"] == "local"]
    assert [(r["file"], r["line"]) for r in local] == [("src/app.py", 43), ("src/app.py", 44)]
    assert not any(
        v["location"]
        and v["location"]["line"] in (43, 44)
        and v["location"]["file"] == "src/app.py"
        for v in doc["violations"]
    )
    assert run.code == 1  # NC and unknown-licence models fail the default policy


def _sarif_validator(shared_dir: Path) -> jsonschema.Draft4Validator:
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_and_sits_on_code_locations(
    fixture_hub: FakeHub, store: Path, styles: Path, shared_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "check.sarif"
    run = check(
        fixture_hub,
        store,
        "--format",
        "sarif",
        "-o",
        str(out),
        "--write",
        f"markdown={tmp_path / 's.md'}",
    )
    doc = json.loads(out.read_text())
    errors = list(_sarif_validator(shared_dir).iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]
    (sarif_run,) = doc["runs"]
    assert sarif_run["automationDetails"]["id"] == "openaudit/check/"
    rules = {r["id"]: r for r in sarif_run["tool"]["driver"]["rules"]}
    assert rules["check/unpinned"]["help"]["text"].startswith("Without `revision=`")
    located = [
        r["locations"][0]["physicalLocation"]
        for r in sarif_run["results"]
        if r["locations"] and "region" in r["locations"][0]["physicalLocation"]
    ]
    assert {
        "artifactLocation": {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 45, "startColumn": 48},
    } in located
    # A notebook result sits on the .ipynb line holding the source line (cell 3, line 4).
    assert {
        "artifactLocation": {"uri": "notebooks/explore.ipynb", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 34},
    } in located
    for r in sarif_run["results"]:
        assert rules[r["ruleId"]] == sarif_run["tool"]["driver"]["rules"][r["ruleIndex"]]
    summary = (tmp_path / "s.md").read_text()
    assert summary.startswith("## openaudit check: ❌ failed")
    assert run.code == 1  # a violation outranks a model not audited


def test_sarif_of_the_monorepo_marks_suppressions(
    fixture_hub: FakeHub, store: Path, monorepo: Path, shared_dir: Path
) -> None:
    run = check(fixture_hub, store, "--format", "sarif")
    doc = json.loads(run.stdout)
    assert not list(_sarif_validator(shared_dir).iter_errors(doc))
    suppressed = [r for r in doc["runs"][0]["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["policy/gated"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


APACHE = "b9e3ddc54563a8a03b098b2e53dcc1a64f42f459"
NC = "94458ae54ca001409884d587d15ad1ddc2a4a755"


def test_exit_codes(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    load = (
        "from transformers import AutoModel\nm = AutoModel.from_pretrained({!r}, revision={!r})\n"
    )
    write(tmp_path, "ok/app.py", load.format("acme/tiny-apache-encoder", APACHE))
    assert check(fixture_hub, store, "ok").code == 0
    write(tmp_path, "nc/app.py", load.format("acme/nc-summarizer", NC))
    assert check(fixture_hub, store, "nc").code == 1
    assert check(fixture_hub, store, "nc", "--warn-only").code == 0
    write(tmp_path, "gone/app.py", load.format("acme/retired-base-7b", "main"))
    gone = check(fixture_hub, store, "gone")
    assert gone.code == 3 and "acme/retired-base-7b" in gone.stderr
    assert check(fixture_hub, store, "gone", "--no-fail-on-unknown").code == 0
    missing = check(fixture_hub, store, "no-such-dir")
    assert missing.code == 2 and "no-such-dir" in missing.stderr


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            "licenses:\n  forbidden: [Not-A-Licence]\n",
            "licenses.forbidden[0]: 'Not-A-Licence' is not known",
        ),
        ("licenses:\n  forbidden: [MIT OR Apache-2.0]\n", "licenses.forbidden[0]"),
        ("dimensions:\n  vibes: {fail: [bad]}\n", "dimensions.vibes: not a dimension"),
        (
            "dimensions:\n  weights: {fail: [closed]}\n",
            "dimensions.weights.fail[0]: 'closed' is not a status",
        ),
        ("gated: maybe\n", "gated: 'maybe' is not one of"),
        ("colour: red\n", "(top level): Additional properties are not allowed"),
        (
            "exceptions:\n  - {model: a/b, reason: r, owner: o}\n",
            "exceptions[0]: 'expires' is a required property",
        ),
        (
            "exceptions:\n  - {model: a/b, reason: r, owner: o, expires: '2026-02-30'}\n",
            "exceptions[0].expires: not a date",
        ),
        (
            "licenses:\n  approved: [MIT]\n  review: [mit]\n",
            "licenses.review[0]: 'mit' is already approved",
        ),
        ("licenses: [\n", "not valid YAML"),
    ],
)
def test_an_invalid_policy_names_file_and_field(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, policy: str, message: str
) -> None:
    write(tmp_path, "app.py", "x = 1\n")
    path = write(tmp_path, "openaudit-policy.yaml", policy)
    run = check(fixture_hub, store, str(tmp_path), "--policy", str(path))
    assert run.code == 2
    assert run.stderr.startswith(f"openaudit: {path.as_posix()}")
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_baseline_suppresses_old_violations_but_not_a_new_one(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    load = (
        "from transformers import AutoModel\nm = AutoModel.from_pretrained({!r}, revision={!r})\n"
    )
    write(tmp_path, "repo/old.py", load.format("acme/nc-summarizer", NC))
    base = check(fixture_hub, store, "repo", "--format", "json")
    assert base.code == 1
    (tmp_path / "baseline.json").write_text(base.stdout)
    # The same violation moved down two lines is still the old one.
    write(tmp_path, "repo/old.py", "\n\n" + load.format("acme/nc-summarizer", NC))
    again = check(fixture_hub, store, "repo", "--format", "json", "--baseline", "baseline.json")
    assert again.code == 0
    assert all(s for *_, s in violations(again))
    write(
        tmp_path,
        "repo/new.py",
        load.format("acme/unlicensed-classifier", "98ebb3b9b08896963c08c8507afcb895df417347"),
    )
    new = check(fixture_hub, store, "repo", "--format", "json", "--baseline", "baseline.json")
    assert new.code == 1
    counted = [
        (w, rule, m) for w, rule, level, m, s in violations(new) if not s and level == "error"
    ]
    assert counted == [("repo/new.py:2:31", "policy/dimension", "acme/unlicensed-classifier")]
    bad = check(fixture_hub, store, "repo", "--baseline", "repo/old.py")
    assert bad.code == 2 and "repo/old.py" in bad.stderr


def test_the_target_branch_lockfile_as_baseline(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    load = "from transformers import AutoModel\nm = AutoModel.from_pretrained({!r})\n"
    write(tmp_path, "repo/old.py", load.format("acme/nc-summarizer"))
    assert (
        run_cli("lock", "repo", "--endpoint", fixture_hub.url, "--cache-dir", str(store)).code == 0
    )
    (tmp_path / "repo" / "openaudit.lock").rename(tmp_path / "main.lock")
    write(tmp_path, "repo/new.py", load.format("acme/unlicensed-classifier"))
    run = check(fixture_hub, store, "repo", "--format", "json", "--baseline", "main.lock")
    assert run.code == 1
    counted = {(w, rule) for w, rule, level, _m, s in violations(run) if not s and level == "error"}
    assert counted == {("repo/new.py:2:31", "policy/dimension")}
    old = [s for w, *_, s in violations(run) if w.startswith("repo/old.py")]
    assert old and all(old)


def _relicensed(api_path: Path, licence: str, sha: str) -> tuple[dict[str, Any], dict[str, str]]:
    api = json.loads(api_path.read_text())
    old = api["cardData"]["license"]
    api["cardData"]["license"] = licence
    api["tags"] = [f"license:{licence}" if t == f"license:{old}" else t for t in api["tags"]]
    api["sha"] = sha
    files_dir = api_path.parent / "files"
    files = {
        p.relative_to(files_dir).as_posix(): p.read_text()
        for p in files_dir.rglob("*")
        if p.is_file() and p.name != "LICENSE"
    }
    files["README.md"] = files["README.md"].replace(f"license: {old}", f"license: {licence}", 1)
    api["siblings"] = [s for s in api["siblings"] if s["rfilename"] != "LICENSE"]
    return api, files


def test_lock_then_drift_when_main_changes_licence_then_update(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "app.py",
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('acme/tiny-apache-encoder')\n",
    )
    locked = run_cli("lock", "--endpoint", fixture_hub.url, "--cache-dir", str(store))
    assert locked.code == 0, locked.stderr
    lock = json.loads((tmp_path / "openaudit.lock").read_text())
    (entry,) = lock["models"]
    assert entry["id"] == "acme/tiny-apache-encoder" and entry["commit"] == APACHE
    assert entry["terms"]["licence_ids"] == ["apache-2.0"] and len(entry["verdicts_sha256"]) == 64
    before = check(fixture_hub, store, "--format", "json")
    assert [r for _, r, *_ in violations(before)] == ["check/unpinned"]
    assert (
        f'revision="{APACHE}" (the lockfile\'s commit)'
        in json.loads(before.stdout)["violations"][0]["message"]
    )

    new_sha = "1" * 40
    api, files = _relicensed(
        FIXTURE_HUB / "models/acme/tiny-apache-encoder/api.json", "cc-by-nc-4.0", new_sha
    )
    fixture_hub.add_repo(api, files)
    after = check(fixture_hub, store, "--format", "json")
    found = violations(after)
    assert ("app.py:2:31", "check/drift", "error", "acme/tiny-apache-encoder", False) in found
    drift = next(v for v in json.loads(after.stdout)["violations"] if v["rule"] == "check/drift")
    assert "licence_ids [apache-2.0] -> [cc-by-nc-4.0]" in drift["message"]
    assert "commercial_use allowed -> prohibited" in drift["message"]
    # The pinned commit is still what is audited: its own licence does not fail the policy.
    assert not any(r == "policy/dimension" for _, r, *_ in found)
    assert after.code == 1
    assert json.loads(after.stdout)["models"][0]["pinned_by"] == "lockfile"

    updated = run_cli("lock", "--update", "--endpoint", fixture_hub.url, "--cache-dir", str(store))
    assert updated.code == 0
    assert json.loads((tmp_path / "openaudit.lock").read_text())["models"][0]["commit"] == new_sha
    accepted = check(fixture_hub, store, "--format", "json")
    rules = [r for _, r, *_ in violations(accepted)]
    assert (
        "check/drift" not in rules and "policy/dimension" in rules
    )  # now NC: the policy judges it


def test_offline_check_from_a_warm_store_makes_no_request(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "app.py",
        f"from transformers import AutoModel\nm = AutoModel.from_pretrained('acme/tiny-apache-encoder', revision='{APACHE}')\n",
    )
    assert check(fixture_hub, store).code == 0
    fixture_hub.reset()
    run = run_cli("check", "--offline", "--cache-dir", str(store))
    assert run.code == 0, run.stdout + run.stderr
    assert fixture_hub.count() == 0


def test_hostile_strings_in_code_cannot_inject_markup_or_escapes(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = "<img src=x onerror=alert(1)>|[x](javascript:alert(1))\\x1b]0;pwned\\x07"
    write(
        tmp_path,
        "app.py",
        f'from transformers import AutoModel\nAutoModel.from_pretrained("{hostile}")\n',
    )
    md = check(fixture_hub, store, "--format", "markdown")
    assert md.code == 0  # unresolved is a warning under the default policy
    assert "\\<img" in md.stdout
    assert not re.search(r"(?<!\\)<img", md.stdout) and not re.search(r"(?<!\\)\]\(java", md.stdout)
    assert "\x1b" not in md.stdout and "\x07" not in md.stdout
    row = next(line for line in md.stdout.splitlines() if "check/unresolved" in line)
    assert row.count(" | ") == 4  # the pipe inside the string did not open a new cell
    text = check(fixture_hub, store)
    assert "\x1b" not in text.stdout and text.stdout.startswith(
        "app.py:2:27: warning check/unresolved"
    )


def test_a_codebase_without_models_passes(
    fixture_hub: FakeHub, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "app.py", "print('no models here')\n")
    run = check(fixture_hub, store, "--format", "json")
    assert run.code == 0
    doc = json.loads(run.stdout)
    assert doc["summary"]["references"] == 0 and doc["violations"] == []
    assert fixture_hub.count() == 0


def test_drift_probe_reads_only_the_commit_and_never_trusts_a_bad_answer(
    fixture_hub: FakeHub,
) -> None:
    """The drift probe asks for the commit alone; a garbled answer or a missing repository is
    an error (the model is then audited again, so the audit says why), never a commit."""
    from openaudit.hub import HubClient
    from openaudit.hub.client import HubError
    from openaudit.model import ModelRef

    client = HubClient(fixture_hub.url)
    ref = ModelRef("acme/tiny-apache-encoder")
    assert client.current_commit(ref) == client.resolve_info(ref)["sha"]
    fixture_hub.fail("/api/models/acme/tiny-apache-encoder", malformed=True, times=None)
    with pytest.raises(HubError):
        client.current_commit(ref)
    fixture_hub.reset()
    with pytest.raises(HubError) as err:
        client.current_commit(ModelRef("acme/no-such-model"))
    assert err.value.problem.reason == "not-found"
