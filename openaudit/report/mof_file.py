"""A Model Openness Tool model file (MOF model YAML), pre-filled from an audit.

Rendered from the `mof.*` facts `rules.mof_evidence` made, never re-deciding anything: the
components listed are exactly those the audit counted, so `openaudit mof classify` on the file
gives the audit's class. What a person must confirm is written as a comment block at the top,
where the tool ignores it and a reviewer cannot miss it.
"""

from __future__ import annotations

from typing import Any

import yaml

from openaudit import __version__
from openaudit.model import Verdict
from openaudit.rules.mof import definition
from openaudit.rules.mof_evidence import FRAMEWORK


class NotExportable(ValueError):
    """The model was not audited (unreadable repository), so there is nothing to pre-fill."""


def file_name(repo_id: str, suffix: str = ".yml") -> str:
    """`<owner>__<name>.yml`: one file per model, safe on every file system."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in repo_id.replace("/", "__"))
    return safe.lstrip(".") + suffix


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"#{indent} {line}".rstrip() for line in text.splitlines() or [""]]


def header(verdict: Verdict) -> list[str]:
    facts = verdict.facts
    assert facts is not None
    release = facts.value("mof.release", {})
    progress = facts.value("mof.progress", {})
    lines = [
        f"# Model Openness Framework model file for {verdict.id}, pre-filled by openaudit {__version__}",
        f"# from the Hugging Face Hub at commit {verdict.revision or 'unknown'}"
        + (f" ({release['huggingface']})." if release.get("huggingface") else "."),
        "# Components are listed only where the Hub evidence shows them released under a licence that",
        "# could be named; what only a person can confirm is left out, so the class is a floor.",
        f"# Class from this evidence: {facts.value('mof.label', 'Unclassified')} (progress: "
        + ", ".join(
            f"{n} {progress.get(k, 0):g}%" for k, n in (("1", "I"), ("2", "II"), ("3", "III"))
        )
        + ").",
        "#",
        "# To confirm by a person (left out of release.components):",
    ]
    for item in facts.value("mof.left_out", []):
        lines.append(f"#   - {item['name']}: {item['reason']}")
        lines.extend(f"#       see {hint}" for hint in item.get("hints", []))
    caveats = facts.value("mof.to_confirm", [])
    if caveats:
        lines.append("#")
        lines.append("# Also to confirm (listed in release.components):")
        lines.extend(f"#   - {c}" for c in caveats)
    return lines


def document(verdict: Verdict) -> dict[str, Any]:
    """The model file as data, in the field order of the tool's own files."""
    facts = verdict.facts
    if facts is None or not verdict.audited or facts.value("mof.release") is None:
        raise NotExportable(f"{verdict.id}: not audited, nothing to export")
    meta = facts.value("mof.release", {})
    release: dict[str, Any] = {"name": meta["name"]}
    for key in (
        "version",
        "date",
        "type",
        "architecture",
        "treatment",
        "origin",
        "producer",
        "contact",
    ):
        if key in meta:
            release[key] = meta[key]
    release.setdefault("producer", "")
    for key in ("repository", "huggingface"):
        if key in meta:
            release[key] = meta[key]
    lic = meta.get("license")
    release["license"] = (
        {"distribution": {k: v for k, v in (("name", lic["name"]), ("path", lic.get("path"))) if v}}
        if lic
        else {}
    )
    descriptions = {c.name: c.description for c in definition().components}
    components = []
    for c in facts.value("mof.components", []):
        entry: dict[str, Any] = {
            "name": c["name"],
            "description": f"{descriptions.get(c['name'], '')}. Evidence: {c['basis']}.",
            "license": c["license"],
        }
        if c.get("license_path"):
            entry["license_path"] = c["license_path"]
        if c.get("component_path"):
            entry["component_path"] = c["component_path"]
        components.append(entry)
    release["components"] = components
    return {"framework": dict(FRAMEWORK), "release": release}


def render(verdict: Verdict) -> str:
    """The model file's text: the comment block, then the YAML the tool reads."""
    doc = document(verdict)
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header(verdict)) + "\n" + body
