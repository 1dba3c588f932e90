"""A European Open Source AI Index entry (the index's submission YAML), pre-filled from an audit.

The layout is the index's own template (shipped in `rules/osai-index/`): the `system` and `org`
fields, then each parameter as `class` / `link` / `notes`. The classes come from the
`osai-index` rule pack through `rules.osai_index.judge`; this module only renders them, with
an empty class where the evidence decides nothing, as the index writes "NA", and a note saying
that a person must decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from openaudit import __version__
from openaudit.model import Evidence, Verdict
from openaudit.report.mof_file import NotExportable
from openaudit.rules.mof_evidence import tree_url
from openaudit.rules.osai_index import Judgement, template

NEEDS_A_PERSON = "Needs a person"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def link(evidence: Iterable[Evidence], revision: str | None, fallback: str | None) -> str | None:
    """The first evidence URL pinned to the audited commit, else any evidence URL, else the repo."""
    urls = [ev.url for ev in evidence if ev.url]
    pinned = [u for u in urls if revision and revision in u]
    # A file and line says more than the repository's front page.
    precise = [u for u in pinned if "/blob/" in u]
    return next(iter(precise or pinned or urls), fallback)


def notes(j: Judgement) -> str:
    text = j.summary
    if j.index_class is None and not text.startswith(NEEDS_A_PERSON):
        keep = len(text) > 1 and text[1].isupper()  # an acronym ("OSI") keeps its case
        return f"{NEEDS_A_PERSON}: {text if keep else text[:1].lower() + text[1:]}"
    return text


def _release_date(created: Any) -> str | None:
    m = re.match(r"^(\d{4})-(\d{2})-\d{2}", created) if isinstance(created, str) else None
    return f"{m[1]} {_MONTHS[int(m[2]) - 1]}" if m and 1 <= int(m[2]) <= 12 else None


def fields(verdict: Verdict) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `system` and `org` values the evidence gives; the rest stay empty."""
    facts = verdict.facts
    if facts is None or not verdict.audited:
        raise NotExportable(f"{verdict.id}: not audited, nothing to export")
    tree = tree_url(facts)
    owner = verdict.id.split("/", 1)[0] if "/" in verdict.id else None
    names = [t.get("name") or t.get("id") for t in facts.value("licence.terms", [])]
    created = _release_date(facts.value("viability.created"))
    system = {
        "name": verdict.id.rsplit("/", 1)[-1],
        "link": tree,
        "basemodelname": ", ".join(facts.value("lineage.base_ids", [])) or None,
        "endmodelname": verdict.id,
        "endmodellicense": ", ".join(str(n) for n in names) or None,
        "releasedate": created,
        "notes": f"Pre-filled by openaudit {__version__} from the Hugging Face Hub at commit "
        f"{verdict.revision or 'unknown'}"
        + ("; release date: the repository's creation on the Hub." if created else "."),
    }
    org = {
        "name": owner,
        "link": f"{tree.split('/' + verdict.id + '/', 1)[0]}/{owner}" if tree and owner else None,
        "notes": "The publishing account on the Hub; the organisation's own site is for a person to add."
        if owner
        else None,
    }
    return system, org


def render(verdict: Verdict, judgements: Sequence[Judgement]) -> str:
    """The entry's text, in the template's order, with a comment block saying how it was made."""
    system, org = fields(verdict)
    tmpl = template()
    fallback = tree_url(verdict.facts) if verdict.facts else None
    lines = [
        f"# European Open Source AI Index entry for {verdict.id}, pre-filled by openaudit {__version__}",
        f"# from the Hugging Face Hub at commit {verdict.revision or 'unknown'}.",
        "# Classes come from openaudit's osai-index rule pack. An empty class means the Hub evidence does",
        "# not decide it: a person must (the index reads an empty class as NA, so fill it in first).",
        "# Criteria: https://osai-index.eu/contribute. The index's data and criteria are CC-BY 4.0:",
        "# https://osai-index.eu/ ; Liesenfeld, A. and Dingemanse, M., 2024. Rethinking open source",
        "# generative AI: open-washing and the EU AI Act. FAccT '24, pp. 1774-1787.",
        "",
    ]
    for block, values in (("system", system), ("org", org)):
        lines.append(f"{block}:")
        lines.extend(f"    {key}: {_scalar(values.get(key))}".rstrip() for key in tmpl[block])
        lines.append("")
    group = None
    for j in judgements:
        if j.parameter.group != group:
            group = j.parameter.group
            lines.append(f"# {group}:")
        lines.append(f"{j.parameter.ref}:")
        lines.append(f"    class: {_scalar(j.index_class)}".rstrip())
        lines.append(f"    link: {_scalar(link(j.evidence, verdict.revision, fallback))}".rstrip())
        lines.append(f"    notes: {_scalar(notes(j))}".rstrip())
        lines.append("")
    return "\n".join(lines)
