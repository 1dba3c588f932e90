"""Model ids typed on the command line or listed in a file."""

from __future__ import annotations

import re
from pathlib import Path

from openaudit.model import ModelRef, RepoKind

_ID = re.compile(
    r"^(?:(?P<kind>models|datasets)/)?(?P<repo>[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?)(?:@(?P<rev>[\w./-]+))?$"
)


class SourceError(ValueError):
    """A reference that is not a repo id; the message names it."""


def parse_ref(text: str, revision: str | None = None, origin: str = "cli") -> ModelRef:
    """`owner/name`, `owner/name@REV` or `datasets/owner/name`; `revision` applies when no @REV."""
    text = text.strip()
    text = re.sub(r"^https?://(www\.)?huggingface\.co/", "", text).rstrip("/")
    m = _ID.match(text)
    if not m or ".." in text:
        raise SourceError(f"'{text}' is not a Hugging Face repo id (owner/name[@revision])")
    kind: RepoKind = "dataset" if m.group("kind") == "datasets" else "model"
    return ModelRef(
        repo_id=m.group("repo"), revision=m.group("rev") or revision, kind=kind, origin=origin
    )


def refs_from_file(path: Path, revision: str | None = None) -> list[ModelRef]:
    """One id per line; `#` starts a comment. Each ref remembers FILE:LINE."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    refs = []
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if line:
            try:
                refs.append(parse_ref(line, revision, origin=f"{path}:{number}"))
            except SourceError as exc:
                raise SourceError(f"{path}:{number}: {exc}") from None
    return refs
