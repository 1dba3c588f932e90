"""Which facts rest on evidence that was not read, and why.

A fact is read from artefacts of the bundle: the card's metadata, the card's prose, the licence
and policy texts (files and linked texts), the configs, the file listing, the base models and
the training datasets. When one of them could not be read (a transient failure, a gate, a size
limit, malformed YAML, a deleted dataset whose licence is therefore unknown), every fact read
from it carries the Problem in `Fact.unread`, and the rules engine refuses to let such a fact
support an open status, a pass or an absence (`openaudit.rules.engine`).

The table below says which artefacts each fact is read from. It is the one place to update
when an extractor starts reading a new artefact; a fact it does not name is read from the
card's metadata and prose, which errs on the cautious side. This runs after every extractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from openaudit.facts.context import Context
from openaudit.model import INCOMPLETE_REASONS, Evidence, Fact, Problem, Snapshot

#: Artefacts each fact is read from; the first pattern that matches a fact's name applies
#: (`prefix.*` matches a family). Order from the most specific to the most general.
FACT_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("repo.*", ()),
    ("card.present", ("card",)),
    ("card.metadata_error", ()),
    ("card.*", ("metadata",)),
    ("licence.declared", ("metadata",)),
    ("licence.declared_ids", ("metadata",)),
    ("licence.unresolved_names", ("metadata",)),
    ("licence.link_url", ("metadata",)),
    ("licence.link_missing", ("metadata", "listing")),
    ("licence.effective_*", ("metadata", "card", "licence_texts", "adapter_config", "bases")),
    ("licence.inherited_ids", ("metadata", "card", "licence_texts", "adapter_config", "bases")),
    ("licence.*", ("metadata", "card", "licence_texts")),
    ("derivatives.*", ("metadata", "card", "licence_texts", "adapter_config", "bases")),
    ("weights.adapter_only", ("listing", "adapter_config")),
    ("weights.*", ("listing",)),
    # What the model says of its own bases is read from it; what the bases say, from them.
    ("lineage.base_unreadable", ()),
    ("lineage.unreadable_bases", ()),
    ("lineage.is_derivative", ("metadata", "card", "adapter_config")),
    ("lineage.derivative_signals", ("metadata", "card", "adapter_config")),
    ("lineage.relation*", ("metadata", "card", "adapter_config")),
    ("lineage.base_ids", ("metadata", "card", "adapter_config")),
    ("lineage.base_declared_by", ("metadata", "card", "adapter_config")),
    ("lineage.base_undeclared", ("metadata", "card", "adapter_config")),
    ("lineage.prose_base_names", ("card",)),
    ("lineage.*", ("metadata", "card", "adapter_config", "bases")),
    # A dataset the Hub says is gone was looked for (its absence is read); its licence was not.
    ("data.prose_section", ("card",)),
    ("data.prose_mentions", ("card",)),
    ("data.described", ("card",)),
    ("data.licences", ("metadata", "card", "datasets")),
    ("data.terms", ("metadata", "card", "datasets")),
    ("data.licence_unknown", ("metadata", "card", "datasets")),
    ("data.noncommercial", ("metadata", "card", "datasets")),
    ("data.*", ("metadata", "card", "datasets.listed")),
    ("docs.eval_results", ("metadata",)),
    ("docs.parameter_count", ()),
    ("docs.memory_estimate_gb", ()),
    ("docs.*", ("card",)),
    ("code.library", ("metadata",)),
    ("code.custom_files", ("listing",)),
    ("code.auto_map", ("config",)),
    ("code.trust_remote_code", ("config", "listing")),
    ("code.*", ("card",)),
    ("viability.reupload_of", ("card",)),
    ("viability.*", ()),
)
_DEFAULT_SOURCES = ("metadata", "card")

_LICENCE_TEXT = re.compile(
    r"^(licen[cs]e|copying|use[_-]?policy|acceptable[_-]?use|responsible[_-]?use)"
    r"([._-].*)?$",
    re.IGNORECASE,
)
#: What each small file of a repository is read for, besides the card and licence texts.
_CONFIGS = {"config.json": "config", "adapter_config.json": "adapter_config"}
#: Link problems that are a choice of scope (a host not allowed), not a failure to read.
_NOT_ATTEMPTED = frozenset({"not-fetched"})
#: A related repository the Hub says is not there: looked for and found absent. A dataset's
#: licence is still unread (it may have been non-commercial); a base's absence is judged by
#: the lineage rules, which already refuse to call its derivative open.
_ABSENT = frozenset({"not-found", "disabled", "revision-not-found"})


def sources_of(name: str) -> tuple[str, ...]:
    """The artefacts a fact is read from (`FACT_SOURCES`)."""
    for pattern, sources in FACT_SOURCES:
        if (pattern.endswith("*") and name.startswith(pattern[:-1])) or name == pattern:
            return sources
    return _DEFAULT_SOURCES


def _root_problems(snap: Snapshot) -> Iterator[Problem]:
    """The root's own problems, plus files read only in part."""
    yield from snap.problems
    for f in snap.files:
        if f.truncated:
            yield Problem(f.path, "too-large", "read in part: the file is larger than the limit")


def unread_artefacts(ctx: Context) -> dict[str, list[Problem]]:
    """Problems that kept each artefact of the bundle unread, by artefact."""
    out: dict[str, list[Problem]] = {}
    snap = ctx.bundle.root
    if snap is None:
        return out

    def add(kind: str, problem: Problem) -> None:
        out.setdefault(kind, []).append(problem)

    link = ctx.card(snap).metadata.get("license_link")
    link_target = link.lstrip("./") if isinstance(link, str) else None
    has_card_data = isinstance(snap.info.get("cardData"), dict)
    for p in _root_problems(snap):
        for kind in artefact_kinds(p, link_target, has_card_data):
            add(kind, p)
    if not isinstance(snap.info.get("siblings"), list) and snap.origin != "local":
        add("listing", Problem("siblings", "malformed", "the Hub's answer has no file list"))
    for p in ctx.bundle.problems:
        kind, _, repo = p.subject.partition(":")
        if kind == "model" and repo:
            # A base the Hub says is gone is a firm answer the lineage rules judge
            # (`lineage.base_unreadable`); one that failed to load was not read.
            if p.reason not in _ABSENT:
                add("bases", p)
        elif kind == "dataset" and repo:
            add("datasets", p)
            if p.reason not in _ABSENT:
                add("datasets.listed", p)
        elif "://" in p.subject and p.reason not in _NOT_ATTEMPTED:
            add("licence_texts", p)
    for key, related in ctx.bundle.related.items():
        # A base's or a dataset's licence is read from its metadata, its card, its licence texts
        # (and a base's own bases from its adapter config): not from its config.json.
        kind = "bases" if key.startswith("model:") else "datasets"
        rel_link = (
            related.info.get("cardData", {}).get("license_link")
            if isinstance(related.info.get("cardData"), dict)
            else None
        )
        rel_target = rel_link.lstrip("./") if isinstance(rel_link, str) else None
        rel_card_data = isinstance(related.info.get("cardData"), dict)
        for p in _root_problems(related):
            if set(artefact_kinds(p, rel_target, rel_card_data)) - {"config"}:
                add(kind, Problem(f"{related.ref.repo_id}/{p.subject}", p.reason, p.detail))
    return out


def artefact_kinds(p: Problem, link_target: str | None, has_card_data: bool) -> list[str]:
    """Which artefacts a problem with one of a repository's own files leaves unread."""
    name = p.subject
    if name == "README.md":
        # Malformed front matter: the prose was read, the metadata was not (unless the Hub's was).
        kinds = [] if p.reason == "malformed" else ["card"]
        return kinds + ([] if has_card_data else ["metadata"])
    if name in _CONFIGS:
        return [_CONFIGS[name]]
    if _LICENCE_TEXT.match(name) or name == link_target:
        return ["licence_texts"]
    return []


def _cite(ctx: Context, p: Problem) -> Evidence:
    """The request that failed: a root file by its pinned URL, a repo or a link by its name."""
    kind, _, repo = p.subject.partition(":")
    excerpt = f"not read: {p.reason}: {p.detail}"[:200]
    if "://" in p.subject:
        return Evidence("url", p.subject, excerpt, p.subject)
    if repo and kind in ("model", "dataset"):
        return Evidence("api", p.subject, excerpt)
    root = ctx.bundle.root
    if p.subject == "siblings":
        return Evidence("api", p.subject, excerpt, root.url() if root is not None else None)
    for snap in ctx.bundle.related.values():
        prefix = f"{snap.ref.repo_id}/"
        if p.subject.startswith(prefix):
            return Evidence("file", p.subject, excerpt, snap.url(p.subject[len(prefix) :]))
    return Evidence("file", p.subject, excerpt, root.url(p.subject) if root is not None else None)


def extract(ctx: Context) -> Iterator[Fact]:
    """Mark every fact with what it could not be read from; say whether the audit is complete."""
    artefacts = unread_artefacts(ctx)
    for name, fact in list(ctx.facts.items()):
        problems = tuple(
            dict.fromkeys(p for kind in sources_of(name) for p in artefacts.get(kind, ()))
        )
        if problems:
            ctx.facts[name] = replace(fact, unread=problems)
    every = tuple(dict.fromkeys(p for ps in artefacts.values() for p in ps))
    root = ctx.bundle.root
    missing = list(ctx.bundle.problems) if root is None else []
    yield Fact(
        "repo.unread_artefacts",
        sorted({f"{p.subject} ({p.reason})" for p in every}),
        tuple(_cite(ctx, p) for p in every),
        note="every artefact the audit meant to read and did not; rules cite these",
    )
    yield Fact(
        "repo.complete",
        root is not None and not any(p.reason in INCOMPLETE_REASONS for p in (*every, *missing)),
    )
