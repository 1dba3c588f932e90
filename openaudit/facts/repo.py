"""Facts about the repository itself: identity, origin, gating, card presence, what could not be read."""

from __future__ import annotations

from collections.abc import Iterator

from openaudit.facts.context import Context
from openaudit.model import Evidence, Fact


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    problems = list(ctx.bundle.problems)
    if snap is None:
        yield Fact(
            "repo.readable", False, note="; ".join(f"{p.subject}: {p.reason}" for p in problems)
        )
        return
    problems.extend(snap.problems)
    yield Fact("repo.readable", True)
    yield Fact("repo.origin", snap.origin)
    if snap.commit:
        yield Fact("repo.commit", snap.commit, (Evidence("api", "sha", snap.commit, snap.url()),))
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
    yield Fact("repo.unread_files", unread)
    gate_reasons = sorted(
        {
            p.reason
            for p in snap.problems
            if p.reason.startswith("gated") or p.reason == "access-denied"
        }
    )
    if gate_reasons:
        yield Fact("repo.access", gate_reasons[0])
