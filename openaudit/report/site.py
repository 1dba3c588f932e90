"""Published scorecards: one Markdown file per model, an index, badges, and optionally HTML.

`build` returns every file of the report as relative path -> text, so the command writes
them and a test compares them, and the same scorecard always gives the same bytes (only
the date moves, and `--date` fixes it). Templates are Jinja files in
`openaudit/report/templates`; a folder given by `--templates` overrides any of them.

Escaping is the environment's default, not the template's duty: in Markdown templates
every `{{ value }}` passes through `escape.md` unless it is already `Markup` (built by
the filters here), and HTML templates autoescape, with control characters removed first.
So an overriding template cannot forget to escape a card's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from markupsafe import Markup

from openaudit.model import Scorecard, Verdict
from openaudit.report import escape, view

TEMPLATES = ("card.md.j2", "index.md.j2", "card.html.j2", "index.html.j2")
_SEGMENT = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Options:
    html: bool = False
    templates: Path | None = None
    #: The previous audit to compare with ("Changed since").
    since: Scorecard | None = None


def _segment(text: str) -> str:
    """A path segment that can neither climb out of the report folder nor hide (`..`, `.x`)."""
    seg = _SEGMENT.sub("_", escape.clean(text)).strip("_") or "_"
    return "_" + seg if seg.startswith(".") else seg[:100]


def card_paths(models: Iterable[Verdict]) -> dict[str, str]:
    """Model id -> 'owner/name' (without extension), unique even when ids collide once cleaned."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for v in models:
        parts = [p for p in v.id.split("/") if p][:2] or ["_"]
        base = "/".join(_segment(p) for p in parts)
        path, n = base, 2
        while path.lower() in taken:
            path, n = f"{base}-{n}", n + 1
        taken.add(path.lower())
        out.setdefault(v.id, path)
    return out


def relative(from_path: str, to_path: str) -> str:
    """A link from one report file to another, relative so the folder works anywhere."""
    depth = len(PurePosixPath(from_path).parts) - 1
    return "../" * depth + to_path


# -- badges -------------------------------------------------------------------------------

_COLOURS = {
    "good": "#2e7d32",
    "mid": "#b26a00",
    "bad": "#c62828",
    "none": "#616161",
}
_GOOD = {"open", "allowed", "conformant"}
_MID = {"conditional", "partial", "gated", "restricted"}
_BAD = {"closed", "prohibited", "absent", "not conformant"}


def tone(status: str) -> str:
    if status in _GOOD or status.startswith("Class"):
        return "good"
    if status in _MID:
        return "mid"
    if status in _BAD:
        return "bad"
    return "none"


def badge_svg(label: str, value: str) -> str:
    """A flat badge drawn here: no image service sees which models a publisher audits."""
    from markupsafe import escape as x

    # Verdana at 11 px is about 7 px a character; the badge is sized to fit its words.
    lw, vw = 7 * len(label) + 12, 7 * len(value) + 12
    colour = _COLOURS[tone(value)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + vw}" height="20" role="img" '
        f'aria-label="{x(label)}: {x(value)}"><title>{x(label)}: {x(value)}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="5" y="14">{x(label)}</text><text x="{lw + 5}" y="14">{x(value)}</text></g></svg>\n'
    )


def badge_name(label: str, value: str) -> str:
    return f"badges/{_segment(label.lower())}-{_segment(value.lower())}.svg"


def badges(c: view.Card) -> list[tuple[str, str]]:
    v = c.verdict
    out = [
        (r.title, r.status) for r in c.rows if r.name in ("licence", "commercial_use", "weights")
    ]
    out += [("OSAID", c.frameworks[0].status), ("MOF", c.frameworks[1].status)]
    if not v.audited:
        out = [("audit", "not audited")]
    return out


# -- templates ----------------------------------------------------------------------------


def _md_finalize(value: Any) -> Any:
    # Numbers are the report's own (counts, percentages): only text can carry markup.
    if isinstance(value, Markup | int | float):
        return value
    return escape.md("" if value is None else value)


def _html_finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    return escape.clean("" if value is None else value)


@dataclass
class Links:
    """Reference-style Markdown links: each URL written once per file, at the end."""

    urls: list[str] = field(default_factory=list)

    def __call__(self, text: Any, url: Any) -> Markup:
        target = escape.safe_url(url) if url else None
        if target is None:
            return Markup(escape.md(text))
        if target not in self.urls:
            self.urls.append(target)
        return Markup(f"[{escape.md(text)}][{self.urls.index(target) + 1}]")

    def definitions(self) -> Markup:
        lines = [
            f"[{n}]: <{u.replace('<', '%3C').replace('>', '%3E')}>"
            for n, u in enumerate(self.urls, 1)
        ]
        return Markup("\n".join(lines))


def _environment(templates: Path | None, html: bool) -> Any:
    import jinja2

    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("openaudit.report", "templates")]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(templates)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        finalize=_html_finalize if html else _md_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["url"] = lambda u: Markup(escape.safe_url(u) or "")
    env.filters["md"] = lambda s: Markup(escape.md(s))
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    env.filters["tone"] = tone
    env.globals.update(
        osaid_words=view.OSAID_WORDS, meanings=view.STATUS_MEANINGS, title=view.title, raw=Markup
    )
    return env


def _changes(scorecard: Scorecard, since: Scorecard | None) -> dict[str, list[str]]:
    if since is None:
        return {}
    from openaudit.report.changes import changes

    found: dict[str, list[str]] = changes(since, scorecard)
    return found


def _card_md(
    env: Any, c: view.Card, path: str | None, links: Links, common: Mapping[str, Any]
) -> str:
    """One model's Markdown: a file of its own (`path`), or a section of one document."""
    text: str = env.get_template("card.md.j2").render(
        card=c,
        v=c.verdict,
        link=links,
        badges=[(lb, val, relative(path, badge_name(lb, val))) for lb, val in badges(c)]
        if path
        else [],
        index=relative(path, "README.md") if path else None,
        single=path is None,
        h1="#" if path else "##",
        h2="##" if path else "###",
        **common,
    )
    return text


def build(scorecard: Scorecard, options: Options = Options()) -> dict[str, str]:
    """Every file of the report: `README.md`, `<owner>/<name>.md`, `badges/*.svg`, and HTML."""
    cards = [view.card(v) for v in scorecard.models]
    paths = card_paths(scorecard.models)
    ranked = sorted(cards, key=lambda c: view.sort_key(c.verdict))
    common = {
        "scorecard": scorecard,
        "changes": _changes(scorecard, options.since),
        "date": scorecard.generated_at,
    }
    files: dict[str, str] = {}
    md_env = _environment(options.templates, html=False)
    for c in cards:
        path = paths[c.id] + ".md"
        files[path] = _card_md(md_env, c, path, Links(), common)
        for label, value in badges(c):
            files[badge_name(label, value)] = badge_svg(label, value)
    files["README.md"] = md_env.get_template("index.md.j2").render(
        cards=ranked, paths=paths, link=Links(), single=False, **common
    )
    if options.html:
        files.update(_html(cards, ranked, paths, options, common))
    return dict(sorted(files.items()))


def document(scorecard: Scorecard, templates: Path | None = None) -> str:
    """All of it in one Markdown document (`audit --format markdown`): leaderboard, then each
    model in input order; one set of link definitions at the end."""
    env = _environment(templates, html=False)
    cards = [view.card(v) for v in scorecard.models]
    ranked = sorted(cards, key=lambda c: view.sort_key(c.verdict))
    common = {"scorecard": scorecard, "changes": {}, "date": scorecard.generated_at}
    links = Links()
    parts = [
        env.get_template("index.md.j2").render(
            cards=ranked, paths=card_paths(scorecard.models), link=links, single=True, **common
        )
    ]
    parts += [_card_md(env, c, None, links, common) for c in cards]
    parts.append(str(links.definitions()) + "\n")
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


def _csp_hash(text: str) -> str:
    import base64
    import hashlib

    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def _html(
    cards: list[view.Card],
    ranked: list[view.Card],
    paths: Mapping[str, str],
    options: Options,
    common: Mapping[str, Any],
) -> dict[str, str]:
    """The site: inline style and script allowed by hash, so it works from file:// offline."""
    env = _environment(options.templates, html=True)
    css, js = (env.loader.get_source(env, name)[0] for name in ("site.css", "site.js"))
    style = {"css": css, "csp_style": _csp_hash(css)}
    files: dict[str, str] = {}
    for c in cards:
        path = f"html/{paths[c.id]}.html"
        files[path] = env.get_template("card.html.j2").render(
            card=c,
            v=c.verdict,
            badges=[
                (label, value, relative(path, badge_name(label, value)))
                for label, value in badges(c)
            ],
            index=relative(path, "html/index.html"),
            csp_script="'none'",
            **style,
            **common,
        )
    files["html/index.html"] = env.get_template("index.html.j2").render(
        cards=ranked, paths=paths, js=js, csp_script=_csp_hash(js), **style, **common
    )
    return files
