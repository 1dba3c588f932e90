"""`openaudit notices --distribution MODE`: duties chosen by how the model ships, texts cited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from openaudit.cli.check import MODES
from openaudit.notices import _fence, distribution
from openaudit.resources import data_dir
from tests.fakehub import FakeHub
from tests.helpers import run_cli

CODE = """from diffusers import StableDiffusionPipeline
from transformers import AutoModel, pipeline

enc = AutoModel.from_pretrained("acme/tiny-apache-encoder", revision="b9e3ddc54563a8a03b098b2e53dcc1a64f42f459")
chat = AutoModel.from_pretrained("acme/llama-3.1-acme-chat", revision="3911a3779b68a16b841caccc63dd8a2c40f4312d")
sd = StableDiffusionPipeline.from_pretrained("acme/rail-diffusion-mini", revision="{rail}")
nc = pipeline("summarization", model="acme/nc-summarizer", revision="94458ae54ca001409884d587d15ad1ddc2a4a755")
"""


@pytest.fixture
def codebase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import hashlib

    rail = hashlib.sha1(b"openaudit-fixture:acme/rail-diffusion-mini").hexdigest()
    (tmp_path / "app.py").write_text(CODE.replace("{rail}", rail))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def notices(hub: FakeHub, store: Path, mode: str) -> dict[str, str]:
    run = run_cli(
        "notices", "--distribution", mode, "--endpoint", hub.url, "--cache-dir", str(store)
    )
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("# Third-party model notices")
    # One section per model: the text from its heading to the next model heading.
    parts = re.split(r"^## ", run.stdout, flags=re.M)[1:]
    return {p.split(" ", 1)[0].replace("\\", ""): p for p in parts}


def duties(section: str) -> list[str]:
    return re.findall(r"^- .*\(`([a-z-]+)`\)$", section, flags=re.M)


def test_duties_follow_the_distribution_mode(
    fixture_hub: FakeHub, tmp_path_factory: pytest.TempPathFactory, codebase: Path
) -> None:
    store = tmp_path_factory.mktemp("store")
    internal = notices(fixture_hub, store, "internal")
    hosted = notices(fixture_hub, store, "hosted-api")
    bundled = notices(fixture_hub, store, "bundled-app")
    finetune = notices(fixture_hub, store, "published-finetune")
    chat, enc, rail, nc = (
        "acme/llama-3.1-acme-chat",
        "acme/tiny-apache-encoder",
        "acme/rail-diffusion-mini",
        "acme/nc-summarizer",
    )
    assert set(internal) == {chat, enc, rail, nc}
    # Internal use redistributes nothing: no copy of the licence to hand over, no naming duty.
    assert duties(internal[enc]) == []
    assert duties(internal[chat]) == [
        "accept-acceptable-use-policy",
        "use-based-restrictions",
        "user-threshold",
        # Even internally, a model distilled from the outputs is bound by Llama 3.1's terms.
        "output-training-derivative",
    ]
    # A hosted API: the naming duty and the AUP bind, the RAIL restrictions must be passed on,
    # but the weights are not redistributed, so no licence copy is owed.
    assert "name-in-derivative" in duties(hosted[chat])
    assert "include-licence-copy" not in duties(hosted[chat])
    assert "pass-on-use-restrictions" in duties(hosted[rail])
    # A bundled app redistributes: licence copies and notices for every model.
    for model in (enc, chat, rail):
        assert {"include-licence-copy", "notice"} <= set(duties(bundled[model]))
    assert "non-commercial" in duties(bundled[nc])
    assert "state-changes" in duties(finetune[rail])
    # The "Built with Llama" line and the name prefix, in the licence's own words.
    assert "Built with Llama" in finetune[chat]
    assert 'include "Llama" at the beginning of any such AI model name' in finetune[chat]
    assert "Above 700,000,000 monthly active users" in finetune[chat]


def test_texts_come_from_the_repo_else_the_knowledge_base(
    fixture_hub: FakeHub, tmp_path_factory: pytest.TempPathFactory, codebase: Path
) -> None:
    doc = notices(fixture_hub, tmp_path_factory.mktemp("store"), "bundled-app")
    enc = doc["acme/tiny-apache-encoder"]
    assert (
        "Source: LICENSE in acme/tiny-apache-encoder at b9e3ddc54563a8a03b098b2e53dcc1a64f42f459"
        in enc
    )
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in enc
    nc = doc["acme/nc-summarizer"]
    assert "Source: openaudit knowledge base, licenses/texts/cc-by-nc-4.0.txt" in nc
    chat = doc["acme/llama-3.1-acme-chat"]
    assert "#### Acceptable-use policy of Llama 3.1" in chat
    assert "USE\\_POLICY.md in acme/llama-3.1-acme-chat" in chat
    assert "Used at: `app.py:5:34`" in chat


def test_the_duty_table_covers_the_whole_vocabulary() -> None:
    table = distribution()
    assert tuple(table["modes"]) == MODES
    used: dict[str, set[str]] = {"conditions": set(), "restrictions": set()}
    for path in (data_dir("licenses")).glob("*.yml"):
        doc = yaml.safe_load(path.read_text())
        for group in used:
            used[group].update(r["name"] for r in doc.get(group) or ())
    informational = {"patent-termination"}
    for group, names in used.items():
        assert names - informational <= set(table[group]), group
        for name, spec in table[group].items():
            assert set(spec["modes"]) <= set(MODES), name


def test_a_licence_text_cannot_close_its_fence() -> None:
    assert _fence("plain") == "```"
    assert _fence("a ```` b") == "`````"
