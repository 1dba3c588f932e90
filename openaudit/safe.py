"""The boundary where untrusted text enters: bounded parsers and cleaned strings.

Everything a repository says (card, front matter, config files, the Hub's JSON about it)
is written by anyone. Parsing it must fail as that model's `malformed` problem, never
as the batch's crash or an exhausted memory: so every parser here has a size, a depth
and (for YAML) an alias limit, and every string that passes is stripped of control
characters and lone surrogates, which no output format can carry safely.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

#: Deepest nesting kept; real cards and configs stay under 10.
MAX_DEPTH = 48
#: YAML aliases allowed in one document (a "billion laughs" needs many).
MAX_ALIASES = 64
#: Largest YAML front matter parsed.
MAX_YAML_BYTES = 256 * 1024
#: Largest JSON document parsed.
MAX_JSON_BYTES = 16 * 1024 * 1024

# C0/C1 controls except tab, newline, carriage return; DEL; lone surrogates.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


#: What stands in for a part nested deeper than MAX_DEPTH.
CUT = f"[not read: nested deeper than {MAX_DEPTH}]"


def was_cut(value: Any, depth: int = 0) -> bool:
    """Whether `clean_tree` cut something out of this (already cleaned) value."""
    if value == CUT:
        return True
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(was_cut(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(was_cut(v, depth + 1) for v in value)
    return False


class Malformed(ValueError):
    """Input that a bounded parser refused; the message says which bound or syntax."""


def clean_text(text: str) -> str:
    """Drop control characters and lone surrogates (tab and line breaks stay)."""
    return _BAD_CHARS.sub("", text) if _BAD_CHARS.search(text) else text


def clean_tree(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """A JSON-like value with every string (and key) cleaned and nesting cut at MAX_DEPTH.

    Returns the cleaned value and whether anything was cut. Recursion is bounded by
    MAX_DEPTH, so a hostile depth cannot exhaust the stack.
    """
    if isinstance(value, str):
        return clean_text(value), False
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        return CUT, True
    cut = False
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = clean_text(k) if isinstance(k, str) else k
            out[key], c = clean_tree(v, depth + 1)
            cut = cut or c
        return out, cut
    if isinstance(value, list | tuple):
        items = []
        for v in value:
            item, c = clean_tree(v, depth + 1)
            items.append(item)
            cut = cut or c
        return items, cut
    return value, False


def _depth_ok(text: str | bytes, limit: int) -> bool:
    """Bracket nesting outside strings stays within `limit` (checked before json.loads)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = 0
    in_string = False
    escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def load_json(
    text: str | bytes, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """json.loads with size and depth limits; strings come back cleaned, parts deeper than
    MAX_DEPTH cut (`CUT`), texts deeper than `max_depth` refused before parsing."""
    if len(text) > max_bytes:
        raise Malformed(f"JSON over {max_bytes} bytes")
    if not _depth_ok(text, max_depth):
        raise Malformed(f"JSON nested deeper than {max_depth}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"JSON does not parse: {type(exc).__name__}") from None
    return clean_tree(data)[0]


def load_yaml(text: str, first_line: int = 1) -> Any:
    """yaml.safe_load with size, depth and alias limits; strings come back cleaned.

    An alias bomb is refused while it is composed, before anything is expanded.
    """
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise Malformed(f"YAML over {MAX_YAML_BYTES} bytes")
    loader = None
    text = clean_text(text)
    try:
        if _plain(text) and hasattr(yaml, "CSafeLoader"):
            data = yaml.load(text, Loader=yaml.CSafeLoader)
        else:
            loader = _BoundedLoader(text)
            data = loader.get_single_data()
    except _Refused as exc:
        raise Malformed(f"YAML refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + first_line}" if mark is not None else ""
        raise Malformed(f"YAML does not parse{where}") from None
    except RecursionError:
        raise Malformed(f"YAML nested deeper than {MAX_DEPTH}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return clean_tree(data)[0]


#: An anchor or alias; any other use of `&`/`*` at such a place only sends a text the slow way.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\[\]{}]")
#: A line indented (or dashed) deep enough to nest MAX_DEPTH block levels.
_DEEP_LINE = re.compile(rf"^[ \t-]{{{MAX_DEPTH},}}", re.MULTILINE)


def _plain(text: str) -> bool:
    """Whether libyaml (C, ~10x faster) can parse `text` within the bounds without checking them.

    Without anchors there is no alias to expand; with fewer flow brackets than MAX_DEPTH and
    no line indented that deep, nesting cannot exceed MAX_DEPTH. Texts that fail this
    over-cautious test go through the bounded pure-Python loader.
    """
    return (
        text.count("[") + text.count("{") < MAX_DEPTH
        and not _ANCHOR.search(text)
        and not _DEEP_LINE.search(text)
    )


class _Refused(Exception):
    """A YAML bound was hit while composing."""


def _bounded_loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise _Refused(f"more than {MAX_ALIASES} aliases")
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _Refused(f"nested deeper than {MAX_DEPTH}")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return Loader


class _LazyLoader:
    cls: type | None = None

    def __call__(self, text: str) -> Any:
        if self.cls is None:
            self.cls = _bounded_loader()
        return self.cls(text)


_BoundedLoader = _LazyLoader()


def scrub(text: str) -> str:
    """Remove the run's token from a server's message before it reaches any output."""
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        token = os.environ.get(var)
        if token and len(token) >= 4 and token in text:
            text = text.replace(token, "[token]")
    try:
        from huggingface_hub import get_token

        token = get_token()
    except Exception:  # a broken token file must not break error reporting
        token = None
    if token and len(token) >= 4 and token in text:
        text = text.replace(token, "[token]")
    return re.sub(r"\bhf_[A-Za-z0-9]{20,}\b", "[token]", text)
