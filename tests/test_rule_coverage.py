"""Every outcome of every shipped rule is produced by at least one fixture of our own.

A rule whose `on_false` never fires in any test is a rule nobody has seen work; this test
audits every fixture through the fake Hub and names each (rule, outcome) nothing reached.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openaudit.model import Finding, Scorecard
from openaudit.resources import data_dir
from openaudit.rules.loader import load_rules
from tests.conftest import FIXTURE_HUB_DIR

#: Outcomes that need more than one audit to happen, with the test that produces them.
COVERED_ELSEWHERE = {
    ("licence-files-unread", "false"): (
        "tests/test_reliability.py::test_an_unread_card_leaves_the_licence_unknown"
    ),
    ("commercial-files-unread", "false"): (
        "tests/test_reliability.py::test_an_unread_card_leaves_the_licence_unknown"
    ),
    ("lineage.dataset-unread", "missing"): (
        "tests/test_reliability.py::test_an_unread_dataset_leaves_commercial_use_unknown"
    ),
    (
        "hygiene.linked-licence-unchanged",
        "false",
    ): "tests/test_links.py::test_audit_identifies_the_licence_behind_the_link_and_reports_a_change",
    # A Llama fine-tune named "Llama...": its gated base is read only with a token.
    ("derivatives.name-prefix", "false"): (
        "tests/test_derivatives.py::test_llama_finetune_without_prefix_or_licence_copy"
    ),
}


@pytest.fixture(scope="module")
def scorecard(fixture_scorecard: Scorecard) -> Scorecard:
    return fixture_scorecard


def all_findings(scorecard: Scorecard) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for v in scorecard.models:
        out[v.id] = [*v.findings, *(f for d in v.dimensions for f in d.findings)]
    return out


def test_every_rule_outcome_is_exercised(scorecard: Scorecard) -> None:
    seen = {(f.rule, f.branch) for findings in all_findings(scorecard).values() for f in findings}
    uncovered = []
    for rule in load_rules(()).rules:
        for branch, outcome in (
            ("true", rule.on_true),
            ("false", rule.on_false),
            ("missing", rule.on_missing),
        ):
            key = (rule.id, branch)
            if outcome.outcome != "skip" and key not in seen and key not in COVERED_ELSEWHERE:
                uncovered.append(f"{rule.pack}/{rule.id} on_{branch}")
    assert not uncovered, "no fixture produces: " + ", ".join(uncovered)


def finding(scorecard: Scorecard, repo: str, rule: str) -> Finding:
    matches = [f for f in all_findings(scorecard)[repo] if f.rule == rule]
    assert matches, f"{repo}: no finding from {rule}"
    return matches[0]


def test_declared_licence_contradicted_by_the_licence_file(scorecard: Scorecard) -> None:
    v = next(m for m in scorecard.models if m.id == "cover-org/apache-over-llama2-licence")
    assert set(v.licence_ids) == {"apache-2.0", "llama2"}
    assert v.dimension("licence").status == "restricted"
    assert v.dimension("commercial_use").status == "conditional"
    conflict = finding(scorecard, v.id, "hygiene.licence-file-agrees")
    assert conflict.outcome == "fail"
    assert {e.locator.split(":")[0] for e in conflict.evidence} >= {"README.md", "LICENSE"}


@pytest.mark.parametrize(
    ("repo", "dimension", "status"),
    [
        ("cover-org/cc-family-model", "licence", "unknown"),
        ("cover-org/cc-family-model", "commercial_use", "unknown"),
        ("cover-org/no-file-list", "weights", "unknown"),
        # Added terms around a recognised MIT text: never called open until a person reads them.
        ("cover-org/mit-with-extra-terms", "licence", "unknown"),
        ("cover-org/mit-with-extra-terms", "commercial_use", "unknown"),
    ],
)
def test_cover_fixture_statuses(
    scorecard: Scorecard, repo: str, dimension: str, status: str
) -> None:
    v = next(m for m in scorecard.models if m.id == repo)
    assert v.dimension(dimension).status == status


@pytest.mark.parametrize(
    ("repo", "rule", "outcome", "needle"),
    [
        ("cover-org/dangling-licence-link", "hygiene.licence-link-resolves", "fail", "LICENSE.md"),
        (
            "cover-org/unlicensed-data-model",
            "hygiene.dataset-licence-known",
            "fail",
            "cover-org/unlicensed-corpus",
        ),
        ("cover-org/reupload-mirror", "hygiene.reupload", "info", "acme/tiny-apache-encoder"),
        (
            "cover-org/apache-over-llama2-licence",
            "hygiene.superseded",
            "info",
            "apache-over-llama2-licence-v2",
        ),
        (
            "cover-org/mit-with-extra-terms",
            "licence-file-extra-text",
            "unknown",
            "beyond the recognised",
        ),
    ],
)
def test_cover_fixture_findings(
    scorecard: Scorecard, repo: str, rule: str, outcome: str, needle: str
) -> None:
    f = finding(scorecard, repo, rule)
    assert f.outcome == outcome
    assert needle in f.message
    assert f.evidence


def test_fixture_readme_documents_every_fixture() -> None:
    readme = (FIXTURE_HUB_DIR / "README.md").read_text()
    repos = sorted(
        f"{p.parent.name}/{p.name}"
        for p in Path(FIXTURE_HUB_DIR).glob("*/*/*")
        if (p / "api.json").is_file()
    )
    missing = [r for r in repos if f"`{r}`" not in readme]
    assert not missing, missing


def test_every_finding_cites_evidence(scorecard: Scorecard) -> None:
    bare = [
        f"{model}: {f.rule} on_{f.branch}"
        for model, findings in all_findings(scorecard).items()
        for f in findings
        if not f.evidence
    ]
    assert not bare, bare


def test_evidence_links_are_pinned_to_the_audited_commit(scorecard: Scorecard) -> None:
    """A link into an audited repo names its commit, never a branch that can move."""
    for v in scorecard.models:
        for f in [*v.findings, *(x for d in v.dimensions for x in d.findings)]:
            for e in f.evidence:
                if (
                    e.url
                    and e.source in ("metadata", "file", "api", "tag")
                    and "/blob/main/" in e.url
                ):
                    raise AssertionError(f"{v.id}: {f.rule}: unpinned {e.url}")
                if e.url and e.url.startswith("http://127.0.0.1") and "/datasets/" not in e.url:
                    assert any(len(p) == 40 for p in e.url.split("/")), (v.id, f.rule, e.url)


def test_rules_name_only_facts_that_exist(scorecard: Scorecard) -> None:
    """A misspelt fact in `requires` or `cites` would make a rule silently 'missing' forever."""
    produced = {name for v in scorecard.models if v.facts is not None for name in v.facts.items}
    every_pack = load_rules((data_dir("rules") / "osai-index",))  # shipped, not a default pack
    unknown = [
        f"{rule.pack}/{rule.id}: {name}"
        for rule in every_pack.rules
        for name in (*rule.requires, *rule.cites)
        if name not in produced
    ]
    assert not unknown, unknown
