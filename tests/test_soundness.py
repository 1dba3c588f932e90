"""Caution is monotone in evidence: a property checked on every fixture (and every corpus model).

For each artefact an audit reads (the card, each licence or policy file, each config, each base,
each dataset) the model is audited again with that one artefact unreadable: a transient server
error (retries off), a gate, deleted, or (for the card) malformed front matter. Every dimension
must keep its status or become more cautious (`rules/dimensions.yml`), never be open / allowed /
conformant where the full audit is not, and never make a firm absence claim ("closed", "no
licence", a hygiene pass) that rests on the artefact it could not read. The number of cases is
printed (`pytest -s`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openaudit.model import ModelRef, Verdict
from openaudit.pipeline import AuditOptions, audit
from openaudit.rules.loader import load_rules
from tests.fakehub import FakeHub

#: Retries off: one failed request is the fault.
NO_RETRY = "1,0,0,0"
_LICENCE_TEXT = re.compile(
    r"^(licen[cs]e|copying|use[_-]?policy|acceptable[_-]?use|responsible[_-]?use)([._-].*)?$",
    re.IGNORECASE,
)
#: The status each dimension ends on when nothing at all holds it back (the most open).
_OPEN = {"licence": "open", "commercial_use": "allowed", "osaid": "conformant"}
#: Firm absence claims, and which kinds of artefact they could rest on (independent of the
#: tool's own table of sources: what a reviewer would say each claim is read from).
_ABSENCE: dict[str, tuple[str, frozenset[str]]] = {
    "licence": ("closed", frozenset({"card", "licence", "malformed"})),
    "training_data": ("closed", frozenset({"card", "dataset", "malformed"})),
    "code": ("closed", frozenset({"card", "malformed"})),
    "documentation": ("closed", frozenset({"card"})),
}
#: Hygiene passes that are about one kind of artefact.
_PASS_ABOUT = {
    "hygiene.licence-file-agrees": frozenset({"licence", "card", "malformed"}),
    "hygiene.licence-declared": frozenset({"malformed"}),
}


@dataclass(frozen=True)
class Artefact:
    model: str
    #: "card", "licence", "config", "base", "dataset".
    kind: str
    #: The request path the fault is injected on.
    path: str
    name: str


def _artefacts(v: Verdict, hub: FakeHub) -> Iterator[Artefact]:
    """What the full audit read for model `v`: its card, texts and configs, bases, datasets."""
    facts = v.facts
    assert facts is not None and v.revision is not None
    repo = hub._repo("model", v.id)
    listed = set(repo.sibling_names())
    for name in sorted(listed):
        if "/" in name:
            continue
        if name == "README.md":
            kind = "card"
        elif _LICENCE_TEXT.match(name):
            kind = "licence"
        elif name in ("config.json", "adapter_config.json"):
            kind = "config"
        else:
            continue
        if repo.read(name) is not None:
            yield Artefact(v.id, kind, f"/{v.id}/resolve/{v.revision}/{name}", name)
    for base in facts.value("lineage.base_ids", []) or []:
        if ("model", base) in hub._base_repos:
            yield Artefact(v.id, "base", f"/api/models/{base}", base)
    for ds in facts.value("data.available", []) or []:
        yield Artefact(v.id, "dataset", f"/api/datasets/{ds}", ds)


_FAULTS: dict[str, dict[str, Any]] = {
    "transient": {"status": 500},
    "gated": {
        "status": 401,
        "headers": {
            "X-Error-Code": "GatedRepo",
            "X-Error-Message": "Access to model is restricted",
        },
    },
    "deleted": {"status": 404, "headers": {"X-Error-Code": "EntryNotFound"}},
}


def _cautious_enough(dim: str, faulty: str, clean: str) -> str | None:
    """Why `faulty` is not an acceptable status where the full audit said `clean` (None: fine)."""
    spec = load_rules(()).dimensions[dim]
    order = spec.precedence
    if faulty == clean or faulty == spec.undecided:
        return None
    if faulty == _OPEN.get(dim, order[-1]):
        return f"{dim} {faulty} where the full audit says {clean}"
    if order.index(faulty) > order.index(clean):
        return f"{dim} {faulty} is less cautious than {clean}"
    return None


def check_case(clean: Verdict, faulty: Verdict, artefact: Artefact, fault: str) -> list[str]:
    """Every way the faulty verdict breaks the property; [] when it holds."""
    problems: list[str] = []
    where = f"{artefact.model} {fault} {artefact.kind}:{artefact.name}"
    pairs = [(d.name, faulty.dimension(d.name).status, d.status) for d in clean.dimensions]
    pairs.append(("osaid", faulty.osaid, clean.osaid))
    kind = "malformed" if fault == "malformed" else artefact.kind
    for dim, got, was in pairs:
        why = _cautious_enough(dim, got, was)
        if why:
            problems.append(f"{where}: {why}")
        absence = _ABSENCE.get(dim)
        if absence and got == absence[0] and kind in absence[1]:
            problems.append(f"{where}: {dim} {got} rests on the unread {artefact.name}")
    if kind in ("card", "malformed", "licence") and faulty.osaid == "not-conformant":
        rules = {f.rule for f in faulty.findings if f.dimension == "osaid" and f.status}
        absence_rules = {"osaid.data-information", "osaid.parameters-licensed"}
        if rules and rules <= absence_rules:
            problems.append(f"{where}: osaid not-conformant rests on an absence it did not read")
    for f in faulty.findings:
        if f.outcome == "pass" and kind in _PASS_ABOUT.get(f.rule, ()):
            problems.append(f"{where}: {f.rule} passes about the unread {artefact.name}")
    return problems


def _audit(hub: FakeHub, model: str) -> Verdict:
    options = AuditOptions(endpoint=hub.url, use_store=False, workers=1)
    return audit([ModelRef(model)], options).models[0]


def _malformed(hub: FakeHub, model: str) -> None:
    """Serve `model` as the Hub serves a card whose YAML front matter does not parse."""
    repo = hub._repo("model", model)
    files = {n: d for n in repo.files if (d := repo.read(n)) is not None}
    card = files["README.md"].decode("utf-8", "replace")
    if card.startswith("---\n"):
        card = "---\nlicense: [unclosed\n\ttab: x\n" + card[4:]
    files["README.md"] = card.encode()
    derived = ("license:", "base_model:", "dataset:")
    api = {k: v for k, v in repo.api.items() if k != "cardData"}
    api["tags"] = [t for t in repo.api.get("tags") or () if not str(t).startswith(derived)]
    hub.add_repo(api, files)


def run_property(hub: FakeHub, models: list[str], faults: tuple[str, ...]) -> tuple[int, list[str]]:
    """(cases checked, problems) over `models`, each artefact under each fault in `faults`."""
    hub.reset()
    cases, problems = 0, []
    for model in models:
        clean = _audit(hub, model)
        if not clean.audited or not clean.complete:
            continue  # nothing to compare with: the full audit already misses evidence
        for artefact in _artefacts(clean, hub):
            for fault in faults:
                if fault == "malformed" and artefact.kind != "card":
                    continue
                hub.reset()
                if fault == "malformed":
                    _malformed(hub, model)
                else:
                    spec = dict(_FAULTS[fault])
                    if artefact.kind in ("base", "dataset") and fault == "deleted":
                        spec["headers"] = {"X-Error-Code": "RepoNotFound"}
                    hub.fail(artefact.path, times=None, **spec)
                faulty = _audit(hub, model)
                hub.reset()
                cases += 1
                problems.extend(check_case(clean, faulty, artefact, fault))
    return cases, problems


ALL_FAULTS = ("transient", "gated", "deleted", "malformed")


def test_every_fixture_artefact_unread_is_never_more_open(
    fixture_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAUDIT_RETRY", NO_RETRY)
    cases, problems = run_property(fixture_hub, fixture_hub.repo_ids("model"), ALL_FAULTS)
    print(f"\nsoundness property: {cases} cases over the fixtures")
    assert cases >= 200
    assert not problems, "\n".join(problems[:40])


def test_every_corpus_artefact_unread_is_never_more_open(
    corpus_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same over ../shared/corpus (skipped when absent), its gated files served."""
    monkeypatch.setenv("OPENAUDIT_RETRY", NO_RETRY)
    corpus_hub.gated_open = True
    try:
        models = corpus_hub.repo_ids("model")
        cases, problems = run_property(corpus_hub, models, ALL_FAULTS)
    finally:
        corpus_hub.gated_open = False
    print(f"\nsoundness property: {cases} cases over the corpus")
    assert cases >= len(models)
    assert not problems, "\n".join(problems[:40])


def test_the_property_catches_a_verdict_made_more_open() -> None:
    """The check itself can fail: an open licence where the full audit said restricted."""
    from dataclasses import replace

    from openaudit.model import Dimension

    def verdict(licence: str, training: str) -> Verdict:
        dims = tuple(
            Dimension(n, s, "")
            for n, s in (
                ("licence", licence),
                ("commercial_use", "conditional"),
                ("training_data", training),
            )
        )
        return Verdict("x/y", "0" * 40, "hub", (), dims)

    artefact = Artefact("x/y", "card", "/x/y/resolve/0/README.md", "README.md")
    clean = verdict("restricted", "partial")
    assert check_case(clean, clean, artefact, "transient") == []
    assert check_case(clean, verdict("open", "partial"), artefact, "transient")
    assert check_case(clean, verdict("restricted", "closed"), artefact, "transient")
    assert check_case(clean, verdict("unknown", "unknown"), artefact, "transient") == []
    assert check_case(clean, replace(clean, osaid="conformant"), artefact, "gated")


def test_a_flaky_hub_without_retries_only_ever_says_unknown(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 % transient faults, retries off: each status is the fault-free one, or undecided
    naming what was not read; such models say `complete: false` and the run exits 3."""
    from tests.helpers import audit_json, by_id

    monkeypatch.setenv("OPENAUDIT_RETRY", NO_RETRY)
    ids = fixture_hub.repo_ids("model")
    clean = by_id(audit_json(fixture_hub.url, tmp_path / "clean", *ids, extra=("-q",)).json())
    fixture_hub.chaos(0.3, seed=30)
    try:
        run = audit_json(fixture_hub.url, tmp_path / "faulty", *ids, extra=("-q", "--jobs", "1"))
        faults = fixture_hub.chaos_faults
    finally:
        fixture_hub.chaos(0)
    models = by_id(run.json())
    assert list(models) == list(clean) and faults > 0
    undecided = {"unknown", "insufficient-information"}
    changed = 0
    for i, m in models.items():
        if not m["audited"]:
            continue  # the repo itself could not be read: named, exit 3
        for dim in [
            d for d in clean[i] if isinstance(clean[i][d], dict) and "status" in clean[i][d]
        ]:
            got, was = m[dim]["status"], clean[i][dim]["status"]
            if got == was:
                continue
            changed += 1
            assert got in undecided, (i, dim, got, was)
            assert m["complete"] is False, (i, dim)
            assert "not read" in m[dim]["summary"].lower(), (i, dim, m[dim]["summary"])
        if m["osaid"] != clean[i]["osaid"]:
            assert m["osaid"] == "insufficient-information" and m["complete"] is False, i
    incomplete = [i for i, m in models.items() if not m["audited"] or not m["complete"]]
    print(
        f"\n30 % faults, no retries: {faults} faults, {len(incomplete)} of {len(ids)} "
        f"models incomplete, {changed} statuses undecided"
    )
    assert incomplete and run.code == 3
