"""The audit pipeline end to end: real huggingface_hub client -> fake Hub -> report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openaudit.report.table import widths
from tests.conftest import FIXTURE_HUB_DIR
from tests.fakehub import ACCEPTED_TOKEN, UNACCEPTED_TOKEN, FakeHub
from tests.helpers import audit_json, by_id, run_cli, validate_report


def fixture_ids() -> list[str]:
    root = FIXTURE_HUB_DIR / "models"
    return sorted(
        f"{p.parent.name}/{p.name}" for p in root.glob("*/*") if (p / "api.json").is_file()
    )


def sha_of(repo_id: str) -> str:
    info = json.loads((FIXTURE_HUB_DIR / "models" / repo_id / "api.json").read_text())
    sha: str = info["sha"]
    return sha


@pytest.fixture(scope="module")
def all_fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One audit of every fixture model, shared by the assertions below."""
    with FakeHub(FIXTURE_HUB_DIR) as hub:
        run = audit_json(hub.url, tmp_path_factory.mktemp("store"), *fixture_ids())
    assert run.code == 3, run.stderr  # the disabled repo cannot be audited
    doc = run.json()
    assert [m["id"] for m in doc["models"]] == fixture_ids()
    return by_id(doc)


def test_every_fixture_is_in_the_report_and_valid(all_fixtures: dict[str, dict]) -> None:
    assert len(all_fixtures) >= 14
    for model in all_fixtures.values():
        for dim in (
            "licence",
            "commercial_use",
            "weights",
            "training_data",
            "code",
            "documentation",
        ):
            assert model[dim]["status"]
            assert model[dim]["summary"]


@pytest.mark.parametrize(
    ("repo", "ids", "licence", "commercial"),
    [
        ("acme/tiny-apache-encoder", ["apache-2.0"], "open", "allowed"),
        ("fixture-org/gpl-sequence-tagger", ["gpl-3.0"], "open", "allowed"),
        ("acme/rail-diffusion-mini", ["creativeml-openrail-m"], "restricted", "conditional"),
        # Its gated base's LICENSE was not read without a token: it could prohibit commercial use.
        ("acme/llama-3.1-acme-chat", ["llama3.1"], "restricted", "unknown"),
        ("acme/nc-summarizer", ["cc-by-nc-4.0"], "restricted", "prohibited"),
        ("acme/unlicensed-classifier", [], "closed", "prohibited"),
        # An unknown licence, but its name ("research license") and the card's licence section
        # ("non-commercial research use only") say what it withholds.
        (
            "fixture-org/custom-licence-lm",
            ["LicenseRef-fixture-research-license"],
            "restricted",
            "prohibited",
        ),
        # Its own LICENSE and USE_POLICY are behind the gate: restricted (read), terms undecided.
        ("fixture-org/llama-3.1-fixture-8b", ["llama3.1"], "restricted", "unknown"),
    ],
)
def test_licence_and_commercial_use(
    all_fixtures: dict[str, dict], repo: str, ids: list[str], licence: str, commercial: str
) -> None:
    model = all_fixtures[repo]
    assert model["licence"]["ids"] == ids
    assert model["licence"]["status"] == licence
    assert model["commercial_use"]["status"] == commercial
    assert model["revision"] == sha_of(repo)


@pytest.mark.parametrize(
    ("repo", "weights"),
    [
        ("acme/tiny-apache-encoder", "open"),
        ("acme/auto-gated-vit", "gated"),
        ("fixture-org/llama-3.1-fixture-8b", "gated"),
        ("acme/config-only-stub", "absent"),
        ("acme/llama-3.1-acme-chat-sql-lora", "open"),
        ("fixture-org/llama-3.1-acme-chat-GGUF", "open"),
        ("acme/disabled-model", "unknown"),
    ],
)
def test_weights(all_fixtures: dict[str, dict], repo: str, weights: str) -> None:
    assert all_fixtures[repo]["weights"]["status"] == weights


def test_adapter_only_is_reported(all_fixtures: dict[str, dict]) -> None:
    rules = {
        f["rule"] for f in all_fixtures["acme/llama-3.1-acme-chat-sql-lora"]["weights"]["findings"]
    }
    assert "weights-adapter-only" in rules


def test_findings_cite_evidence_pinned_to_the_commit(all_fixtures: dict[str, dict]) -> None:
    model = all_fixtures["acme/llama-3.1-acme-chat"]
    sha = sha_of("acme/llama-3.1-acme-chat")
    findings = model["licence"]["findings"] + model["commercial_use"]["findings"]
    assert findings
    for f in findings:
        assert f["evidence"], f
    urls = [e["url"] for f in findings for e in f["evidence"] if e["source"] in ("metadata", "file")]
    # Its own files are pinned to its commit; its gated base's unread files to the base's.
    base_sha = sha_of("fixture-org/llama-3.1-fixture-8b")
    assert urls and all(sha in u or (base_sha in u and "llama-3.1-fixture-8b" in u) for u in urls)
    assert any(sha in u for u in urls)
    locators = {e["locator"] for f in findings for e in f["evidence"]}
    assert any(loc.startswith("README.md:") for loc in locators)  # file and line of `license:`
    assert any(loc.startswith("LICENSE") for loc in locators)
    assert any(loc.startswith("licenses/llama3.1") for loc in locators)  # the knowledge-base entry


def test_gated_repo_without_token_lists_unread_files(all_fixtures: dict[str, dict]) -> None:
    model = all_fixtures["fixture-org/llama-3.1-fixture-8b"]
    reasons = {e["reason"] for e in model["errors"]}
    assert reasons == {"gated-no-token"}
    assert any(e["subject"].endswith("README.md") for e in model["errors"])


def test_unreadable_repo_and_related_problems_are_named(all_fixtures: dict[str, dict]) -> None:
    disabled = all_fixtures["acme/disabled-model"]
    assert disabled["revision"] is None
    assert [e["reason"] for e in disabled["errors"]] == ["disabled"]
    assert disabled["licence"]["status"] == "unknown"
    orphan = all_fixtures["fixture-org/orphan-finetune"]
    assert {"subject": "model:acme/retired-base-7b", "reason": "not-found"}.items() <= {
        k: v for e in orphan["errors"] for k, v in e.items() if k != "detail"
    }.items() or any(e["subject"] == "model:acme/retired-base-7b" for e in orphan["errors"])


def test_malformed_card_is_a_finding_not_a_crash(all_fixtures: dict[str, dict]) -> None:
    model = all_fixtures["fixture-org/broken-card"]
    assert any(e["reason"] == "malformed" for e in model["errors"])
    rules = {f["rule"]: f for f in model["findings"]}
    assert rules["hygiene.card-metadata-parses"]["outcome"] == "fail"


def test_deleted_repo_exit_code_and_message(fixture_hub: FakeHub, tmp_path: Path) -> None:
    run = audit_json(fixture_hub.url, tmp_path, "acme/retired-base-7b")
    assert run.code == 3
    doc = run.json()
    assert doc["models"][0]["errors"][0]["reason"] == "not-found"
    assert "acme/retired-base-7b" in run.stderr


def test_pinned_revision_is_never_fetched_twice(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ref = f"acme/tiny-apache-encoder@{sha_of('acme/tiny-apache-encoder')}"
    first = audit_json(fixture_hub.url, tmp_path, ref)
    assert first.code == 0
    assert fixture_hub.count() > 0
    fixture_hub.reset()
    second = audit_json(fixture_hub.url, tmp_path, ref)
    assert second.code == 0
    assert fixture_hub.count() == 0
    assert second.json()["models"] == first.json()["models"]


def test_offline_gives_the_same_json(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ids = ["acme/llama-3.1-acme-chat", "acme/nc-summarizer", "fixture-org/orphan-finetune"]
    online = audit_json(fixture_hub.url, tmp_path, *ids)
    fixture_hub.reset()
    offline = audit_json(fixture_hub.url, tmp_path, *ids, extra=("--offline",))
    assert fixture_hub.count() == 0
    # acme/llama-3.1-acme-chat's base is gated: its files were not read, online or offline.
    assert offline.code == online.code == 3
    assert "1 of 3 incomplete" in online.stderr and "acme/llama-3.1-acme-chat" in online.stderr
    # The run's own header says when and from where; the evidence and verdicts are identical.
    first, second = online.json(), offline.json()
    assert first.pop("endpoint") == fixture_hub.url and second.pop("endpoint") is None
    assert first.pop("generated_at") and second.pop("generated_at")
    assert second == first


def test_offline_names_what_the_store_lacks(tmp_path: Path) -> None:
    run = run_cli(
        "audit", "acme/never-seen", "--offline", "--format", "json", "--cache-dir", str(tmp_path)
    )
    assert run.code == 3
    model = run.json()["models"][0]
    assert model["errors"][0]["reason"] == "offline-missing"


def test_main_revision_is_asked_once_then_served_from_the_store(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    audit_json(fixture_hub.url, tmp_path, "acme/tiny-apache-encoder")
    fixture_hub.reset()
    audit_json(fixture_hub.url, tmp_path, "acme/tiny-apache-encoder")
    # Only the metadata calls that resolve `main` (the model's and its dataset's) to a commit;
    # no file is downloaded again.
    assert sorted(fixture_hub.paths()) == [
        "/api/datasets/fixture-org/open-web-text-sample",
        "/api/models/acme/tiny-apache-encoder",
    ]


@pytest.mark.parametrize(
    ("token", "reason"), [(UNACCEPTED_TOKEN, "gated-not-accepted"), (ACCEPTED_TOKEN, None)]
)
def test_gated_with_token(
    fixture_hub: FakeHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    token: str,
    reason: str | None,
) -> None:
    monkeypatch.setenv("HF_TOKEN", token)
    run = audit_json(fixture_hub.url, tmp_path, "fixture-org/llama-3.1-fixture-8b")
    model = run.json()["models"][0]
    reasons = {e["reason"] for e in model["errors"]}
    assert reasons == ({reason} if reason else set())
    if reason is None:
        # The LICENSE behind the gate was read and identified: the terms are decided.
        locators = {e["locator"] for f in model["licence"]["findings"] for e in f["evidence"]}
        assert any(loc.startswith("LICENSE:1") for loc in locators)
        assert model["commercial_use"]["status"] == "conditional"
        assert model["complete"] is True
    else:
        # Nothing behind the gate was read: undecided, naming what was not read; exit 3.
        assert model["commercial_use"]["status"] == "unknown"
        assert "LICENSE (gated-not-accepted)" in model["commercial_use"]["summary"]
        assert model["complete"] is False and run.code == 3
    # The token is never printed, logged or stored.
    assert token not in run.stdout and token not in run.stderr
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert token.encode() not in f.read_bytes()


def test_table_fits_80_columns(
    all_fixtures: dict[str, dict], fixture_hub: FakeHub, tmp_path: Path
) -> None:
    ids = fixture_ids()
    run = run_cli("audit", *ids, "--endpoint", fixture_hub.url, "--cache-dir", str(tmp_path))
    lines = run.stdout.splitlines()
    assert lines[0].split() == [
        "MODEL",
        "LICENCE",
        "STATUS",
        "COMMERCIAL",
        "DERIVATIVES",
        "WEIGHTS",
        "OSAID",
    ]
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b" not in run.stdout  # not a terminal: no colour
    table = lines[1 : lines.index("")]
    model_width, licence_width = widths(80)[:2]
    status_at = model_width + 1 + licence_width + 1
    # A row starts where the licence status is; the lines below continue its wrapped cells.
    starts = [
        i
        for i, line in enumerate(table)
        if line[status_at : status_at + 10].strip() and not line.startswith("  ")
    ]
    rows: dict[str, list[str]] = {}
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(table)
        block = [line for line in table[i:end] if not line.startswith("  why")]
        repo_id = "".join(line[:model_width].strip() for line in block)
        lic = "".join(
            line[model_width + 1 : model_width + 1 + licence_width].strip() for line in block
        )
        rest = " ".join(line[model_width + 1 + licence_width :] for line in block).split()
        rows[repo_id] = [repo_id, lic, *rest]
    nc = rows["acme/nc-summarizer"]
    assert nc[1:6] == ["cc-by-nc-4.0", "restricted", "prohibited", "conditional", "open"]
    assert nc[6:] == ["not", "conformant"]  # OSAID in words
    # Long ids are never cut: their lines (before the status lines wrap) join back to the id.
    assert set(ids) <= set(rows)
    # Input order, and every unknown or restricted dimension says why.
    assert [x for x in rows if x in ids] == [i for i in ids if i in rows]
    assert list(rows)[: len(ids)] == ids
    assert "  why licence restricted: Licence cc-by-nc-4.0 restricts use." in lines
    # Problems are grouped by cause: one line for the gate, naming the files.
    gated = [line for line in lines if line.startswith("! acme/auto-gated-vit")]
    assert len(gated) == 1 and "gated-no-token: 3 not read: README.md" in gated[0]
    assert any(line.startswith("! acme/disabled-model") for line in lines)
    assert any(line.startswith("Legend: ") for line in lines)


def test_markdown_report(fixture_hub: FakeHub, tmp_path: Path) -> None:
    out = tmp_path / "card.md"
    run = run_cli(
        "audit",
        "acme/llama-3.1-acme-chat",
        "acme/tiny-apache-encoder",
        "--format",
        "markdown",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path),
        "-o",
        str(out),
    )
    # The chat model's gated base could not be read without a token: incomplete, exit 3.
    assert run.code == 3 and run.stdout == ""
    text = out.read_text()
    assert text.startswith("# Openness scorecard")
    assert "## acme/llama-3.1-acme-chat" in text and "## acme/tiny-apache-encoder" in text
    assert "| Licence | **restricted** | Licence llama3.1 restricts use. |" in text
    assert f"/blob/{sha_of('acme/llama-3.1-acme-chat')}/LICENSE" in text
    assert "| restriction: user-threshold (700,000,000) |" in text


def test_from_file_keeps_order_and_names_bad_lines(fixture_hub: FakeHub, tmp_path: Path) -> None:
    listing = tmp_path / "models.txt"
    listing.write_text(
        "# models we ship\nacme/nc-summarizer\n\nacme/tiny-apache-encoder  # encoder\n"
    )
    run = audit_json(fixture_hub.url, tmp_path, extra=("--from-file", str(listing)))
    assert [m["id"] for m in run.json()["models"]] == [
        "acme/nc-summarizer",
        "acme/tiny-apache-encoder",
    ]
    listing.write_text("acme/ok\nnot a model id\n")
    bad = audit_json(fixture_hub.url, tmp_path, extra=("--from-file", str(listing)))
    assert bad.code == 2
    assert f"{listing}:2" in bad.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "nothing to audit"),
        (("not/a/valid/id",), "not a Hugging Face repo id"),
        (("--path", "/definitely/not/here"), "not a folder"),
        (("acme/x", "--format", "xml"), "Invalid value for '--format'"),
        (("datasets/acme/corpus",), "is a dataset: openaudit audits models"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: tuple[str, ...], needle: str, tmp_path: Path
) -> None:
    run = run_cli("audit", *args, "--cache-dir", str(tmp_path))
    assert run.code == 2
    assert needle in run.stderr
    assert "Traceback" not in run.stderr


def test_corpus_audits_without_traceback(corpus_hub: FakeHub, tmp_path: Path) -> None:
    ids = corpus_hub.repo_ids("model")
    run = audit_json(corpus_hub.url, tmp_path, *ids)
    assert run.code in (0, 3), run.stderr
    doc = run.json()
    validate_report(doc)
    assert sorted(m["id"] for m in doc["models"]) == sorted(ids)


def test_details_for_reviewers(
    all_fixtures: dict[str, dict], fixture_hub: FakeHub, tmp_path: Path
) -> None:
    details = all_fixtures["acme/tiny-apache-encoder"]["details"]
    assert details["parameters"] == 11179920
    assert details["memory_gb"]["bits_16"] > details["memory_gb"]["bits_4"] > 0
    assert details["datasets"] == ["fixture-org/open-web-text-sample"]
    assert details["weight_formats"] == ["safetensors"]
    gguf = all_fixtures["fixture-org/llama-3.1-acme-chat-GGUF"]["details"]
    assert gguf["relation"] == "quantized" and gguf["base_models"] == ["acme/llama-3.1-acme-chat"]
    out = tmp_path / "card.md"
    run_cli(
        "audit",
        "acme/tiny-apache-encoder",
        "--format",
        "markdown",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path),
        "-o",
        str(out),
    )
    assert "- Parameters: 11,179,920; memory about 0.02 GB at 16 bits" in out.read_text()
