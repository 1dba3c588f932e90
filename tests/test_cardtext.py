"""Reading base models out of a card's prose: what counts as a repo id, and what is English."""

from __future__ import annotations

import pytest

from openaudit.cardtext import base_mentions, body_lines

CARD = "---\nlicense: mit\nbase_model: x/y\n---\n"


@pytest.mark.parametrize(
    ("line", "ids", "names"),
    [
        ("Based on `pythia-12b`, it is trained on ~15k instruction/response records.", (), ("pythia-12b",)),
        ("Fine-tuned from EleutherAI/pythia-12b on our data.", ("EleutherAI/pythia-12b",), ()),
        ("A quantized version of [Llama](https://huggingface.co/meta-llama/Llama-2-7b-hf).", ("meta-llama/Llama-2-7b-hf",), ()),
        ("Original model: https://huggingface.co/acme/base-7b", ("acme/base-7b",), ()),
        ("We fine-tuned on acme/chat-data, a dataset of dialogues.", (), ()),
        ("Built on top of input/output pairs.", (), ()),
    ],
)
def test_base_mentions(line: str, ids: tuple[str, ...], names: tuple[str, ...]) -> None:
    found = list(base_mentions(CARD + line + "\n", "me/model"))
    assert tuple(i for m in found for i in m.ids) == ids
    assert tuple(n for m in found for n in m.names) == names
    for m in found:
        assert m.line == 5


def test_front_matter_is_not_prose() -> None:
    assert [n for n, _ in body_lines(CARD + "text\n")] == [5]
    assert list(base_mentions(CARD, "me/model")) == []
