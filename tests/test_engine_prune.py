"""The rules read a pruned fact tree (only what their conditions mention): they must decide
exactly as on the whole tree, on every fixture model and on arbitrary trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openaudit.model import Finding, ModelRef
from openaudit.rules.engine import (
    Judge,
    condition_reads,
    evaluate_rule,
    fact_tree,
    import_cel,
    prune,
)
from openaudit.rules.loader import load_rules
from openaudit.rules.osai_index import _judge as osai_judge
from tests.fakehub import FakeHub


def _both(judge: Judge, facts: Any) -> tuple[list[Finding | None], list[Finding | None]]:
    cel = import_cel()
    whole = cel.Context(variables=fact_tree(facts))
    pruned = cel.Context(variables=prune(fact_tree(facts), *judge._reads))
    dims = judge.ruleset.dimensions
    out: tuple[list[Finding | None], list[Finding | None]] = ([], [])
    for rule in judge.ruleset.rules:
        program = judge._programs[rule.id]
        for context, found in ((whole, out[0]), (pruned, out[1])):
            found.append(evaluate_rule(rule, facts, context, program, dims.get(rule.dimension)))
    return out


def test_every_rule_decides_the_same_on_the_pruned_tree(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    from openaudit.facts import extract
    from openaudit.kb import load_kb
    from openaudit.pipeline import AuditOptions, collect

    ids = fixture_hub.repo_ids("model")
    bundles = collect(
        [ModelRef(i) for i in ids], AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path)
    )
    judges = [Judge(load_rules(())), osai_judge()]
    kb = load_kb()
    decided = 0
    for bundle in bundles:
        facts = extract(bundle, kb)
        for judge in judges:
            whole, pruned = _both(judge, facts)
            assert whole == pruned, bundle.ref
            decided += sum(f is not None and f.branch in ("true", "false") for f in whole)
    assert len(bundles) == len(ids) >= 20
    assert decided > 500  # the comparison covered rules that really evaluated


def test_condition_reads_ignores_string_literals() -> None:
    paths, bare = condition_reads(['licence.terms.exists(t, t.name == "repo.secret") && x'])
    # The macro reads all of licence.terms: its path is kept without the macro's name.
    assert "licence.terms" in paths and "licence.terms.exists" not in paths
    assert "repo.secret" not in paths
    assert "x" in bare


_KEY = st.sampled_from(["a", "b", "c", "d"])
_LEAF = st.one_of(st.integers(-3, 3), st.booleans(), st.text("xy", max_size=2))
_TREE = st.recursive(
    _LEAF | st.lists(_LEAF, max_size=3),
    lambda inner: st.dictionaries(_KEY, inner, max_size=4),
    max_leaves=12,
)
_PATH = st.lists(_KEY, min_size=1, max_size=4).map(".".join)


def _eval(expr: str, tree: dict[str, Any]) -> Any:
    cel = import_cel()
    try:
        return ("ok", cel.evaluate(expr, cel.Context(variables=tree)))
    except Exception as exc:  # the kind of failure is what is compared
        return ("error", type(exc).__name__)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEY, _TREE, max_size=4), st.lists(_PATH, min_size=1, max_size=3))
def test_paths_read_the_same_on_the_pruned_tree(tree: dict[str, Any], paths: list[str]) -> None:
    """A path a condition mentions, or `has()` of it, or its size, evaluates the same (value or
    error) whether the tree was pruned to the mentioned paths or not."""
    for path in paths:
        # A root alone is a bare name; a dotted path is a path.
        exprs = [path, f"{path}.exists(x, true)", f"{path}.all(x, false)", f"{path}.size()"]
        if "." in path:
            exprs += [f"has({path})", f"size({path}) >= 0"]
        for expr in exprs:  # each condition pruned for itself alone
            pruned = prune(tree, *condition_reads([expr]))
            assert _eval(expr, tree) == _eval(expr, pruned), (expr, tree, pruned)


def test_prune_keeps_maps_on_the_way_so_has_stays_false() -> None:
    tree = {"licence": {"ids": ["mit"], "terms": {"x": 1}}, "repo": {"big": list(range(100))}}
    pruned = prune(tree, frozenset({"licence.missing", "licence.ids"}), frozenset())
    assert pruned == {"licence": {"ids": ["mit"]}}
    assert _eval("has(licence.missing)", pruned) == _eval("has(licence.missing)", tree)


@pytest.mark.parametrize(
    "expr", ["a.b.exists(t, t == 1)", "size(a)", "'k' in a", "a.exists(k, k == 'k')", "a.size()"]
)
def test_a_method_or_a_bare_map_keeps_the_whole_subtree(expr: str) -> None:
    tree = {"a": {"b": [1, 2], "k": {"deep": True}}}
    assert _eval(expr, prune(tree, *condition_reads([expr]))) == _eval(expr, tree)
