"""Facts about the repository itself: identity, origin, gating, card presence, what could not be read."""

from __future__ import annotations

from collections.abc import Iterator

from openaudit.facts.context import Context
from openaudit.hub.retry import UNFINISHED
from openaudit.model import Evidence, Fact, Snapshot


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    problems = list(ctx.bundle.problems)
    if snap is None:
        # What was asked and what came back: the only evidence an unreadable repo leaves.
        ref = ctx.bundle.ref
        ev = tuple(
            Evidence(
                "api",
                f"{ref.kind} {ref.repo_id}@{ref.revision or 'main'}",
                f"{p.reason}: {p.detail}",
            )
            for p in problems
        )
        yield Fact(
            "repo.readable", False, ev, note="; ".join(f"{p.subject}: {p.reason}" for p in problems)
        )
        yield Fact("repo.snapshot", None, ev)
        return
    problems.extend(snap.problems)
    yield Fact("repo.readable", True)
    passing = [p for p in snap.problems if p.reason in UNFINISHED]
    yield Fact(
        "repo.unread",
        [f"{p.subject} ({p.reason})" for p in passing],
        tuple(
            Evidence("file", p.subject, f"not read: {p.reason}: {p.detail}", snap.url(p.subject))
            for p in passing
        ),
    )
    yield Fact("repo.snapshot", snap.commit or snap.ref.local_path, snapshot_evidence(ctx, snap))
    # A stored snapshot is the Hub's evidence (as the verdict's `source` says): a re-audit that
    # reads the same commit from the store is the same evidence, and is recalled as such.
    yield Fact("repo.origin", "hub" if snap.origin == "store" else snap.origin)
    if snap.commit:
        yield Fact("repo.commit", snap.commit, (Evidence("api", "sha", snap.commit, snap.url()),))
    if snap.url() is not None:
        yield Fact("repo.url", snap.url())
    task = snap.info.get("pipeline_tag")
    if isinstance(task, str) and task:
        yield Fact("repo.pipeline_tag", task, (ctx.cite_api(snap, "pipeline_tag", task),))
    config = snap.info.get("config")
    if isinstance(config, dict):
        # The Hub's summary of config.json: what kind of model it is, as its author's code says.
        kind = config.get("model_type")
        if isinstance(kind, str) and kind:
            yield Fact(
                "repo.model_type", kind[:100], (ctx.cite_api(snap, "config.model_type", kind),)
            )
        archs = [a[:100] for a in config.get("architectures") or () if isinstance(a, str)][:8]
        if archs:
            yield Fact(
                "repo.architectures", archs, (ctx.cite_api(snap, "config.architectures", archs),)
            )
    gated = snap.info.get("gated")
    if "gated" in snap.info:
        # The Hub sends false, "auto" or "manual"; a folder on disk cannot say.
        yield Fact("repo.gated", gated if gated else False, (ctx.cite_api(snap, "gated", gated),))
        prompt = ctx.card(snap).metadata.get("extra_gated_prompt")
        if gated and isinstance(prompt, str):
            yield Fact(
                "repo.gate_prompt",
                prompt[:500],
                (ctx.cite_metadata(snap, "extra_gated_prompt", prompt),),
            )
    card = ctx.card(snap)
    yield Fact("card.present", bool(card.text) or card.origin == "api")
    yield Fact("card.metadata_source", card.origin or None)
    if card.problem is not None:
        problems.append(card.problem)
        yield Fact(
            "card.metadata_error",
            card.problem.detail,
            (Evidence("file", "README.md", card.problem.detail, snap.url("README.md")),),
        )
    unread = sorted({p.subject for p in snap.problems})
    yield Fact(
        "repo.unread_files",
        unread,
        tuple(
            Evidence("file", p.subject, f"{p.reason}: {p.detail}", snap.url(p.subject))
            for p in snap.problems
        ),
    )
    gate_reasons = sorted(
        {
            p.reason
            for p in snap.problems
            if p.reason.startswith("gated") or p.reason == "access-denied"
        }
    )
    if gate_reasons:
        yield Fact("repo.access", gate_reasons[0])


def snapshot_evidence(ctx: Context, snap: Snapshot) -> tuple[Evidence, ...]:
    """Where a finding about an absence was decided: the card and the file list at this commit.

    "No licence declared" or "no training-code link" is evidence too: of what was read and
    did not hold it. Rules fall back on this when the facts they cite have nothing to show.
    """
    card = ctx.card(snap)
    names = snap.file_names
    out = []
    if card.text:
        out.append(
            Evidence(
                "file",
                "README.md",
                f"model card, {len(card.text.splitlines())} lines",
                snap.url("README.md"),
            )
        )
    elif card.origin == "api":
        out.append(Evidence("api", "cardData", "card metadata from the Hub", snap.url()))
    listing = "siblings" if snap.origin != "local" else "folder listing"
    out.append(
        Evidence(
            "api" if snap.origin != "local" else "file", listing, f"{len(names)} files", snap.url()
        )
    )
    return tuple(out)
