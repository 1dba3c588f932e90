"""The pre-commit hook's and the GitHub Action's command lines, run as they would be run.

Each test reads the command from `.pre-commit-hooks.yaml` / `action.yml` at the repo root and
executes it in a subprocess (bash for the Action's steps, as GitHub runs composite steps), with
the `openaudit` of this environment on PATH and the fake Hub as HF_ENDPOINT.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakehub import FakeHub

ROOT = Path(__file__).resolve().parents[1]
NC = "94458ae54ca001409884d587d15ad1ddc2a4a755"
APACHE = "b9e3ddc54563a8a03b098b2e53dcc1a64f42f459"
LOAD = "from transformers import AutoModel\nm = AutoModel.from_pretrained({!r}, revision={!r})\n"


def env_for(hub: FakeHub, store: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_ENDPOINT"] = hub.url
    env["OPENAUDIT_CACHE_DIR"] = str(store)
    env.update(extra)
    return env


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the policy and lockfile search stops here
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ok.py").write_text(LOAD.format("acme/tiny-apache-encoder", APACHE))
    (tmp_path / "src" / "nc.py").write_text(LOAD.format("acme/nc-summarizer", NC))
    (tmp_path / "README.md").write_text("AutoModel.from_pretrained('acme/nc-summarizer')\n")
    return tmp_path


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (only,) = [h for h in hooks if h["id"] == "openaudit-check"]
    return dict(only)


def run_hook(
    hub: FakeHub, store: Path, repo: Path, files: list[str]
) -> subprocess.CompletedProcess[str]:
    spec = hook()
    pattern = re.compile(spec["files"])
    chosen = [f for f in files if pattern.search(f)]
    assert spec["pass_filenames"] is True
    cmd = [*shlex.split(spec["entry"]), *chosen]
    return subprocess.run(
        cmd, cwd=repo, env=env_for(hub, store), capture_output=True, text=True, timeout=120
    )


def test_pre_commit_hook_fails_a_change_that_adds_a_non_commercial_model(
    fixture_hub: FakeHub, tmp_path_factory: pytest.TempPathFactory, repo: Path
) -> None:
    store = tmp_path_factory.mktemp("store")
    ok = run_hook(fixture_hub, store, repo, ["src/ok.py", "README.md"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_hook(fixture_hub, store, repo, ["src/ok.py", "src/nc.py", "README.md"])
    assert bad.returncode == 1
    assert bad.stdout.startswith("src/nc.py:2:31: error policy/dimension acme/nc-summarizer: ")
    assert not any(line.startswith("README.md") for line in bad.stdout.splitlines())


def _steps() -> dict[str, dict[str, Any]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"paths", "policy", "format", "fail-on"}
    return {s.get("id") or s.get("name", ""): s for s in action["runs"]["steps"]}


def run_action(
    hub: FakeHub, store: Path, repo: Path, tmp: Path, **inputs: str
) -> tuple[int, dict[str, str]]:
    """The check step then the result step, with the inputs' defaults as GitHub would fill them."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    steps = _steps()
    check = steps["check"]
    env = env_for(hub, store, RUNNER_TEMP=str(tmp), GITHUB_OUTPUT=str(tmp / "output"),
                  GITHUB_STEP_SUMMARY=str(tmp / "summary.md"))  # fmt: skip
    for name, template in check["env"].items():
        m = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", str(template))
        if m:
            env[name] = values[m.group(1)]
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
    step = subprocess.run(
        [*bash, check["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert step.returncode == 0, step.stderr  # the check step never fails: SARIF must upload first
    outputs = dict(line.split("=", 1) for line in (tmp / "output").read_text().splitlines())
    result = steps["Result"]
    env["OA_CODE"] = outputs["exit-code"]
    final = subprocess.run([*bash, result["run"]], cwd=repo, env=env, timeout=30)
    return final.returncode, outputs


def test_action_uploads_sarif_writes_the_summary_and_fails(
    fixture_hub: FakeHub, tmp_path_factory: pytest.TempPathFactory, repo: Path
) -> None:
    store, tmp = tmp_path_factory.mktemp("store"), tmp_path_factory.mktemp("runner")
    code, outputs = run_action(fixture_hub, store, repo, tmp)
    assert (code, outputs["exit-code"]) == (1, "1")
    sarif = json.loads((repo / "openaudit.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {"src/nc.py"}
    assert (tmp / "summary.md").read_text().startswith("## openaudit check: ❌ failed")
    upload = _steps()["Upload SARIF"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"


def test_action_inputs_policy_paths_and_fail_on(
    fixture_hub: FakeHub, tmp_path_factory: pytest.TempPathFactory, repo: Path
) -> None:
    store = tmp_path_factory.mktemp("store")
    code, _ = run_action(fixture_hub, store, repo, tmp_path_factory.mktemp("r"), fail_on="never")
    assert code == 0
    code, _ = run_action(fixture_hub, store, repo, tmp_path_factory.mktemp("r"), paths="src/ok.py")
    assert code == 0
    (repo / "lenient.yaml").write_text("dimensions: {commercial_use: {warn: [prohibited]}}\n")
    code, _ = run_action(
        fixture_hub, store, repo, tmp_path_factory.mktemp("r"), policy="lenient.yaml"
    )
    assert code == 0
    code, outputs = run_action(
        fixture_hub, store, repo, tmp_path_factory.mktemp("r"), policy="missing.yaml"
    )
    assert (code, outputs["exit-code"]) == (2, "2")
