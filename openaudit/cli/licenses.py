"""`openaudit licenses`: browse the licence knowledge base.

The CLI only displays what `licenses/*.yml` says; every judgement lives in the
data, so a reviewer reading the output reads the same values rules will use.
The knowledge-base loader (yaml, jsonschema) is imported inside the commands so
that `openaudit --help` stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from openaudit.kb import KnowledgeBase
    from openaudit.model import LicenseEntry, LicenseRule

KINDS = (
    "permissive",
    "weak-copyleft",
    "strong-copyleft",
    "public-domain",
    "non-commercial",
    "responsible-ai",
    "community",
    "unknown",
)
COMMERCIAL = ("allowed", "conditional", "prohibited", "unknown")

_COMMERCIAL_WORDS = {
    "allowed": "allowed",
    "conditional": "allowed only under conditions (thresholds, use policies or naming duties)",
    "prohibited": "not allowed",
    "unknown": "unknown: the terms cannot be read from this id",
}


def _kb() -> KnowledgeBase:
    from openaudit.kb import KnowledgeBaseError, load_kb

    try:
        return load_kb()
    except KnowledgeBaseError as exc:
        click.echo(f"openaudit: invalid licence knowledge base: {exc}", err=True)
        sys.exit(2)


def _rule_text(rule: LicenseRule) -> str:
    return rule.name if rule.value is None else f"{rule.name} ({rule.value})"


def _as_dict(entry: LicenseEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "spdx": entry.spdx,
        "name": entry.name,
        "aliases": list(entry.aliases),
        "url": entry.url,
        "osi_approved": entry.osi_approved,
        "kind": entry.kind,
        "commercial_use": entry.commercial_use,
        "conditions": [{"name": r.name, "value": r.value} for r in entry.conditions],
        "restrictions": [{"name": r.name, "value": r.value} for r in entry.restrictions],
        "osaid_compatible": entry.osaid_compatible,
        "evidence": [
            {"locator": e.locator, "quote": e.excerpt, "url": e.url} for e in entry.evidence
        ],
        "notes": entry.notes,
        "source_file": entry.source_file,
    }


@click.group(invoke_without_command=True)
@click.pass_context
def licenses(ctx: click.Context) -> None:
    """Browse the licence knowledge base (licenses/*.yml)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cmd)


@licenses.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only licences of this kind.")
@click.option(
    "--commercial-use",
    "commercial",
    type=click.Choice(COMMERCIAL),
    help="Only licences with this commercial-use status.",
)
@click.option(
    "--osi/--no-osi", default=None, help="Only OSI-approved (or only not approved) licences."
)
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def list_cmd(
    kind: str | None = None,
    commercial: str | None = None,
    osi: bool | None = None,
    fmt: str = "table",
) -> None:
    """List the knowledge base: id, kind, commercial use, OSI approval."""
    rows = [
        e
        for e in _kb().entries
        if (kind is None or e.kind == kind)
        and (commercial is None or e.commercial_use == commercial)
        and (osi is None or e.osi_approved == osi)
    ]
    if fmt == "json":
        click.echo(json.dumps([_as_dict(e) for e in rows], indent=2, ensure_ascii=False))
        return
    header = ("ID", "KIND", "COMMERCIAL USE", "OSI")
    table = [
        header,
        *[(e.id, e.kind, e.commercial_use, "yes" if e.osi_approved else "no") for e in rows],
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"\n{len(rows)} licence(s)")


def _show_text(entry: LicenseEntry) -> None:
    osaid = {True: "yes", False: "no", None: "undecided"}[entry.osaid_compatible]
    lines = [
        f"{entry.name} ({entry.id})",
        f"  SPDX:                {entry.spdx}",
        f"  Also known as:       {', '.join(entry.aliases) or '-'}",
        f"  Text:                {entry.url or '-'}",
        f"  OSI-approved:        {'yes' if entry.osi_approved else 'no'}",
        f"  Kind:                {entry.kind}",
        f"  Commercial use:      {_COMMERCIAL_WORDS[entry.commercial_use]}",
        f"  You must:            {', '.join(_rule_text(r) for r in entry.conditions) or '-'}",
        f"  Restrictions:        {', '.join(_rule_text(r) for r in entry.restrictions) or '-'}",
        f"  OSAID-compatible:    {osaid}",
        f"  Source:              {entry.source_file}",
    ]
    click.echo("\n".join(lines))
    if entry.notes:
        click.echo("\nNotes:\n  " + entry.notes.replace("\n", "\n  "))
    click.echo("\nEvidence:" if entry.evidence else "\nEvidence: none recorded")
    for ev in entry.evidence:
        click.echo(f'  - {ev.locator}: "{ev.excerpt}"')
        if ev.url:
            click.echo(f"    {ev.url}")


@licenses.command("show")
@click.argument("license_id")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def show(license_id: str, fmt: str) -> None:
    """Show one licence in plain words, with the quotes its values rest on.

    LICENSE_ID is a knowledge-base id; an SPDX id, name or alias is accepted too.
    """
    kb = _kb()
    entry = kb.get(license_id) or kb.find(license_id)
    if entry is None:
        click.echo(f"openaudit: no licence '{license_id}' in the knowledge base", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(_as_dict(entry), indent=2, ensure_ascii=False))
    else:
        _show_text(entry)


def _attach_identify() -> None:
    """Attach `identify` when its module exists; it is written separately and may be absent."""
    if importlib.util.find_spec("openaudit.cli.licenses_identify") is None:
        return
    try:
        module = importlib.import_module("openaudit.cli.licenses_identify")
    except ImportError:  # pragma: no cover - a broken sibling must not break list/show
        return
    identify = getattr(module, "identify", None)
    if isinstance(identify, click.Command):
        licenses.add_command(identify)


_attach_identify()
