"""`openaudit rules`: read the rule packs in force, as a reviewer would."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from openaudit.cli.common import audit_inputs, fail

rules_option = click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra rule pack (pack.yml or a folder of packs). Repeatable.",
)


@click.group()
def rules() -> None:
    """The rule packs: what is judged, why, and how to fix it."""


@rules.command("list")
@rules_option
@click.option("--pack", help="Only this pack.")
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def list_(rules_dirs: tuple[Path, ...], pack: str | None, fmt: str) -> None:
    """List every rule: id, pack, dimension and what it checks."""
    from openaudit.rules.loader import load_rules

    ruleset = load_rules(tuple(rules_dirs))
    chosen = [r for r in ruleset.rules if pack is None or r.pack == pack]
    if pack is not None and not chosen:
        fail(f"no rule pack '{pack}' (packs: {', '.join(p.name for p in ruleset.packs)})")
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in chosen], indent=2))
        return
    for r in chosen:
        click.echo(f"{r.id:34} {r.pack:10} {r.dimension:15} {r.short}")


@rules.command()
@rules_option
@click.argument("rule_id")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def show(rules_dirs: tuple[Path, ...], rule_id: str, fmt: str) -> None:
    """Show one rule in full: motivation, condition, outcomes, remediation."""
    from openaudit.rules.loader import load_rules

    rule = load_rules(tuple(rules_dirs)).get(rule_id)
    if rule is None:
        fail(f"no rule '{rule_id}' (see `openaudit rules list`)")
    if fmt == "json":
        click.echo(json.dumps(asdict(rule), indent=2))
        return
    lines = [
        f"{rule.id} ({rule.pack} pack, dimension {rule.dimension})",
        f"  {rule.short}",
        "",
        f"Why: {rule.motivation}",
        f"Frameworks: {', '.join(rule.frameworks) or '-'}",
        f"Needs facts: {', '.join(rule.requires) or '-'}",
        f"Condition (CEL): {rule.condition}",
    ]
    for label, o in (
        ("true", rule.on_true),
        ("false", rule.on_false),
        ("missing", rule.on_missing),
    ):
        status = f" -> {rule.dimension} {o.status}" if o.status else ""
        lines.append(f"When {label}: {o.outcome}{status}{': ' + o.message if o.message else ''}")
    if rule.remediation:
        lines += ["", f"Remediation: {rule.remediation}"]
    lines.append(f"Defined in: {rule.source_file}")
    click.echo("\n".join(lines))


@rules.command("facts")
@audit_inputs
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def facts_cmd(fmt: str, **opts: Any) -> None:
    """Show the facts rules can test, for MODELS: name, value, where it was read.

    Rule conditions address these names (`licence.terms`, `weights.present` ...); this is the
    list to write an organisation's own pack against.
    """
    from openaudit.cli.common import run_audit

    scorecard = run_audit(opts)
    if fmt == "json":
        click.echo(
            json.dumps({v.id: _facts_json(v) for v in scorecard.models}, indent=2, default=str)
        )
        return
    for v in scorecard.models:
        click.echo(f"{v.id} @ {v.revision or v.source}")
        for name, fact in sorted((v.facts.items if v.facts else {}).items()):
            where = fact.evidence[0].locator if fact.evidence else ""
            value = json.dumps(fact.value, default=str)
            click.echo(f"  {name:34} {value[:70]:70} {where}".rstrip())


def _facts_json(v: Any) -> dict[str, Any]:
    items = v.facts.items if v.facts else {}
    return {
        name: {"value": f.value, "evidence": [asdict(e) for e in f.evidence]}
        for name, f in items.items()
    }
