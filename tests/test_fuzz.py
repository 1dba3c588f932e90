"""Property-based tests (hypothesis) of everything a repository's author controls: card front
matter, the Hub's JSON about the repo, config files, licence texts, ids.

The properties: parsers fail only with their own documented error, strings that pass the
boundary carry no control character or lone surrogate, and a whole verdict (facts and
rules) never raises, whatever the card says.

CI runs a fast subset (the `ci` profile). The long run (>= 10,000 examples per test):

    HYPOTHESIS_PROFILE=long .venv/bin/pytest -q tests/test_fuzz.py

Every crash hypothesis finds becomes an `@example` here, so it is replayed on every run.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openaudit.cardtext import parse_front_matter
from openaudit.hub.client import HubError, parse_info, repo_file
from openaudit.hub.retry import Transient
from openaudit.model import Bundle, ModelRef, Snapshot
from openaudit.safe import Malformed, clean_text, load_json, load_yaml

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "medium", max_examples=500, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

#: Keys the audit reads from card metadata, so that fuzzed cards reach the interesting code.
_KEYS = st.sampled_from(
    [
        "license",
        "license_name",
        "license_link",
        "base_model",
        "base_model_relation",
        "datasets",
        "tags",
        "language",
        "library_name",
        "pipeline_tag",
        "extra_gated_prompt",
        "extra_gated_fields",
        "model-index",
        "commercial",
        "model_name",
    ]
)
_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=40
) | st.sampled_from(
    [
        "mit",
        "apache-2.0",
        "cc-by-nc-4.0",
        "llama3.1",
        "other",
        "acme/tiny-apache-encoder",
        "meta-llama/Llama-3.1-8B",
        "https://127.0.0.1:9/LICENSE",
        "\ud800",
        "\x1b[31m",
    ]
)
_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _TEXT
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | _TEXT, inner, max_size=4),
    max_leaves=20,
)
_CARD_DATA = st.dictionaries(_KEYS, _JSON, max_size=8)


def _no_bad_strings(value: Any) -> bool:
    if isinstance(value, str):
        return not _BAD.search(value)
    if isinstance(value, dict):
        return all(_no_bad_strings(k) and _no_bad_strings(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_bad_strings(v) for v in value)
    return True


@given(st.text())
@example("\ud800\x00abc")
def test_clean_text_leaves_no_control_character_or_surrogate(text: str) -> None:
    cleaned = clean_text(text)
    assert not _BAD.search(cleaned)
    assert clean_text(cleaned) == cleaned


@given(st.text(max_size=400) | st.builds(lambda d: "a: " + "[" * d + "]" * d, st.integers(0, 900)))
@example("a: &a [1]\nb: [*a, *a]")
@example("- " * 200 + "x")
@example("? [1]\n: 2")  # a mapping key that is a list: unhashable
def test_yaml_fails_only_as_malformed(text: str) -> None:
    try:
        data = load_yaml(text)
    except Malformed:
        return
    assert _no_bad_strings(data)


@given(
    st.binary(max_size=300)
    | _JSON.map(lambda v: json.dumps(v).encode())
    | st.integers(0, 3000).map(lambda d: ("[" * d + "]" * d).encode())
)
@example(b'{"a": "\\ud800"}')
@example(b"[" * 5000)
def test_json_fails_only_as_malformed(body: bytes) -> None:
    try:
        data = load_json(body)
    except Malformed:
        return
    assert _no_bad_strings(data)


@given(_CARD_DATA, st.text(max_size=300))
@example({"datasets": [["x"]]}, "")
@example({"license": {"a": 1}, "base_model": 7}, "")
def test_front_matter_never_raises(card: dict[str, Any], body: str) -> None:
    text = "---\n" + _yaml_dump(card) + "---\n" + body
    data, problem = parse_front_matter(text)
    assert data is None or isinstance(data, dict)
    assert problem is None or problem.reason == "malformed"
    assert _no_bad_strings(data)


def _yaml_dump(value: Any) -> str:
    import yaml

    try:
        return str(yaml.safe_dump(value, allow_unicode=True))
    except yaml.YAMLError:
        return "x: 1\n"


@given(_CARD_DATA, _JSON, st.lists(_TEXT, max_size=5))
@example({"license": "mit", "model_name": "bad \ud800"}, {}, [])
def test_the_hubs_answer_parses_or_fails_as_a_problem(
    card: dict[str, Any], config: Any, tags: list[str]
) -> None:
    api = {"id": "fuzz/model", "sha": "a" * 40, "cardData": card, "config": config, "tags": tags}
    body = json.dumps(api).encode()
    try:
        info = parse_info(ModelRef("fuzz/model"), body)
    except (Transient, HubError):
        return
    assert _no_bad_strings(info)


@cache
def _judge() -> Any:
    from openaudit.kb import load_kb
    from openaudit.rules.engine import Judge
    from openaudit.rules.loader import load_rules

    return load_kb(), Judge(load_rules(()))


@given(_CARD_DATA, st.text(max_size=600), st.none() | _JSON, st.lists(_TEXT, max_size=4))
@settings(suppress_health_check=list(HealthCheck))
@example({"datasets": [{"name": "x"}]}, "", None, [])
@example({"base_model": ["a/b"] * 3, "license": ["mit", 3]}, "", {"auto_map": "x"}, [])
def test_a_verdict_never_raises_whatever_the_card_says(
    card: dict[str, Any], readme: str, config: Any, tags: list[str]
) -> None:
    from openaudit.pipeline import _verdict

    api = {
        "id": "fuzz/model",
        "sha": "a" * 40,
        "cardData": card,
        "tags": tags,
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "config.json"}],
    }
    try:
        info = parse_info(ModelRef("fuzz/model"), json.dumps(api).encode())
    except (Transient, HubError):
        return
    text = "---\n" + _yaml_dump(card) + "---\n" + readme
    files = (
        repo_file("README.md", text.encode("utf-8", "surrogatepass"), False, None),
        repo_file("config.json", json.dumps(config).encode(), False, None),
    )
    snap = Snapshot(ModelRef("fuzz/model"), "a" * 40, info, files, origin="hub")
    kb, judge = _judge()
    verdict = _verdict(Bundle(ref=snap.ref, root=snap), kb, judge)
    assert verdict.id == "fuzz/model"


@given(st.text(max_size=2000))
@example("MIT License\n\nPermission is hereby granted" + "\x00" * 3)
def test_licence_identification_never_raises(text: str) -> None:
    from openaudit.kb.identify import identify_text

    kb, _ = _judge()
    identify_text(clean_text(text), kb)


@given(st.text(max_size=120))
@example("a/b@" + "x" * 300)
def test_ids_parse_or_fail_as_a_source_error(text: str) -> None:
    from openaudit.sources import SourceError, parse_ref

    try:
        parse_ref(text)
    except SourceError:
        return
