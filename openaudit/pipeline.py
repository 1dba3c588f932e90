"""Wire the stages together: sources -> hub -> facts -> rules -> Scorecard.

The CLI and the tests call this; it owns no judgement and no formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from openaudit import __version__
from openaudit.facts import extract
from openaudit.hub import Collector, HubClient, Store, default_cache_dir, endpoint_from_env
from openaudit.hub.links import LinkReader
from openaudit.kb import KnowledgeBase, load_kb
from openaudit.model import Bundle, ModelRef, Problem, Scorecard, Verdict
from openaudit.rules.engine import Judge
from openaudit.rules.loader import load_rules
from openaudit.rules.mof_evidence import with_mof


@dataclass(frozen=True)
class AuditOptions:
    endpoint: str | None = None
    cache_dir: Path | None = None
    use_store: bool = True
    offline: bool = False
    timeout: float = 20.0
    depth: int = 4
    workers: int = 4
    with_datasets: bool = True
    rules_dirs: tuple[Path, ...] = field(default_factory=tuple)
    #: Hosts licence links may be read from (None: `OPENAUDIT_LINK_HOSTS`, else any).
    link_hosts: frozenset[str] | None = None


def collect(refs: Sequence[ModelRef], options: AuditOptions) -> list[Bundle]:
    store = Store(options.cache_dir or default_cache_dir()) if options.use_store else None
    # Local folders need the Hub too, for the bases and datasets they name (unless offline).
    client = None if options.offline else HubClient(options.endpoint, timeout=options.timeout)
    links = LinkReader(
        store,
        endpoint=client.endpoint if client else endpoint_from_env(),
        timeout=options.timeout,
        offline=options.offline,
        hosts=options.link_hosts,
    )
    collector = Collector(
        client,
        store,
        offline=options.offline,
        depth=options.depth,
        with_datasets=options.with_datasets,
        links=links,
    )
    try:
        return collector.collect_all(list(refs), workers=options.workers)
    finally:
        links.close()
        if store is not None:
            store.close()


def judge(bundles: Sequence[Bundle], options: AuditOptions) -> Scorecard:
    kb = load_kb()
    ruleset = load_rules(tuple(options.rules_dirs))
    judge = Judge(ruleset)
    return Scorecard(
        models=tuple(_verdict(b, kb, judge) for b in bundles),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        rule_packs=tuple(p.name for p in ruleset.packs),
    )


def _verdict(bundle: Bundle, kb: KnowledgeBase, judge: Judge) -> Verdict:
    # The MOF class is counted from the components the facts show (`rules.mof_evidence`).
    facts, mof_class = with_mof(extract(bundle, kb))
    root = bundle.root
    errors: list[Problem] = list(bundle.problems)
    if root is not None:
        errors.extend(
            Problem(f"{bundle.ref.repo_id}/{p.subject}", p.reason, p.detail) for p in root.problems
        )
    # A stored snapshot is the Hub's evidence: same JSON online and offline.
    source = "hub" if root is None or root.origin == "store" else root.origin
    verdict = judge.verdict(facts, source=source, errors=errors, mof_class=mof_class)
    return verdict if root is not None else replace(verdict, audited=False)


def audit(refs: Sequence[ModelRef], options: AuditOptions) -> Scorecard:
    return judge(collect(refs, options), options)
