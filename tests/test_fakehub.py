"""The fake Hub, driven by the real ``huggingface_hub`` client over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from huggingface_hub import (
    HfApi,
    ModelCard,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.conftest import FIXTURE_HUB_DIR
from tests.fakehub import (
    ACCEPTED_TOKEN,
    DENIED_TOKEN,
    UNACCEPTED_TOKEN,
    FakeHub,
    git_blob_sha1,
)


def _api_jsons(kind: str) -> list[dict[str, Any]]:
    paths = sorted((FIXTURE_HUB_DIR / kind).glob("*/*/api.json"))
    return [json.loads(p.read_text("utf-8")) for p in paths]


MODELS = {d["id"]: d for d in _api_jsons("models")}
DATASETS = {d["id"]: d for d in _api_jsons("datasets")}
GATED = sorted(i for i, d in MODELS.items() if d.get("gated"))
READABLE = sorted(i for i, d in MODELS.items() if not d.get("disabled"))
OPEN = sorted(i for i in READABLE if i not in GATED)
DELETED = "acme/retired-base-7b"


def _files_dir(repo_id: str, kind: str = "models") -> Path:
    return FIXTURE_HUB_DIR / kind / repo_id / "files"


def _local_files(repo_id: str, kind: str = "models") -> set[str]:
    root = _files_dir(repo_id, kind)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Skip the client's retry back-off; return the sleeps it asked for."""
    import huggingface_hub.utils._http as hf_http

    slept: list[float] = []
    monkeypatch.setattr(hf_http.time, "sleep", slept.append)
    return slept


# --------------------------------------------------------------------------- the fixture set
def test_fixture_set_covers_the_cases() -> None:
    assert len(MODELS) >= 14
    assert DELETED not in MODELS
    assert any(d.get("gated") == "manual" for d in MODELS.values())
    assert any(d.get("gated") == "auto" for d in MODELS.values())
    assert {d["cardData"].get("license") for d in DATASETS.values()} >= {"cc-by-4.0", "cc-by-nc-4.0"}
    licences = {d.get("cardData", {}).get("license") for d in MODELS.values()}
    for lic in ("apache-2.0", "gpl-3.0", "creativeml-openrail-m", "llama3.1", "cc-by-nc-4.0"):
        assert lic in licences
    assert "cardData" not in MODELS["fixture-org/broken-card"]
    bases = [d.get("cardData", {}).get("base_model") for d in MODELS.values()]
    assert DELETED in bases


@pytest.mark.parametrize("repo_id", sorted(MODELS))
def test_fixture_api_json_is_consistent(repo_id: str) -> None:
    data = MODELS[repo_id]
    assert len(data["sha"]) == 40 and int(data["sha"], 16) >= 0
    for key in ("createdAt", "lastModified"):
        assert data[key].endswith("Z")
    if "siblings" in data:  # one fixture is stored without a file list on purpose
        names = {s["rfilename"] for s in data["siblings"]}
        assert _local_files(repo_id) <= names
    card = data.get("cardData")
    readme = (_files_dir(repo_id) / "README.md").read_text("utf-8")
    if card is not None:
        front = readme.split("---\n")[1]
        assert yaml.safe_load(front) == card
        lic = card.get("license")
        assert (f"license:{lic}" in data["tags"]) == bool(lic)
    for ds in (card or {}).get("datasets", []):
        assert f"dataset:{ds}" in data["tags"]


# --------------------------------------------------------------------------- metadata
@pytest.mark.parametrize("repo_id", READABLE)
def test_model_info_main_and_sha(fixture_hub: FakeHub, repo_id: str) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    info = api.model_info(repo_id)
    expected = MODELS[repo_id]
    assert info.id == repo_id
    assert info.sha == expected["sha"]
    assert info.gated == expected.get("gated", False)
    assert info.tags == expected["tags"]
    assert info.created_at is not None and info.last_modified is not None
    assert {s.rfilename for s in info.siblings or []} == {
        s["rfilename"] for s in expected.get("siblings", [])
    }
    if "cardData" in expected:
        assert info.card_data is not None
        assert info.card_data.get("license") == expected["cardData"].get("license")
    again = api.model_info(repo_id, revision=expected["sha"])
    assert again.sha == info.sha
    assert fixture_hub.count(f"/api/models/{repo_id}/revision/{expected['sha']}") == 1


@pytest.mark.parametrize("repo_id", READABLE)
def test_list_repo_files(fixture_hub: FakeHub, repo_id: str) -> None:
    files = HfApi(endpoint=fixture_hub.url).list_repo_files(repo_id)
    listed = {s["rfilename"] for s in MODELS[repo_id].get("siblings", [])}
    assert set(files) == (listed or _local_files(repo_id))


@pytest.mark.parametrize("repo_id", OPEN)
def test_download_readme(fixture_hub: FakeHub, repo_id: str, tmp_path: Path) -> None:
    sha = MODELS[repo_id]["sha"]
    path = hf_hub_download(
        repo_id, "README.md", revision=sha, endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    expected = (_files_dir(repo_id) / "README.md").read_bytes()
    assert Path(path).read_bytes() == expected
    assert f"/snapshots/{sha}/" in Path(path).as_posix()
    meta = get_hf_file_metadata(
        hf_hub_url(repo_id, "README.md", endpoint=fixture_hub.url), token=False
    )
    assert meta.commit_hash == sha
    assert meta.etag == git_blob_sha1(expected)
    assert meta.size == len(expected)


@pytest.mark.parametrize("dataset_id", sorted(DATASETS))
def test_dataset_info_files_and_download(
    fixture_hub: FakeHub, dataset_id: str, tmp_path: Path
) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    info = api.dataset_info(dataset_id)
    assert info.id == dataset_id
    assert info.card_data is not None
    assert info.card_data.license == DATASETS[dataset_id]["cardData"].get("license")
    assert api.dataset_info(dataset_id, revision=info.sha).sha == info.sha
    files = api.list_repo_files(dataset_id, repo_type="dataset")
    assert "README.md" in files and any(f.startswith("data/") for f in files)
    path = hf_hub_download(
        dataset_id, "README.md", repo_type="dataset", endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    assert (
        Path(path).read_bytes() == (_files_dir(dataset_id, "datasets") / "README.md").read_bytes()
    )
    assert fixture_hub.count(f"/datasets/{dataset_id}/resolve/main/README.md", method="HEAD") == 1


def test_models_reference_fixture_datasets(fixture_hub: FakeHub) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    card = api.model_info("acme/llama-3.1-acme-chat").card_data
    assert card is not None
    found, missing = [], []
    for ds in card.datasets or []:
        try:
            found.append(api.dataset_info(ds).id)
        except RepositoryNotFoundError:
            missing.append(ds)
    assert sorted(found) == ["fixture-org/nc-dialogues", "fixture-org/open-web-text-sample"]
    assert missing == ["acme/internal-instructions"]


def test_files_metadata_and_expand(fixture_hub: FakeHub) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    info = api.model_info("acme/tiny-apache-encoder", files_metadata=True)
    sizes = {s.rfilename: s.size for s in info.siblings or []}
    assert sizes["LICENSE"] == len(
        (_files_dir("acme/tiny-apache-encoder") / "LICENSE").read_bytes()
    )
    assert sizes["model.safetensors"] == 44719680
    assert info.safetensors is not None and info.safetensors.total == 11179920
    small = api.model_info("acme/tiny-apache-encoder", expand=["cardData", "gated"])
    assert small.card_data is not None and small.siblings is None and small.sha is None


def test_tree_lists_folders_when_not_recursive(fixture_hub: FakeHub) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    top = {e.path: type(e).__name__ for e in api.list_repo_tree("acme/rail-diffusion-mini")}
    assert top["unet"] == "RepoFolder" and top["LICENSE"] == "RepoFile"
    assert "unet/config.json" not in top
    sub = [e.path for e in api.list_repo_tree("acme/rail-diffusion-mini", path_in_repo="unet")]
    assert sorted(sub) == ["unet/config.json", "unet/diffusion_pytorch_model.safetensors"]


def test_corpus_only_fields_stripped_and_dates_fixed(fixture_hub: FakeHub) -> None:
    fixture_hub.add_repo(
        {
            "id": "acme/synthetic",
            "sha": "a" * 40,
            "_sha_synthetic": True,
            "_siblings_incomplete": True,
            "createdAt": "2024-01-01T00:00:00+00:00",
            "lastModified": "2024-01-02T00:00:00",
            "siblings": [{"rfilename": "README.md"}],
        },
        files={"README.md": "# hi\n"},
    )
    with urllib.request.urlopen(f"{fixture_hub.url}/api/models/acme/synthetic") as resp:
        raw = json.load(resp)
    assert "_sha_synthetic" not in raw and "_siblings_incomplete" not in raw
    assert raw["createdAt"] == "2024-01-01T00:00:00Z"
    assert raw["lastModified"] == "2024-01-02T00:00:00Z"
    info = HfApi(endpoint=fixture_hub.url).model_info("acme/synthetic")
    assert info.created_at is not None and info.created_at.year == 2024
    fixture_hub.reset()
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/synthetic")


def test_list_models_filters_and_pages(fixture_hub: FakeHub) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    apache = {m.id for m in api.list_models(filter="license:apache-2.0")}
    assert "acme/tiny-apache-encoder" in apache and "acme/nc-summarizer" not in apache
    acme = {m.id for m in api.list_models(author="acme")}
    assert acme and all(i.startswith("acme/") for i in acme)
    gated = {m.id for m in api.list_models(gated=True)}
    assert gated == set(GATED)
    with_card = next(iter(api.list_models(search="nc-summarizer", cardData=True)))
    assert with_card.card_data is not None and with_card.card_data.license == "cc-by-nc-4.0"
    fixture_hub.page_size = 3
    everything = [m.id for m in api.list_models()]
    assert len(everything) == len(MODELS) == len(set(everything))
    assert fixture_hub.count("/api/models", method="GET") >= -(-len(MODELS) // 3)
    files = api.list_repo_files("acme/tiny-apache-encoder")
    assert set(files) == {s["rfilename"] for s in MODELS["acme/tiny-apache-encoder"]["siblings"]}


def test_snapshot_download_small_files(fixture_hub: FakeHub, tmp_path: Path) -> None:
    folder = snapshot_download(
        "acme/llama-3.1-acme-chat",
        allow_patterns=["README.md", "LICENSE*", "USE_POLICY.md", "*.json"],
        endpoint=fixture_hub.url,
        cache_dir=tmp_path,
    )
    got = {p.name for p in Path(folder).iterdir()}
    assert {"README.md", "LICENSE", "USE_POLICY.md", "config.json"} <= got
    text = (Path(folder) / "LICENSE").read_text("utf-8")
    assert "700 million monthly active users" in text


def test_revision_alias_is_url_quoted(fixture_hub: FakeHub, tmp_path: Path) -> None:
    repo = "acme/tiny-apache-encoder"
    api = HfApi(endpoint=fixture_hub.url)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision="refs/pr/1")
    fixture_hub.add_revision(repo, "refs/pr/1")
    assert api.model_info(repo, revision="refs/pr/1").sha == MODELS[repo]["sha"]
    assert fixture_hub.count(f"/api/models/{repo}/revision/refs%2Fpr%2F1") == 2
    path = hf_hub_download(
        repo, "config.json", revision="refs/pr/1", endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    assert json.loads(Path(path).read_text())["model_type"] == "bert"


# --------------------------------------------------------------------------- errors
def test_deleted_repo_is_not_found(fixture_hub: FakeHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    base = api.model_info("fixture-org/orphan-finetune").card_data
    assert base is not None and base.base_model == DELETED
    with pytest.raises(RepositoryNotFoundError) as err:
        api.model_info(DELETED)
    assert not isinstance(err.value, GatedRepoError)
    assert err.value.response is not None and err.value.response.status_code == 404
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(DELETED, "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("acme/internal-instructions")


def test_missing_revision(fixture_hub: FakeHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/tiny-apache-encoder", revision="f" * 40)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            "acme/tiny-apache-encoder",
            "README.md",
            revision="v9.9",
            endpoint=fixture_hub.url,
            cache_dir=tmp_path,
        )
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_files("acme/tiny-apache-encoder", revision="no-such-branch")


def test_weights_are_listed_but_not_served(fixture_hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(EntryNotFoundError) as err:
        hf_hub_download(
            "acme/tiny-apache-encoder",
            "model.safetensors",
            endpoint=fixture_hub.url,
            cache_dir=tmp_path,
        )
    assert isinstance(err.value, RemoteEntryNotFoundError)
    assert fixture_hub.requests[-1] == (
        "HEAD",
        "/acme/tiny-apache-encoder/resolve/main/model.safetensors",
        404,
        False,
    )


def test_disabled_repo(fixture_hub: FakeHub) -> None:
    with pytest.raises(DisabledRepoError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/disabled-model")


def test_malformed_card_is_served_without_card_data(fixture_hub: FakeHub, tmp_path: Path) -> None:
    info = HfApi(endpoint=fixture_hub.url).model_info("fixture-org/broken-card")
    assert info.card_data is None
    assert not any(t.startswith("license:") for t in info.tags or [])
    path = hf_hub_download(
        "fixture-org/broken-card", "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    with pytest.raises(yaml.YAMLError):
        ModelCard.load(path)


# --------------------------------------------------------------------------- gating
@pytest.mark.parametrize("repo_id", GATED)
def test_gated_metadata_is_public(fixture_hub: FakeHub, repo_id: str) -> None:
    info = HfApi(endpoint=fixture_hub.url).model_info(repo_id)
    assert info.gated in ("auto", "manual")
    assert info.card_data is not None
    assert info.card_data.license == MODELS[repo_id]["cardData"]["license"]
    assert info.card_data.get("extra_gated_prompt")
    assert "LICENSE" in HfApi(endpoint=fixture_hub.url).list_repo_files(repo_id)


@pytest.mark.parametrize("repo_id", GATED)
def test_gated_files_need_an_accepted_token(
    fixture_hub: FakeHub, repo_id: str, tmp_path: Path
) -> None:
    def get(token: str | bool, sub: str) -> str:
        return hf_hub_download(
            repo_id,
            "LICENSE",
            endpoint=fixture_hub.url,
            cache_dir=tmp_path / sub,
            token=token,
        )

    with pytest.raises(GatedRepoError) as anon:
        get(False, "anon")
    assert anon.value.response is not None and anon.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as unaccepted:
        get(UNACCEPTED_TOKEN, "unaccepted")
    assert unaccepted.value.response is not None
    assert unaccepted.value.response.status_code == 403
    assert "accept the conditions" in str(unaccepted.value)
    path = get(ACCEPTED_TOKEN, "accepted")
    assert Path(path).read_bytes() == (_files_dir(repo_id) / "LICENSE").read_bytes()
    statuses = [(r.status, r.authorized) for r in fixture_hub.requests if r.method == "HEAD"]
    assert statuses == [(401, False), (403, True), (200, True)]


def test_gated_token_sets_are_configurable(fixture_hub: FakeHub, tmp_path: Path) -> None:
    repo = "fixture-org/llama-3.1-fixture-8b"
    url = hf_hub_url(repo, "README.md", endpoint=fixture_hub.url)
    with pytest.raises(HfHubHTTPError) as denied:
        get_hf_file_metadata(url, token=DENIED_TOKEN)
    assert not isinstance(denied.value, GatedRepoError)
    assert denied.value.response is not None and denied.value.response.status_code == 403
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(
            repo, "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path, token=DENIED_TOKEN
        )
    fixture_hub.accepted_tokens.add("hf_custom")
    assert get_hf_file_metadata(url, token="hf_custom").commit_hash == MODELS[repo]["sha"]
    fixture_hub.reset()
    with pytest.raises(GatedRepoError):
        get_hf_file_metadata(url, token="hf_custom")


def test_private_repo_needs_token(fixture_hub: FakeHub) -> None:
    fixture_hub.add_repo({"id": "acme/private-one", "private": True, "siblings": []})
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/private-one")
    info = HfApi(endpoint=fixture_hub.url, token=ACCEPTED_TOKEN).model_info("acme/private-one")
    assert info.private is True


# --------------------------------------------------------------------------- counter and faults
def test_request_counter(fixture_hub: FakeHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    assert fixture_hub.count() == 0
    api.model_info("acme/nc-summarizer")
    api.model_info("acme/nc-summarizer")
    hf_hub_download("acme/nc-summarizer", "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path)
    hf_hub_download("acme/nc-summarizer", "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path)
    assert fixture_hub.count("/api/models/acme/nc-summarizer") == 2
    assert fixture_hub.count("/acme/nc-summarizer/resolve/", method="HEAD") == 2
    assert fixture_hub.count("/acme/nc-summarizer/resolve/", method="GET") == 1  # cached by ETag
    assert fixture_hub.count() == 5
    assert all(not r.authorized for r in fixture_hub.requests)
    assert all(r.status == 200 for r in fixture_hub.requests)
    assert "/api/agent-harnesses" not in fixture_hub.paths()
    fixture_hub.reset()
    assert fixture_hub.count() == 0 and fixture_hub.requests == []


def test_fault_500_once_on_model_info(fixture_hub: FakeHub) -> None:
    api = HfApi(endpoint=fixture_hub.url)
    rule = fixture_hub.fail("/api/models/acme/tiny-apache-encoder", status=500)
    with pytest.raises(HfHubHTTPError) as err:
        api.model_info("acme/tiny-apache-encoder")
    assert err.value.response is not None and err.value.response.status_code == 500
    assert not isinstance(err.value, RepositoryNotFoundError)
    assert rule.exhausted
    assert api.model_info("acme/tiny-apache-encoder").id == "acme/tiny-apache-encoder"
    assert [r.status for r in fixture_hub.requests] == [500, 200]


def test_fault_429_with_retry_after(fixture_hub: FakeHub) -> None:
    fixture_hub.fail("/api/models/", status=429, headers={"Retry-After": "0"})
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer")
    assert err.value.response is not None
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "0"


def test_fault_with_error_code_header(fixture_hub: FakeHub) -> None:
    fixture_hub.fail(
        "/api/models/acme/nc-summarizer", status=404, headers={"X-Error-Code": "RepoNotFound"}
    )
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer")


def test_fault_503_on_download_is_retried(
    fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float]
) -> None:
    fixture_hub.fail("/acme/nc-summarizer/resolve/", status=503, times=2, method="HEAD")
    path = hf_hub_download(
        "acme/nc-summarizer", "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    assert Path(path).is_file()
    heads = [r.status for r in fixture_hub.requests if r.method == "HEAD"]
    assert heads == [503, 503, 200]
    assert no_sleep  # the client backed off (without really sleeping)


def test_fault_reset_connection(fixture_hub: FakeHub) -> None:
    fixture_hub.fail("/api/models/acme/nc-summarizer", reset=True)
    with pytest.raises(httpx2.TransportError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer")
    assert fixture_hub.requests[-1].status == 0
    assert HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer").id


def test_fault_malformed_json(fixture_hub: FakeHub) -> None:
    fixture_hub.fail("/api/models/acme/nc-summarizer", malformed=True)
    with pytest.raises(ValueError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer")


def test_fault_malformed_head_drops_metadata(fixture_hub: FakeHub, tmp_path: Path) -> None:
    fixture_hub.fail("/acme/nc-summarizer/resolve/", malformed=True, method="HEAD")
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(
            "acme/nc-summarizer", "README.md", endpoint=fixture_hub.url, cache_dir=tmp_path
        )


def test_fault_truncated_body(fixture_hub: FakeHub, tmp_path: Path, no_sleep: list[float]) -> None:
    fixture_hub.fail("/api/models/acme/nc-summarizer", truncate=True)
    with pytest.raises(httpx2.TransportError):
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer")
    # a truncated download is resumed with a Range request and completes
    fixture_hub.fail("/acme/tiny-apache-encoder/resolve/", truncate=True, method="GET")
    path = hf_hub_download(
        "acme/tiny-apache-encoder", "LICENSE", endpoint=fixture_hub.url, cache_dir=tmp_path
    )
    assert (
        Path(path).read_bytes() == (_files_dir("acme/tiny-apache-encoder") / "LICENSE").read_bytes()
    )
    gets = [r.status for r in fixture_hub.requests if r.method == "GET" and "/resolve/" in r.path]
    assert gets[0] == 200 and len(gets) >= 2


def test_fault_latency_hits_the_client_timeout(fixture_hub: FakeHub) -> None:
    fixture_hub.fail("/api/models/acme/nc-summarizer", latency=0.5)
    with pytest.raises(httpx2.TimeoutException):
        HfApi(endpoint=fixture_hub.url).model_info("acme/nc-summarizer", timeout=0.1)


def test_fault_rule_validation(fixture_hub: FakeHub) -> None:
    with pytest.raises(ValueError):
        fixture_hub.fail("/api/")
    with pytest.raises(ValueError):
        fixture_hub.fail("/api/", status=500, times=0)


# --------------------------------------------------------------------------- the shared corpus
def test_corpus_replays(corpus_hub: FakeHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=corpus_hub.url)
    models = corpus_hub.repo_ids("model")
    assert models
    for repo_id in models:
        info = api.model_info(repo_id)
        assert info.id == repo_id and info.sha
        assert not hasattr(info, "_sha_synthetic") and not hasattr(info, "_siblings_incomplete")
        assert set(api.list_repo_files(repo_id, revision=info.sha)) >= {
            s.rfilename for s in info.siblings or []
        }
    for dataset_id in corpus_hub.repo_ids("dataset"):
        assert api.dataset_info(dataset_id).id == dataset_id
    readable = [
        i for i in models if not api.model_info(i).gated and "README.md" in api.list_repo_files(i)
    ]
    path = hf_hub_download(readable[0], "README.md", endpoint=corpus_hub.url, cache_dir=tmp_path)
    assert Path(path).stat().st_size > 0


def test_env_for_subprocesses(fixture_hub: FakeHub) -> None:
    env = fixture_hub.env(token=ACCEPTED_TOKEN)
    assert env["HF_ENDPOINT"] == fixture_hub.url and env["HF_TOKEN"] == ACCEPTED_TOKEN
    code = (
        "from huggingface_hub import ModelCard; "
        "print(ModelCard.load('fixture-org/llama-3.1-fixture-8b').data.license)"
    )
    import os

    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "llama3.1"


# --------------------------------------------------------------------------- standalone use
def test_context_manager_and_ports() -> None:
    with FakeHub(FIXTURE_HUB_DIR) as a, FakeHub(FIXTURE_HUB_DIR) as b:
        assert a.url != b.url
        assert a.url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = a.url
    with pytest.raises(FileNotFoundError):
        FakeHub(FIXTURE_HUB_DIR / "no-such-folder")


def test_unknown_paths_answer_404(fixture_hub: FakeHub) -> None:
    for path in ("/api/agent-harnesses", "/api/models/single-segment", "/nothing/here"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(fixture_hub.url + path)
        assert err.value.code == 404
        assert err.value.headers["X-Error-Code"] in (None, "RepoNotFound")
        err.value.close()


def test_module_runs_standalone() -> None:
    root = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakehub", str(FIXTURE_HUB_DIR), "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(
                f"{url}/api/models/acme/tiny-apache-encoder", timeout=5
            ) as r:
                assert json.load(r)["id"] == "acme/tiny-apache-encoder"
        finally:
            proc.terminate()
            proc.wait(timeout=5)
