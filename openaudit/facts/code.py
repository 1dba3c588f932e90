"""Code facts: where the model's source code is, and whether loading it runs the repo's own code.

OSAID and the Open Source AI Index ask for the code used to train and run the model; the Hub
can only show pointers to it (source-repository links, a supporting library) and the code the
repo ships itself. Custom modelling files with `auto_map` also matter for security: they run
only with `trust_remote_code=True`, i.e. the reader executes the publisher's Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from openaudit.facts.context import Context, line_of
from openaudit.model import Evidence, Fact
from openaudit.safe import Malformed, load_json

_FORGES = r"(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|git\.sr\.ht|gitee\.com)"
_REPO_LINK = re.compile(rf"https?://(?:www\.)?{_FORGES}/([\w.-]+/[\w.-]+)", re.I)
#: Words near a link that say it holds the training code rather than a demo or a paper's site.
_TRAINING_WORDS = re.compile(
    r"\btrain(?:ing|ed)?\b|\bpre-?train|\bfine-?tun|\breproduc|\brecipe", re.I
)
_CUSTOM_CODE = re.compile(
    r"^(?:.*/)?(modeling|configuration|tokenization|processing|image_processing)_\w+\.py$"
)


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    card = ctx.card(snap)
    repos: dict[str, dict[str, Any]] = {}
    lines = card.text.splitlines()
    for number, line in enumerate(lines, 1):
        for m in _REPO_LINK.finditer(line):
            slug = m.group(1).removesuffix(".git").rstrip(".,;:)")
            key = f"{m.group(0).split('/')[2].removeprefix('www.')}/{slug}".lower()
            context = " ".join(lines[max(0, number - 2) : number + 1])
            row = repos.setdefault(
                key,
                {
                    "url": f"https://{key}",
                    "line": number,
                    "training": False,
                    "excerpt": line.strip(),
                },
            )
            row["training"] = row["training"] or bool(_TRAINING_WORDS.search(context))
    repo_ev = tuple(
        ctx.cite_file(snap, "README.md", r["line"], r["excerpt"]) for r in repos.values()
    )
    yield Fact("code.repositories", [r["url"] for r in repos.values()], repo_ev)
    training = [r for r in repos.values() if r["training"]]
    yield Fact(
        "code.training_repositories",
        [r["url"] for r in training],
        tuple(ctx.cite_file(snap, "README.md", r["line"], r["excerpt"]) for r in training),
    )

    library = card.metadata.get("library_name") or snap.info.get("library_name")
    if isinstance(library, str) and library:
        yield Fact("code.library", library, (ctx.cite_metadata(snap, "library_name", library),))
    else:
        yield Fact("code.library", None)

    custom = [n for n in snap.file_names if _CUSTOM_CODE.match(n)]
    listing = Evidence("api", "siblings", ", ".join(custom[:6]), snap.url()) if custom else None
    yield Fact("code.custom_files", custom, (listing,) if listing else ())

    auto_map, ev = _auto_map(snap.info, snap.file("config.json"))
    if ev is not None and ev.source == "file":
        ev = Evidence(ev.source, ev.locator, ev.excerpt, snap.url("config.json", _line(ev)))
    elif ev is not None:
        ev = Evidence(ev.source, ev.locator, ev.excerpt, snap.url())
    yield Fact("code.auto_map", auto_map, (ev,) if ev else ())
    remote = bool(auto_map) or any(n.rsplit("/", 1)[-1].startswith("modeling_") for n in custom)
    cites = tuple(e for e in ((ev,) if ev else ()) + ((listing,) if listing else ()))
    yield Fact("code.trust_remote_code", remote, cites)


def _line(ev: Evidence) -> int | None:
    tail = ev.locator.rsplit(":", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else None


def _auto_map(info: Mapping[str, Any], config_file: Any) -> tuple[dict[str, Any], Evidence | None]:
    """`auto_map` from config.json as read, else from the Hub's `config` summary."""
    if config_file is not None and config_file.text:
        try:
            data = load_json(config_file.text)
        except Malformed:
            data = None
        if isinstance(data, dict) and isinstance(data.get("auto_map"), dict):
            line = line_of(config_file.text, '"auto_map"')
            locator = f"config.json:{line}" if line else "config.json"
            return dict(data["auto_map"]), Evidence(
                "file", locator, json.dumps(data["auto_map"])[:200]
            )
    config = info.get("config")
    if isinstance(config, Mapping) and isinstance(config.get("auto_map"), Mapping):
        return dict(config["auto_map"]), Evidence(
            "api", "config.auto_map", json.dumps(config["auto_map"])[:200]
        )
    return {}, None
