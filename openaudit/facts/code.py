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
#: Words that present a link as this model's own training code, not a related project.
_TRAINING_CODE = re.compile(
    r"\btrain(?:ing)?\b[^.;]{0,40}?\b(?:code|scripts?|recipes?|pipeline|framework|codebase|"
    r"repo(?:sitory)?)\b"
    r"|\b(?:code|scripts?)\b[^.;]{0,25}?\b(?:to|for)\s+(?:re-?)?(?:train|pre-?train|fine-?tun)"
    r"|\bour\s+(?:code|codebase|training|repo(?:sitory)?|implementation)\b"
    r"|\breproduc\w*|\brecipes?\b|\bfine-?tuning\s+(?:code|scripts?)",
    re.I,
)
#: A sentence that compares with or cites other work: the links in it are someone else's.
_COMPARISON = re.compile(
    r"\boutperform|\bcompar(?:ed|able|ison|es)\b|\bthan\b|\bvs\.?\s|\bversus\b|\bsuch as\b"
    r"|\be\.g\.|\bbaselines?\b|\bbenchmark|\bleaderboard|@\w+\{|\burl\s*=|\bhowpublished\b",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.!?]\s+(?=[A-Z*\[(])")


def presented_as_training(lines: list[str], number: int, start: int, owner: str, org: str) -> bool:
    """Whether the card presents the link at `start` of line `number` as its training code.

    Only the link's own sentence (and a heading or "...:" lead-in line before it) is read: a
    link inside a comparison or a citation ("outperforms ... [StableLM](...)") is another
    project's, whatever the rest of the line says about training. The model's own organisation
    needs only a word about training; any other needs "training code", "our code" or the like.
    """
    line = lines[number - 1]
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(line)), len(line) + 1]
    begin = max(c for c in cuts if c <= start)
    end = min(c for c in cuts if c > start)
    sentence = line[begin:end]
    before = lines[number - 2].strip() if number >= 2 else ""
    lead = before if before.startswith("#") or before.endswith(":") else ""
    if _COMPARISON.search(sentence):
        return False
    context = f"{lead} {sentence}"
    if _TRAINING_CODE.search(context):
        return True
    return owner.lower() == org.lower() and bool(_TRAINING_WORDS.search(context))


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
            row = repos.setdefault(
                key,
                {
                    "url": f"https://{key}",
                    "line": number,
                    "training": False,
                    "excerpt": line.strip(),
                },
            )
            org = slug.split("/", 1)[0]
            owner = snap.ref.repo_id.split("/", 1)[0]
            row["training"] = row["training"] or presented_as_training(
                lines, number, m.start(), owner, org
            )
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
