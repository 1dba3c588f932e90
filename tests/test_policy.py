"""The policy stage on its own: licence states through SPDX expressions, defaults, exceptions.

Verdicts here are built by hand (the policy only reads them), so each case isolates one rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from openaudit.kb import load_kb
from openaudit.model import CodeRef, Dimension, Fact, Facts, Verdict
from openaudit.policy import PolicyError, apply_exceptions, default_policy, judge, load_policy
from openaudit.policy.evaluate import licence_state


def verdict(ids: tuple[str, ...], declared: str | None = None, **statuses: str) -> Verdict:
    dims = {
        "licence": "open",
        "commercial_use": "allowed",
        "weights": "open",
        "training_data": "open",
        "code": "open",
        "documentation": "open",
        **statuses,
    }
    items: dict[str, Fact] = {}
    if declared is not None:
        items["licence.declared"] = Fact(
            "licence.declared", [{"field": "license", "value": declared}]
        )
    return Verdict(
        id="acme/m",
        revision="a" * 40,
        source="hub",
        licence_ids=ids,
        dimensions=tuple(Dimension(k, v, f"{k} {v}") for k, v in dims.items()),
        facts=Facts("acme/m", "a" * 40, items),
    )


def policy(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "openaudit-policy.yaml"
    path.write_text(text)
    return load_policy(path)


def test_or_lets_the_user_choose_and_and_binds_every_licence(tmp_path: Path) -> None:
    kb = load_kb()
    p = policy(tmp_path, "licenses: {approved: [MIT], forbidden: [CC-BY-NC-4.0]}\n")
    either = verdict(("mit", "cc-by-nc-4.0"), declared="MIT OR CC-BY-NC-4.0")
    both = verdict(("mit", "cc-by-nc-4.0"), declared="MIT AND CC-BY-NC-4.0")
    assert licence_state(p, either, kb)[0] == "approved"
    assert licence_state(p, both, kb)[0] == "forbidden"
    # Without a declared expression, every licence found applies.
    assert licence_state(p, verdict(("mit", "cc-by-nc-4.0")), kb)[0] == "forbidden"


def test_names_resolve_through_the_knowledge_base_not_substrings(tmp_path: Path) -> None:
    kb = load_kb()
    p = policy(tmp_path, "licenses: {forbidden: [cc-by-nc-4.0]}\n")
    # `cc-by-4.0` contains no `nc`, `cc-by-nc-sa-4.0` contains `cc-by-nc`: neither is the listed id.
    assert licence_state(p, verdict(("cc-by-4.0",)), kb)[0] == "approved"
    assert licence_state(p, verdict(("cc-by-nc-sa-4.0",)), kb)[0] == "approved"
    assert licence_state(p, verdict(("cc-by-nc-4.0",)), kb)[0] == "forbidden"


def test_kinds_and_unlisted_and_unknown_terms(tmp_path: Path) -> None:
    kb = load_kb()
    p = policy(
        tmp_path,
        "kinds: {review: [community]}\nlicenses: {approved: [llama3.1]}\nunlisted_licence: approved\n",
    )
    assert licence_state(p, verdict(("llama3.1",)), kb)[0] == "approved"  # the id beats its kind
    assert licence_state(p, verdict(("gemma",)), kb)[0] == "review"
    # `other` names no terms: never approved, whatever `unlisted_licence` says.
    assert licence_state(p, verdict(("other",)), kb)[0] == "review"


def test_default_policy_fails_prohibited_and_unknown_and_warns_conditional() -> None:
    kb = load_kb()
    p = default_policy()
    levels = {
        name: sorted((v.rule, v.level) for v in judge(p, v, kb))
        for name, v in {
            "nc": verdict(("cc-by-nc-4.0",), commercial_use="prohibited", licence="restricted"),
            "unknown": verdict((), commercial_use="unknown", licence="unknown"),
            "llama": verdict(("llama3.1",), commercial_use="conditional", licence="restricted"),
            "mit": verdict(("mit",)),
        }.items()
    }
    assert levels["nc"] == [("policy/dimension", "error")]
    assert levels["unknown"] == [("policy/dimension", "error"), ("policy/dimension", "error")]
    assert levels["llama"] == [("policy/dimension", "warning")]
    assert levels["mit"] == []


def test_mof_and_osaid_minimums(tmp_path: Path) -> None:
    p = policy(tmp_path, "min_mof_class: 2\nosaid: conformant\ndimensions: {}\n")
    rules = sorted(v.rule for v in judge(p, verdict(("mit",)), load_kb()))
    assert rules == ["policy/mof-class", "policy/osaid"]


def test_exceptions_live_expired_and_per_revision(tmp_path: Path) -> None:
    p = policy(
        tmp_path,
        "exceptions:\n"
        "  - {model: acme/m, reason: pilot, owner: legal, expires: '2026-06-30'}\n"
        "  - {model: acme/other, revision: "
        + "b" * 40
        + ", reason: r, owner: o, expires: '2099-01-01'}\n",
    )
    found = judge(p, verdict(("cc-by-nc-4.0",), commercial_use="prohibited"), load_kb())
    ref = CodeRef("app.py", 3, 5, "pipeline", "hub", repo_id="acme/m")
    found = [v.__class__(**{**v.__dict__, "ref": ref}) for v in found]
    live = apply_exceptions(p, found, date(2026, 6, 30))
    assert [(v.rule, bool(v.suppressed)) for v in live] == [("policy/dimension", True)]
    expired = apply_exceptions(p, found, date(2026, 7, 1))
    assert [(v.rule, v.level, bool(v.suppressed)) for v in expired] == [
        ("policy/dimension", "error", False),
        ("policy/exception-expired", "error", False),
    ]
    assert "expired on 2026-06-30" in expired[1].message


def test_unknown_exception_rule_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(
        PolicyError, match=r"exceptions\[0\]\.rules\[0\]: unknown rule 'policy/nope'"
    ):
        policy(
            tmp_path,
            "exceptions:\n  - {model: a/b, rules: [policy/nope], reason: r, owner: o, expires: '2030-01-01'}\n",
        )


def test_a_policy_can_gate_derivative_rights(tmp_path: Path) -> None:
    """A team that publishes fine-tunes fails models whose derivatives may not be shared."""
    kb = load_kb()
    p = policy(
        tmp_path,
        "dimensions: {derivatives: {fail: [prohibited, unknown], warn: [conditional]}}\n",
    )
    nd = verdict(("cc-by-nd-4.0",), licence="restricted", derivatives="prohibited")
    llama = verdict(("llama3.1",), licence="restricted", derivatives="conditional")
    mit = verdict(("mit",), derivatives="allowed")
    found = {
        name: [(x.rule, x.level) for x in judge(p, v, kb)]
        for name, v in {"nd": nd, "llama": llama, "mit": mit}.items()
    }
    assert ("policy/dimension", "error") in found["nd"]
    assert ("policy/dimension", "warning") in found["llama"]
    assert ("policy/dimension", "error") not in found["llama"]
    assert found["mit"] == []
