"""Reading a card: its YAML front matter, and base-model names out of its prose and GGUF
metadata.

Both the hub stage (which must know what to fetch) and the facts stage (which
cites where each base was named) need the same reading, so it lives here, below
both, as pure functions over text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openaudit.model import Problem
from openaudit.safe import Malformed, load_yaml

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HF_MODEL_LINK = re.compile(
    r"https?://(?:www\.)?huggingface\.co/(?!datasets/|spaces/|docs/|blog/|papers/|collections/)"
    r"([A-Za-z0-9][\w.-]*/[\w.-]+)"
)
#: Phrases a card uses to say where its weights come from; the base must follow in the sentence.
DERIVED_PHRASE = re.compile(
    # "fine-tuned on X" names data far more often than a base: only "on top of" counts.
    r"(fine[- ]?tun(?:ed|ing)(?:\s+version)?\s+(?:of|from|on top of)"
    r"|finetuned\s+(?:version\s+)?(?:of|from)"
    r"|instruct(?:ion)?[- ]tuned\s+version\s+of"
    r"|quanti[sz](?:ed|ations?)(?:\s+(?:version|model|weights|files))?\s+of"
    r"|quants?\s+of"
    r"|gguf\s+(?:version|format|files|model)\s+(?:of|for)"
    r"|based\s+on|built\s+(?:on|upon)|converted\s+from|derived\s+from|distilled\s+from"
    r"|merge\s+of|merged\s+from|lora\s+(?:adapter\s+)?(?:of|for)|adapter\s+for"
    r"|continued\s+pre-?training\s+(?:of|from)"
    r"|base\s+(?:model\s+)?(?:of\s+(?:this|the|our)\s+model\s+)?(?:is|was))",
    re.IGNORECASE,
)
#: Model-card template fields whose whole value names the base ("Finetuned from model: X").
BASE_FIELD = re.compile(
    r"(?:fine-?tuned\s+from\s+model|original\s+model|base\s+model|model\s+creator's?\s+model)"
    r"\s*\**\s*:\s*\**\s*(.+)",
    re.IGNORECASE,
)
MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
BACKTICK = re.compile(r"`([^`\s]{2,80})`")
BARE_ID = re.compile(r"(?<![\w/.-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?![\w/-])")
#: A model name written bare in prose ("Qwen2.5-3B-Instruct", "Llama-2-13b"): a letter first,
#: and a hyphen and a digit inside, so plain words and version numbers are not taken for names.
BARE_NAME = re.compile(r"(?<![\w/.-])([A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)+)(?![\w/-])")


@dataclass(frozen=True)
class BaseMention:
    """One line of prose that names a base: repo ids found, and plain names that are not ids."""

    line: int
    text: str
    ids: tuple[str, ...]
    names: tuple[str, ...]
    #: Names written bare in the sentence ("Qwen2.5-3B-Instruct"): data and other projects are
    #: named the same way, so a reader keeps only those it can resolve (the family table).
    bare: tuple[str, ...] = ()


def _looks_like_repo(text: str) -> bool:
    """A bare `a/b` in prose is a repo id only if its name looks like one.

    Model names carry a digit, a capital, `-`, `_` or `.` ("pythia-12b", "Llama-2-7b");
    plain words joined by a slash ("instruction/response", "and/or") are English.
    """
    name = text.split("/", 1)[1]
    return bool(re.search(r"[0-9A-Z._-]", name))


def _body_start(lines: list[str]) -> int:
    """Index of the first prose line: past a closed front matter (none if it never closes)."""
    if not lines or not lines[0].startswith("---"):
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return index + 1
    return len(lines)


def body_lines(card_text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of the card's prose: the front matter is metadata, not prose."""
    lines = card_text.splitlines()
    for index in range(_body_start(lines), len(lines)):
        yield index + 1, lines[index]


#: A word every `DERIVED_PHRASE` and `BASE_FIELD` alternative spells out (checked by a test).
PHRASE_WORDS = (
    "tun",
    "quant",
    "gguf",
    "base",
    "built",
    "convert",
    "derived",
    "distill",
    "merge",
    "lora",
    "adapter",
    "continued",
    "original",
    "creator",
)


#: The characters `re.IGNORECASE` matches to an ASCII letter that `str.lower` does not give
#: as that letter in place (dotless i and long s stay themselves, a dotted capital I becomes
#: two characters); the Kelvin sign lowers to `k` and needs nothing. A test recomputes this
#: over all of Unicode.
REGEX_CASE_ODD = "\u0130\u0131\u017f"


def _phrase_lines(card_text: str) -> Iterator[tuple[int, str]]:
    """The prose lines a derivation phrase or base field could match: those holding one of
    `PHRASE_WORDS`, found with `str.find` over the whole lowered prose (the two patterns,
    searched line by line, cost 0.17 ms a card; most lines hold none of the words).

    Lowering finds every letter the patterns' `re.IGNORECASE` takes for an ASCII one, at the
    same place, except in `REGEX_CASE_ODD`: a card holding one of those has every line given.
    """
    if any(odd in card_text for odd in REGEX_CASE_ODD):
        yield from body_lines(card_text)
        return
    lines = card_text.splitlines()
    first = _body_start(lines)
    body = "\n".join(lines[first:]).lower()
    found: list[int] = []  # where a word starts, at most once per word and line
    for word in PHRASE_WORDS:
        at = body.find(word)
        while at >= 0:
            found.append(at)
            end = body.find("\n", at)
            at = body.find(word, end + 1) if end >= 0 else -1
    index, counted = 0, 0
    last = -1
    for at in sorted(found):  # line numbers by counting newlines once, left to right
        index += body.count("\n", counted, at)
        counted = at
        if index != last:
            last = index
            yield first + index + 1, lines[first + index]


def base_mentions(card_text: str, own_id: str) -> Iterator[BaseMention]:
    """Lines after the front matter that name a base after a derivation phrase or field."""
    own = own_id.lower()
    for number, line in _phrase_lines(card_text):
        field_match = BASE_FIELD.search(line)
        phrase = DERIVED_PHRASE.search(line)
        if field_match:
            tail = field_match.group(1)
        elif phrase:
            tail = re.split(r"(?<=[a-z0-9)\]`])\.\s", line[phrase.end() :], maxsplit=1)[0][:240]
        else:
            continue
        ids = [m.group(1) for m in HF_MODEL_LINK.finditer(tail)]
        ids += [
            m.group(1)
            for m in BARE_ID.finditer(MD_LINK.sub(r"\1", tail))
            if "://" not in m.group(1) and _looks_like_repo(m.group(1))
        ]
        names = [m.group(1) for m in MD_LINK.finditer(tail)] + [
            m.group(1) for m in BACKTICK.finditer(tail)
        ]
        bare = tuple(
            n
            for n in BARE_NAME.findall(BACKTICK.sub(" ", MD_LINK.sub(" ", tail)))
            if "-" in n and re.search(r"\d", n) and len(n) <= 80
        )
        if field_match and not ids and not names:
            names = [tail.strip(" *_`[]")[:80]]
        clean = []
        for repo_id in ids:
            repo_id = repo_id.rstrip(".,;:)")
            if (
                repo_id.lower() == own
                or not REPO_ID.match(repo_id)
                or repo_id.lower().endswith((".md", ".py"))
            ):
                continue
            clean.append(repo_id)
        plain = (
            ()
            if clean
            else tuple(n.strip() for n in names if n.strip() and "/" not in n.strip(" /"))
        )
        if clean or plain or bare:
            yield BaseMention(
                number, line.strip(), tuple(dict.fromkeys(clean)), plain, () if clean else bare
            )


def gguf_bases(gguf: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(key, value, is_repo_id) for GGUF metadata keys that name a base model."""
    for key, value in gguf.items():
        if "base_model" not in str(key) and "basename" not in str(key):
            continue
        values = (
            [value]
            if isinstance(value, str)
            else [v for v in value if isinstance(v, str)]
            if isinstance(value, list)
            else []
        )
        for item in values:
            item = item.strip()
            found = HF_MODEL_LINK.search(item)
            if found:
                yield str(key), found.group(1), True
            else:
                yield str(key), item, bool(REPO_ID.match(item))


def adapter_base(adapter_config: str) -> str | None:
    """`base_model_name_or_path` of a PEFT `adapter_config.json`: the base an adapter needs."""
    from openaudit.safe import Malformed, load_json

    try:
        data = load_json(adapter_config)
    except Malformed:
        return None
    value = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.DOTALL)


def parse_front_matter(text: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The card's YAML metadata as the Hub would parse it; a broken block is a Problem, not a crash."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, None
    try:
        data = load_yaml(match.group(1), first_line=2)
    except Malformed as exc:
        detail = str(exc).replace("YAML", "YAML front matter", 1)
        return None, Problem("README.md", "malformed", detail)
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, Problem("README.md", "malformed", "YAML front matter is not a mapping")
    return data, None
