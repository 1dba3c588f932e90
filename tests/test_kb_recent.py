"""Knowledge for 2024-2026 releases (issue 8, Build 5): each entry's deciding values, each backed
by an evidence quote, and the Hub names they are declared under."""

from __future__ import annotations

import pytest

from openaudit.kb import load_kb


@pytest.mark.parametrize(
    ("name", "licence_id", "commercial", "restriction"),
    [
        (
            "flux-1-dev-non-commercial-license",
            "flux-1-dev-non-commercial-license",
            "prohibited",
            "non-commercial",
        ),
        ("qwen-research", "qwen-research", "prohibited", "research-only"),
        ("qwen", "qwen", "conditional", "user-threshold"),
        ("modified-mit", "modified-mit", "unknown", None),
        ("kimi-k2-modified-mit", "kimi-k2-modified-mit", "conditional", "user-threshold"),
        ("llama3.2", "llama3.2", "conditional", "geographic-restriction"),
        ("llama3.3", "llama3.3", "conditional", "user-threshold"),
        ("llama4", "llama4", "conditional", "geographic-restriction"),
        ("gemma", "gemma", "conditional", "use-based-restrictions"),
        (
            "nvidia-open-model-license",
            "nvidia-open-model-license",
            "conditional",
            "use-based-restrictions",
        ),
        ("falcon-llm-license", "falcon-llm-license", "conditional", "use-based-restrictions"),
        ("mrl", "mrl", "prohibited", "research-only"),
        ("mnpl", "mnpl", "prohibited", "non-commercial"),
        (
            "tencent-hunyuan-community",
            "tencent-hunyuan-community",
            "conditional",
            "geographic-restriction",
        ),
        ("stabilityai-ai-community", "stability-ai-community", "conditional", "revenue-threshold"),
        (
            "stabilityai-nc-research-community",
            "stability-ai-noncommercial-research",
            "prohibited",
            "non-commercial",
        ),
        ("sai-nc-community", "stability-ai-noncommercial-research", "prohibited", "non-commercial"),
        ("cohere-cc-by-nc-4.0-aup", "cohere-cc-by-nc-4.0-aup", "prohibited", "non-commercial"),
        ("openmdw-1.0", "openmdw-1.0", "allowed", None),
    ],
)
def test_recent_licences_are_known_by_their_hub_names(
    name: str, licence_id: str, commercial: str, restriction: str | None
) -> None:
    entry = load_kb().find(name)
    assert entry is not None and entry.id == licence_id
    assert entry.commercial_use == commercial
    if restriction:
        assert restriction in entry.restriction_names
    assert entry.evidence, "every entry quotes its text"


def test_hunyuan_names_every_excluded_territory() -> None:
    entry = load_kb().get("tencent-hunyuan-community")
    assert entry is not None
    territory = next(r.value for r in entry.restrictions if r.name == "geographic-restriction")
    assert all(
        place in str(territory) for place in ("European Union", "United Kingdom", "South Korea")
    )


def test_unverified_entries_say_so() -> None:
    for licence_id in ("modified-mit", "kimi-k2-modified-mit", "falcon-llm-license", "qwen"):
        entry = load_kb().get(licence_id)
        assert entry is not None and "UNVERIFIED" in entry.notes


@pytest.mark.parametrize(
    ("licence_id", "words"),
    [
        ("llama3.2", "European Union"),
        ("llama4", "European Union"),
        ("gemma", "Prohibited Use Policy"),
    ],
)
def test_the_deciding_clause_is_quoted(licence_id: str, words: str) -> None:
    entry = load_kb().get(licence_id)
    assert entry is not None
    assert any(words in e.excerpt for e in entry.evidence)
