"""Well-known training datasets (`licenses/datasets/known.yml`): prose names to Hub ids and licences.

Cards often name their data in prose only ("fit on the Stanford Alpaca dataset"). Knowledge,
like the licence knowledge base, is data: each entry gives the Hub repository, the names a card
uses for it and the licence its dataset card declares, with that declaration quoted.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from openaudit.resources import data_dir


@dataclass(frozen=True)
class KnownDataset:
    id: str
    names: tuple[str, ...]
    licence: str
    evidence: str
    pattern: re.Pattern[str]


class DatasetTableError(ValueError):
    """The table is malformed; the message names the file and the entry."""


@functools.lru_cache(maxsize=1)
def known_datasets() -> tuple[KnownDataset, ...]:
    import yaml

    path = data_dir("licenses") / "datasets" / "known.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for index, raw in enumerate(doc.get("datasets") or ()):
        where = f"{path}: datasets.{index}"
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) and raw[k] for k in ("id", "licence", "evidence")
        ):
            raise DatasetTableError(f"{where}: needs id, licence and evidence")
        names = tuple(n for n in raw.get("names") or () if isinstance(n, str) and n.strip())
        if not names:
            raise DatasetTableError(f"{where}: names: at least one name")
        alternation = "|".join(re.escape(n).replace(r"\ ", r"[\s_-]+") for n in names)
        out.append(
            KnownDataset(
                raw["id"],
                names,
                raw["licence"],
                raw["evidence"],
                re.compile(rf"(?<![\w/-])(?:{alternation})(?![\w-])", re.IGNORECASE),
            )
        )
    return tuple(out)


def datasets_named(line: str) -> list[KnownDataset]:
    """Known datasets a line of prose names."""
    return [d for d in known_datasets() if d.pattern.search(line)]
