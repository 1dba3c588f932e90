"""What every extractor receives: the bundle, the knowledge base, facts so far, and helpers
to cite a snapshot precisely (field, file and line, pinned URL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openaudit.cardtext import parse_front_matter
from openaudit.model import Bundle, Evidence, Fact, LicenseMatch, Problem, Snapshot


@dataclass(frozen=True)
class Card:
    """A model card as read: its metadata (the Hub's cardData, else the parsed front matter) and text."""

    metadata: dict[str, Any]
    text: str
    #: Where the metadata came from: "api" (cardData), "README.md", or "" when there is none.
    origin: str
    problem: Problem | None = None

    @property
    def body(self) -> str:
        """The prose after the front matter."""
        if self.text.startswith("---"):
            end = self.text.find("\n---", 3)
            if end != -1:
                return self.text[end + 4 :]
        return self.text


def read_card(snapshot: Snapshot) -> Card:
    """The card's metadata as the reader left it: the Hub's cardData, or the folder's front matter.

    The hub stage has already parsed the front matter once (and kept any parse error among the
    snapshot's problems); it is parsed here only when the Hub sent no cardData at all.
    """
    readme = snapshot.file("README.md")
    text = readme.text if readme is not None and readme.text is not None else ""
    problem = next(
        (p for p in snapshot.problems if p.subject == "README.md" and p.reason == "malformed"), None
    )
    card = snapshot.info.get("cardData")
    if isinstance(card, dict):
        origin = "README.md" if snapshot.origin in ("local", "hf-cache") else "api"
        return Card(metadata=dict(card), text=text, origin=origin, problem=problem)
    if text and problem is None:
        parsed, problem = parse_front_matter(text)
        if parsed is not None:
            return Card(metadata=parsed, text=text, origin="README.md", problem=problem)
    return Card(metadata={}, text=text, origin="", problem=problem)


def line_of(text: str, needle: str) -> int | None:
    """1-based line of the first line starting with `needle` (after indentation)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(needle):
            return number
    return None


@dataclass
class Context:
    bundle: Bundle
    kb: Any
    facts: dict[str, Fact] = field(default_factory=dict)
    #: Names a licence text; the pipeline passes a memo (`kb.memo`) so each text is read once.
    identify: Callable[[str], LicenseMatch] | None = None
    _cards: dict[str, Card] = field(default_factory=dict)

    def add(self, fact: Fact) -> None:
        self.facts[fact.name] = fact

    def value(self, name: str, default: Any = None) -> Any:
        fact = self.facts.get(name)
        return default if fact is None or fact.value is None else fact.value

    def card(self, snapshot: Snapshot) -> Card:
        key = f"{snapshot.ref.kind}:{snapshot.ref.repo_id}"
        if key not in self._cards:
            self._cards[key] = read_card(snapshot)
        return self._cards[key]

    def cite_metadata(self, snapshot: Snapshot, key: str, value: Any) -> Evidence:
        """Cite a card metadata field by its README line where the text shows it."""
        card = self.card(snapshot)
        line = line_of(card.text, f"{key}:") if card.text else None
        locator = f"README.md:{line} ({key})" if line else f"cardData.{key}"
        return Evidence(
            source="metadata",
            locator=locator,
            excerpt=f"{key}: {_short(value)}",
            url=snapshot.url("README.md", line) if line else snapshot.url(),
        )

    def cite_api(self, snapshot: Snapshot, key: str, value: Any) -> Evidence:
        return Evidence(
            source="api", locator=key, excerpt=f"{key}: {_short(value)}", url=snapshot.url()
        )

    def cite_file(
        self, snapshot: Snapshot, path: str, line: int | None = None, excerpt: str = ""
    ) -> Evidence:
        locator = f"{path}:{line}" if line else path
        return Evidence(
            source="file", locator=locator, excerpt=excerpt[:200], url=snapshot.url(path, line)
        )


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pinned(snap: Snapshot | None) -> dict[str, Any]:
    """Where a related repository was read: its commit, pinned link and last change, so a
    bill of materials can name the exact version of every base and dataset."""
    if snap is None:
        return {"commit": None, "url": None, "last_modified": None}
    modified = snap.info.get("lastModified")
    return {
        "commit": snap.commit,
        "url": snap.url(),
        "last_modified": modified if isinstance(modified, str) else None,
    }
