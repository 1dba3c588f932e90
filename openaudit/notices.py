"""`openaudit notices`: a third-party notices file for the models a codebase uses.

Not a stage: it reads what the audit read (bundles and verdicts from `pipeline.Run`) and the
licence knowledge base. Which duties apply is data (`licenses/vocabulary/distribution.yml`),
selected by how the model is shipped: a hosted API does not redistribute the weights, a
bundled app does. Licence texts come from the model's own repository at the audited commit,
else from the knowledge base's reference text, and say which.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openaudit.kb import KnowledgeBase
from openaudit.model import Bundle, CodeRef, LicenseEntry, Verdict
from openaudit.report.escape import clean, md
from openaudit.resources import data_dir


@functools.cache
def distribution() -> dict[str, Any]:
    import yaml

    path = data_dir("licenses") / "vocabulary" / "distribution.yml"
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def modes() -> tuple[str, ...]:
    return tuple(distribution()["modes"])


@dataclass(frozen=True)
class Text:
    """A licence or use-policy text and where it was read."""

    title: str
    body: str
    source: str
    url: str | None = None


@dataclass(frozen=True)
class LicenceNotice:
    entry: LicenseEntry
    #: None for the model's own licence; else the base it is inherited from.
    inherited_from: str | None
    duties: tuple[tuple[str, str], ...]
    quotes: tuple[str, ...]
    texts: tuple[Text, ...]


@dataclass(frozen=True)
class ModelNotice:
    id: str
    commit: str | None
    used_at: tuple[str, ...]
    licences: tuple[LicenceNotice, ...] = ()
    unknown: tuple[str, ...] = field(default_factory=tuple)


def duties_for(entry: LicenseEntry, mode: str) -> list[tuple[str, str]]:
    """(term, duty) pairs of one licence that apply to `mode`, in the data file's order."""
    table = distribution()
    out: list[tuple[str, str]] = []
    for group, items in (("conditions", entry.conditions), ("restrictions", entry.restrictions)):
        names = {r.name: r.value for r in items}
        for name, spec in table[group].items():
            if name in names and mode in spec["modes"]:
                value = names[name]
                shown = f"{value:,}" if isinstance(value, int) else str(value or "see the licence")
                out.append((name, " ".join(spec["duty"].split()).replace("{value}", shown)))
    return out


def _kb_texts(kb_id: str) -> dict[str, tuple[str, str]]:
    """Reference texts for a licence id: 'licence' and 'policy' -> (file, text)."""
    manifest = _manifest()
    out: dict[str, tuple[str, str]] = {}
    for item in manifest:
        if item.get("id") == kb_id and item.get("kind") == "licence":
            out.setdefault("licence", (item["file"], _read_text(item["file"])))
        if item.get("kind") == "policy" and item.get("license") == kb_id:
            out.setdefault("policy", (item["file"], _read_text(item["file"])))
    return out


@functools.cache
def _manifest() -> tuple[dict[str, Any], ...]:
    import yaml

    doc = yaml.safe_load(
        (data_dir("licenses") / "texts" / "manifest.yml").read_text(encoding="utf-8")
    )
    return tuple(doc.get("texts") or ())


@functools.cache
def _read_text(name: str) -> str:
    return (data_dir("licenses") / "texts" / name).read_text(encoding="utf-8")


def _repo_texts(bundle: Bundle, verdict: Verdict) -> dict[str, list[Text]]:
    """Licence and policy texts identified in the repository itself, by licence id."""
    out: dict[str, list[Text]] = {}
    root = bundle.root
    files = verdict.facts.value("licence.files", []) if verdict.facts else []
    if root is None:
        return out
    policy_of = {i.get("id"): i.get("license") for i in _manifest() if i.get("kind") == "policy"}
    for f in files or ():
        path, licence_id = f.get("path", ""), f.get("id")
        if f.get("source") == "url":
            linked = bundle.linked.get(path)
            body, source, url = (linked.text if linked else None), path, path
        else:
            repo_file = root.file(path)
            body = repo_file.text if repo_file is not None else None
            source = f"{path} in {verdict.id} at {verdict.revision or 'the audited revision'}"
            url = root.url(path)
        if not body or not licence_id:
            continue
        if f.get("kind") == "licence":
            out.setdefault(licence_id, []).append(Text("Licence", body, source, url))
        else:
            key = f"policy:{policy_of.get(licence_id) or licence_id}"
            out.setdefault(key, []).append(Text("Acceptable-use policy", body, source, url))
    return out


def _texts(entry: LicenseEntry, repo: Mapping[str, list[Text]]) -> tuple[Text, ...]:
    texts: list[Text] = list(repo.get(entry.id, ()))
    kb = _kb_texts(entry.id)
    if not texts and "licence" in kb:
        name, body = kb["licence"]
        texts.append(
            Text("Licence", body, f"openaudit knowledge base, licenses/texts/{name}", entry.url)
        )
    if not texts:
        texts.append(Text("Licence", "", "no copy of the text is available", entry.url))
    if "accept-acceptable-use-policy" in entry.condition_names:
        policies = list(repo.get(f"policy:{entry.id}", ()))
        if not policies and "policy" in kb:
            name, body = kb["policy"]
            policies.append(
                Text(
                    "Acceptable-use policy",
                    body,
                    f"openaudit knowledge base, licenses/texts/{name}",
                )
            )
        texts.extend(
            policies or [Text("Acceptable-use policy", "", "no copy of the policy is available")]
        )
    return tuple(texts)


def _quotes(entry: LicenseEntry) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            " ".join(e.excerpt.split())
            for e in entry.evidence
            if re.search(r"#(conditions|restrictions)\b", e.locator) and e.excerpt
        )
    )


def build(
    pairs: Sequence[tuple[Bundle, Verdict]],
    used_at: Mapping[str, Sequence[CodeRef]],
    kb: KnowledgeBase,
    mode: str,
) -> list[ModelNotice]:
    """One notice per model: its licences and its bases', with the duties `mode` triggers."""
    notices = []
    for bundle, verdict in pairs:
        repo = _repo_texts(bundle, verdict)
        owned: list[tuple[str, str | None]] = [(i, None) for i in verdict.licence_ids]
        ancestors = verdict.facts.value("lineage.ancestors", []) if verdict.facts else []
        for base in ancestors or ():
            owned.extend((i, base.get("id")) for i in base.get("licence_ids") or ())
        seen: set[str] = set()
        licences, unknown = [], []
        for licence_id, base in owned:
            entry = kb.get(licence_id)
            if licence_id in seen:
                continue
            seen.add(licence_id)
            if entry is None or entry.kind == "unknown":
                unknown.append(licence_id)
                continue
            licences.append(
                LicenceNotice(
                    entry, base, tuple(duties_for(entry, mode)), _quotes(entry), _texts(entry, repo)
                )
            )
        if not verdict.licence_ids:
            unknown.append("no licence identified")
        refs = used_at.get(verdict.id, ())
        notices.append(
            ModelNotice(
                verdict.id,
                verdict.revision,
                tuple(r.location for r in refs),
                tuple(licences),
                tuple(unknown),
            )
        )
    return notices


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in the text, so the text cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render(notices: Sequence[ModelNotice], mode: str, tool_version: str) -> str:
    out = [
        "# Third-party model notices",
        "",
        f"Distribution: **{mode}**: {distribution()['modes'][mode]}",
        "",
        f"Generated by openaudit {tool_version} from the models the code references. It lists each "
        "licence's text, the duties this way of shipping triggers, and the use policies that bind "
        "users. It is not legal advice: the licence texts govern.",
        "",
    ]
    for n in notices:
        out.append(f"## {md(n.id)}" + (f" ({md(n.commit[:12])})" if n.commit else ""))
        out.append("")
        if n.used_at:
            out.append(
                "Used at: " + ", ".join(f"`{clean(u).replace('`', '')}`" for u in n.used_at[:20])
            )
            out.append("")
        for u in n.unknown:
            out.append(
                f"- **Terms unknown** ({md(u)}): review the model's licence before shipping it."
            )
        for lic in n.licences:
            out.extend(_licence(lic, mode))
    return "\n".join(out).rstrip() + "\n"


def _licence(lic: LicenceNotice, mode: str) -> list[str]:
    e = lic.entry
    via = f", inherited from base model {md(lic.inherited_from)}" if lic.inherited_from else ""
    out = [f"### {md(e.name)} (`{e.id}`, {e.spdx}{via})", ""]
    if lic.duties:
        out.append(f"What **{mode}** requires:")
        out.append("")
        out.extend(f"- {duty} (`{term}`)" for term, duty in lic.duties)
    else:
        out.append(f"No duty of this licence is triggered by **{mode}** beyond its terms.")
    out.append("")
    if lic.quotes:
        out.append("In the licence's words:")
        out.append("")
        out.extend(f"> {md(q)}" for q in lic.quotes)
        out.append("")
    for text in lic.texts:
        where = f"{md(text.source)}" + (
            f" <{text.url}>" if text.url and text.url.startswith("http") else ""
        )
        out.append(f"#### {text.title} of {md(e.name)}")
        out.append("")
        out.append(f"Source: {where}")
        out.append("")
        if text.body:
            fence = _fence(text.body)
            out.extend([f"{fence}text", text.body.rstrip(), fence, ""])
    return out
