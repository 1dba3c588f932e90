"""Reading base models out of a card's prose: what counts as a repo id, and what is English."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openaudit.cardtext import (
    BASE_FIELD,
    DERIVED_PHRASE,
    REGEX_CASE_ODD,
    _phrase_lines,
    base_mentions,
    body_lines,
)

CARD = "---\nlicense: mit\nbase_model: x/y\n---\n"


@pytest.mark.parametrize(
    ("line", "ids", "names"),
    [
        (
            "Based on `pythia-12b`, it is trained on ~15k instruction/response records.",
            (),
            ("pythia-12b",),
        ),
        ("Fine-tuned from EleutherAI/pythia-12b on our data.", ("EleutherAI/pythia-12b",), ()),
        (
            "A quantized version of [Llama](https://huggingface.co/meta-llama/Llama-2-7b-hf).",
            ("meta-llama/Llama-2-7b-hf",),
            (),
        ),
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


# -- the line pre-scan: `base_mentions` reads only lines holding a phrase word ------------------
# Pieces that spell every alternative of the two patterns, and text around them that is
# awkward for a pre-scan: other line breaks, the letters `re.IGNORECASE` folds oddly, accents.
_PIECES = (
    "fine-tuned of ",
    "finetuned version from ",
    "instruction tuned version of ",
    "quantisations of ",
    "quants of ",
    "GGUF files for ",
    "based on ",
    "built upon ",
    "converted from ",
    "derived from ",
    "distilled from ",
    "merge of ",
    "merged from ",
    "LoRA adapter for ",
    "adapter for ",
    "continued pretraining of ",
    "base model of the model is ",
    "Finetuned from model: ",
    "Original Model: ",
    "Model creator's model: ",
    "org/model-7b ",
    "[x](https://huggingface.co/a/b-1) ",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",
    "é",
    "—",
    "\n",
    "\r\n",
    "\x0b",
    "\u2028",
    "---\n",
    "lorem ",
    "Bas",
    "ed on",
    "ba\u017fed on ",
    "d\u0131stilled from ",
    "Orig\u0131nal model: ",
    "\u0130nstruct tuned version of ",
)


def _cased(text: str, flips: list[bool]) -> str:
    flips = flips + [False] * (len(text) - len(flips))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=False))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=14),
    st.lists(st.booleans(), max_size=200),
    st.booleans(),
)
def test_the_pre_scan_never_skips_a_line_a_pattern_matches(
    pieces: list[str], flips: list[bool], front: bool
) -> None:
    text = ("---\nlicense: mit\n---\n" if front else "") + _cased("".join(pieces), flips)
    scanned = dict(_phrase_lines(text))
    for number, line in body_lines(text):
        if BASE_FIELD.search(line) or DERIVED_PHRASE.search(line):
            assert scanned.get(number) == line
    assert set(scanned.items()) <= set(body_lines(text))


def test_the_odd_case_letters_are_all_of_them() -> None:
    """Every character `re.IGNORECASE` takes for an ASCII letter either lowers to that letter
    in place or is in `REGEX_CASE_ODD` (recomputed over all of Unicode)."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    odd = {
        c
        for c in map(chr, range(0x80, 0x110000))
        if letters.fullmatch(c) and not (len(c.lower()) == 1 and c.lower().isascii())
    }
    assert odd == set(REGEX_CASE_ODD)
