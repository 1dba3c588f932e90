"""Model ids typed on the command line or listed in a file (or on standard input).

Ids may be pasted from a browser: `https://huggingface.co/org/name/tree/main`,
`hf.co/org/name`, a `/blob/REV/FILE` link; the revision in the URL is kept.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from openaudit.model import ModelRef, RepoKind

_ID = re.compile(
    r"^(?:(?P<kind>models|datasets)/)?(?P<repo>[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?)(?:@(?P<rev>[\w./-]+))?$"
)
_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.IGNORECASE)
#: The page part of a browser URL: `/tree/REV[/dir]`, `/blob/REV/file`, `/resolve/REV/file`,
#: `/commit/REV`; a REV with a slash (`refs/pr/1`) is percent-encoded in such URLs.
_PAGE = re.compile(r"/(?:tree|blob|resolve|raw|commit)/(?P<rev>[^/]+)(?:/.*)?$")
_PAGE_ONLY = re.compile(r"/(?:discussions|commits|settings|community)(?:/.*)?$")


class SourceError(ValueError):
    """A reference that is not a repo id; the message names it."""


def parse_ref(text: str, revision: str | None = None, origin: str = "cli") -> ModelRef:
    """`owner/name`, `owner/name@REV`, `datasets/owner/name` or a Hub URL; `revision` applies when no @REV."""
    text = text.strip()
    if _URL.match(text):
        text = _from_url(text)
    m = _ID.match(text)
    if not m or ".." in text:
        raise SourceError(f"'{text}' is not a Hugging Face repo id (owner/name[@revision])")
    kind: RepoKind = "dataset" if m.group("kind") == "datasets" else "model"
    return ModelRef(
        repo_id=m.group("repo"), revision=m.group("rev") or revision, kind=kind, origin=origin
    )


def _from_url(url: str) -> str:
    from urllib.parse import unquote

    path = _URL.sub("", url).split("?", 1)[0].split("#", 1)[0].rstrip("/")
    page = _PAGE.search(path)
    if page:
        return f"{path[: page.start()]}@{unquote(page.group('rev'))}"
    return _PAGE_ONLY.sub("", path)


def refs_from_lines(
    lines: Iterable[str], name: str, revision: str | None = None
) -> tuple[list[ModelRef], list[str]]:
    """One id per line; `#` starts a comment; a BOM is ignored. Each ref remembers NAME:LINE.

    Every bad line is reported (as `NAME:LINE: message`), not only the first, so a long
    list is fixed in one pass.
    """
    refs: list[ModelRef] = []
    errors: list[str] = []
    for number, line in enumerate(lines, 1):
        if number == 1:
            line = line.lstrip("\ufeff")
        line = line.split("#", 1)[0].strip()
        if line:
            try:
                refs.append(parse_ref(line, revision, origin=f"{name}:{number}"))
            except SourceError as exc:
                errors.append(f"{name}:{number}: {exc}")
    return refs, errors


def refs_from_file(path: Path, revision: str | None = None) -> list[ModelRef]:
    """The ids in a file (`-`: standard input); bad lines raise one SourceError naming each."""
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        else:
            text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{name}: cannot read ({exc.__class__.__name__})") from None
    refs, errors = refs_from_lines(text.splitlines(), name, revision)
    if errors:
        raise SourceError("\n".join(errors))
    return refs


def unique_refs(refs: Iterable[ModelRef]) -> list[ModelRef]:
    """Each distinct reference once, at its first place: a model listed twice is audited once."""
    seen: dict[tuple[str, str, str | None, str | None], ModelRef] = {}
    for ref in refs:
        seen.setdefault((ref.kind, ref.repo_id, ref.revision, ref.local_path), ref)
    return list(seen.values())
