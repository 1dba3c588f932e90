"""Lineage facts: which models this one derives from, who said so, and the terms that follow.

A derivative (fine-tune, adapter, quantisation, merge) is bound by its bases' licences whatever
it declares itself: Llama, Gemma and RAIL licences follow the weights into every derivative. So
every place a base can be named is read (card metadata, Hub tags, adapter config, GGUF metadata,
the card's prose), each claim keeps its source, and each base's licence is read with the same
logic as the audited model's (`licence.read_snapshot`). What could not be read stays visible
(`lineage.base_unreadable`) so the rules can refuse to call a model open on missing evidence.
Family names that imply a licence come from `licenses/families/families.yml`, never from code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openaudit.cardtext import REPO_ID, adapter_base, base_mentions, gguf_bases
from openaudit.facts.context import Context, line_of, pinned
from openaudit.facts.licence import kb_evidence, read_snapshot
from openaudit.kb.loader import ModelFamily, family_words
from openaudit.model import Evidence, Fact, Snapshot

_REPO_ID = REPO_ID
_RELATIONS = frozenset({"adapter", "merge", "quantized", "finetune"})
#: Author tags that say the weights were made from other weights.
_DERIVATIVE_TAGS = frozenset(
    {
        "merge",
        "mergekit",
        "lazymergekit",
        "lora",
        "qlora",
        "peft",
        "adapter",
        "finetune",
        "finetuned",
        "fine-tuned",
        "quantized",
        "gptq",
        "awq",
        "exl2",
    }
)


@dataclass
class BaseClaim:
    """One base named by one snapshot, with every source that named it."""

    id: str
    sources: list[str] = field(default_factory=list)
    relation: str | None = None
    evidence: list[Evidence] = field(default_factory=list)

    def add(self, source: str, ev: Evidence, relation: str | None = None) -> None:
        if source not in self.sources:
            self.sources.append(source)
        self.evidence.append(ev)
        if relation and not self.relation:
            self.relation = relation


@dataclass
class Declared:
    """What one snapshot says about its own bases."""

    bases: dict[str, BaseClaim] = field(default_factory=dict)
    #: Names in prose that are not repo ids ("CodeLlama-7B", `pythia-12b`).
    names: list[tuple[str, Evidence]] = field(default_factory=list)
    relation: str | None = None
    relation_by: str | None = None
    relation_evidence: list[Evidence] = field(default_factory=list)

    def claim(self, repo_id: str, source: str, ev: Evidence, relation: str | None = None) -> None:
        if not _REPO_ID.match(repo_id):
            return
        self.bases.setdefault(repo_id, BaseClaim(repo_id)).add(source, ev, relation)


def _as_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _relation(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() in _RELATIONS:
        return value.strip().lower()
    return None


def declared_bases(ctx: Context, snap: Snapshot, *, prose: bool) -> Declared:
    """Every base a snapshot names: metadata, tags, adapter config, GGUF metadata, and its prose."""
    out = Declared()
    card = ctx.card(snap)
    meta = card.metadata
    for base in _as_ids(meta.get("base_model")):
        out.claim(base, "card", ctx.cite_metadata(snap, "base_model", meta.get("base_model")))
        if not _REPO_ID.match(base):
            out.names.append((base, ctx.cite_metadata(snap, "base_model", base)))
    rel = _relation(meta.get("base_model_relation"))
    if rel:
        out.relation, out.relation_by = rel, "card"
        out.relation_evidence.append(ctx.cite_metadata(snap, "base_model_relation", rel))
    for tag in snap.info.get("tags") or ():
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        parts = tag.split(":")
        tag_rel = _relation(parts[1]) if len(parts) >= 3 else None
        ev = Evidence("tag", "tags", tag, snap.url())
        out.claim(parts[-1], "tag", ev, tag_rel)
        if tag_rel and out.relation is None:
            out.relation, out.relation_by = tag_rel, "tag"
            out.relation_evidence.append(ev)
    adapter = snap.file("adapter_config.json")
    value = adapter_base(adapter.text) if adapter is not None and adapter.text else None
    if adapter is not None and adapter.text and value:
        line = line_of(adapter.text, '"base_model_name_or_path"')
        ev = Evidence(
            "file",
            f"adapter_config.json:{line}" if line else "adapter_config.json",
            f"base_model_name_or_path: {value}",
            snap.url("adapter_config.json", line),
        )
        if _REPO_ID.match(value):
            out.claim(value, "adapter_config", ev, "adapter")
        else:
            out.names.append((value, ev))
    gguf = snap.info.get("gguf")
    if isinstance(gguf, Mapping):
        for key, item, is_id in gguf_bases(gguf):
            ev = ctx.cite_api(snap, f"gguf.{key}", item)
            if is_id:
                out.claim(item, "gguf", ev, "quantized")
            else:
                out.names.append((item, ev))
    if prose and card.body:
        _prose_bases(ctx, snap, card.text, out)
    return out


def _prose_bases(ctx: Context, snap: Snapshot, text: str, out: Declared) -> None:
    """Bases a card names in its prose: links or names that follow a derivation phrase."""
    meta = ctx.card(snap).metadata
    raw = meta.get("datasets")
    datasets = {d for d in raw if isinstance(d, str)} if isinstance(raw, list) else set()
    for mention in base_mentions(text, snap.ref.repo_id):
        ev = ctx.cite_file(snap, "README.md", mention.line, mention.text)
        for repo_id in mention.ids:
            if repo_id not in datasets:  # data it was tuned on, not a base
                out.claim(repo_id, "prose", ev)
        for name in mention.names:
            out.names.append((name, ev))
        for name in mention.bare:
            # A bare name counts only where the family table resolves it: "Dolly-15k" is data.
            if name not in mention.names and _match_families(family_words(name), ctx.kb.families):
                out.names.append((name, ev))


@dataclass(frozen=True)
class FamilyClaim:
    family: ModelFamily
    text: str
    via: str
    evidence: Evidence
    #: The licences of the member claimed: the family's, or those of the size named.
    licences: tuple[str, ...] = ()
    size: str | None = None


_SIZE = re.compile(r"^\d+(?:\.\d+)?[bm]$")


def _size_after(words: tuple[str, ...], end: int) -> str | None:
    """A size ("3b", "0.5b", "72b") among the few words after a family name."""
    for i in range(end, min(end + 4, len(words))):
        w = words[i]
        if _SIZE.match(w):
            return w
        if w.isdigit() and i + 1 < len(words) and re.fullmatch(r"\d+[bm]", words[i + 1]):
            return f"{w}.{words[i + 1]}"  # "0.5B" folds to "0", "5b"
    return None


def _size_of(total: Any, family: ModelFamily) -> str | None:
    """The size key whose parameter count is within 20 % of the model's own count."""
    if not isinstance(total, (int, float)) or total <= 0:
        return None
    for key, _ in family.sizes:
        scale = 1e9 if key.endswith("b") else 1e6
        nominal = float(key[:-1]) * scale
        if abs(total - nominal) <= 0.2 * nominal:
            return key
    return None


def _match_families(
    words: tuple[str, ...], families: tuple[ModelFamily, ...]
) -> list[tuple[ModelFamily, int]]:
    """Families named in `words` with where the name ends; a longer name wins over one it
    contains ("llama 3 1" over "llama")."""
    spans: list[tuple[int, int, ModelFamily]] = []
    for fam in families:
        for name in fam.names:
            n = len(name)
            for i in range(len(words) - n + 1):
                if words[i : i + n] == name:
                    spans.append((i, i + n, fam))
    kept = [
        s
        for s in spans
        if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)
    ]
    out: dict[str, tuple[ModelFamily, int]] = {}
    for _, end, fam in kept:
        out.setdefault(fam.id, (fam, end))
    return list(out.values())


def family_claims(
    ctx: Context, snap: Snapshot, names: list[tuple[str, Evidence]], base_ids: list[str]
) -> list[FamilyClaim]:
    """Restricted families claimed by author tags, the repo's name, and names of its bases.

    A family's own publisher does not claim it, nor does a model's name in its own card; a size
    after the name ("Qwen2.5-3B") or the model's parameter count picks the member's licence.
    """
    families = ctx.kb.families
    meta = ctx.card(snap).metadata
    owner, _, own_name = snap.ref.repo_id.lower().partition("/")
    author_tags = {t.lower() for t in _as_ids(meta.get("tags"))}
    config = snap.info.get("config")
    model_type = config.get("model_type") if isinstance(config, Mapping) else None
    arch = {str(model_type).lower()} if model_type else set()
    gguf = snap.info.get("gguf")
    if isinstance(gguf, Mapping) and gguf.get("architecture"):
        arch.add(str(gguf["architecture"]).lower())
    st = snap.info.get("safetensors")
    total = st.get("total") if isinstance(st, Mapping) else None
    texts: list[tuple[str, str, Evidence, bool]] = []
    for tag in snap.info.get("tags") or ():
        if isinstance(tag, str) and ":" not in tag:
            texts.append(
                (tag, "tag", Evidence("tag", "tags", tag, snap.url()), tag.lower() in author_tags)
            )
    for tag in author_tags:
        texts.append((tag, "tag", ctx.cite_metadata(snap, "tags", tag), True))
    name = snap.ref.repo_id.split("/", 1)[-1]
    texts.append((name, "name", Evidence("api", "id", snap.ref.repo_id, snap.url()), True))
    for text, ev in names:
        if text.strip().lower().split("/")[-1] == own_name:
            continue  # the model naming itself is no claim on a family
        texts.append((text, "base name", ev, True))
    for base in base_ids:
        texts.append(
            (base.split("/", 1)[-1], "base id", Evidence("rule", "lineage.bases", base), True)
        )
    out: list[FamilyClaim] = []
    seen: set[tuple[str, str]] = set()
    for text, via, ev, authored in texts:
        words = family_words(text)
        for fam, end in _match_families(words, families):
            if owner in fam.publishers and via in ("tag", "name", "base name"):
                continue  # the family's own publisher names its own models
            if via == "tag" and text.lower() in arch:
                continue  # the model's architecture names the code it runs on, not its weights' origin
            if via == "tag" and text.lower() in fam.hub_architecture_tags and not authored:
                continue  # a tag the Hub derived from config.json, not the author's claim
            if (fam.id, text.lower()) in seen:
                continue
            seen.add((fam.id, text.lower()))
            size = _size_after(words, end)
            if size is None and via == "name":
                size = _size_of(total, fam)
            if fam.sizes and size not in dict(fam.sizes) and not fam.licences:
                continue  # a family whose licence depends on the size, and no size is named
            licences = fam.licences_for(size)
            entries = [ctx.kb.get(i) for i in licences]
            if licences and all(e is not None and e.free for e in entries):
                continue  # this member is under free terms: no restricted family is claimed
            out.append(FamilyClaim(fam, text, via, ev, licences, size))
    # A family whose variant the name cannot fix ("llama") adds nothing once a variant is named.
    if any(c.licences for c in out):
        out = [c for c in out if c.licences]
    return out


def honoured(
    claim: FamilyClaim, effective: Mapping[str, Any], families: tuple[ModelFamily, ...]
) -> bool:
    """A claim is honoured by the member's licence, or by the licence of a newer member of the
    same line: a Llama 3.1 model named "Llama-3-..." carries a Llama licence, not a false one."""
    if any(lic in effective for lic in claim.licences):
        return True
    if not claim.family.series:
        return False
    for fam in families:
        if fam.series == claim.family.series and fam.order >= claim.family.order:
            member = set(fam.licences) | {lic for _, ls in fam.sizes for lic in ls}
            if member & set(effective):
                return True
    return False


def _derivative_signals(
    ctx: Context, snap: Snapshot, declared: Declared
) -> list[tuple[str, Evidence]]:
    """Signs that the weights were made from other weights, whether or not a base is named."""
    signals: list[tuple[str, Evidence]] = []
    meta = ctx.card(snap).metadata
    names = snap.file_names
    if "adapter_config.json" in names:
        signals.append(("adapter_config.json present", ctx.cite_file(snap, "adapter_config.json")))
    if declared.relation:
        signals.extend(
            (f"base_model_relation: {declared.relation}", e) for e in declared.relation_evidence[:1]
        )
    if str(meta.get("library_name") or snap.info.get("library_name") or "").lower() == "peft":
        signals.append(("library_name: peft", ctx.cite_metadata(snap, "library_name", "peft")))
    if meta.get("quantized_by"):
        signals.append(
            ("quantized_by", ctx.cite_metadata(snap, "quantized_by", meta.get("quantized_by")))
        )
    for tag in _as_ids(meta.get("tags")):
        if tag.lower() in _DERIVATIVE_TAGS:
            signals.append((f"tag {tag}", ctx.cite_metadata(snap, "tags", tag)))
    if ctx.value("weights.adapter_only"):
        signals.append(
            ("adapter-only weights", Evidence("api", "siblings", "adapter_model.*", snap.url()))
        )
    for text, ev in declared.names:
        signals.append((f"base named: {text}", ev))
    return signals


def _problem_for(ctx: Context, repo_id: str) -> dict[str, str] | None:
    for p in ctx.bundle.problems:
        if p.subject in (f"model:{repo_id}", repo_id):
            return {"reason": p.reason, "detail": p.detail}
    return None


def extract(ctx: Context) -> Iterator[Fact]:
    root = ctx.bundle.root
    if root is None:
        return
    declared = declared_bases(ctx, root, prose=True)
    direct = list(declared.bases.values())
    decl_ev = tuple(e for b in direct for e in b.evidence)

    # Relation: what the card says, else the tags, else what the files and the count of bases imply.
    relation, relation_by = declared.relation, declared.relation_by
    weights = ctx.value("weights.files", []) or []
    if relation is None and direct:
        if any(b.relation == "adapter" for b in direct) or "adapter_config.json" in root.file_names:
            relation, relation_by = "adapter", "adapter_config.json"
        elif len(direct) >= 2:
            relation, relation_by = "merge", "number of bases"
        elif weights and all(str(w).lower().endswith(".gguf") for w in weights):
            relation, relation_by = "quantized", "weight files (gguf only)"
        else:
            relation, relation_by = "finetune", "a base is named"
    signals = _derivative_signals(ctx, root, declared)
    is_derivative = bool(direct) or bool(signals)

    # Walk the chain breadth-first: direct bases first, then what each readable base names.
    bases: list[dict[str, Any]] = []
    chain_ev: list[Evidence] = list(decl_ev)
    cycles: list[str] = []
    queue: list[tuple[BaseClaim, str, int, tuple[str, ...]]] = [
        (b, root.ref.repo_id, 1, (root.ref.repo_id,)) for b in direct
    ]
    seen: set[str] = set()
    while queue:
        claim, parent, depth, path = queue.pop(0)
        if claim.id in path:
            cycles.append(" -> ".join((*path, claim.id)))
            continue
        if claim.id in seen:
            continue
        seen.add(claim.id)
        snap = ctx.bundle.related.get(f"model:{claim.id}")
        entry: dict[str, Any] = {
            "id": claim.id,
            "source": list(claim.sources),
            "relation": claim.relation,
            "parent": parent,
            "depth": depth,
            "readable": snap is not None,
            "problem": None,
            "gated": False,
            "licence_ids": [],
            "declared_licences": [],
            "terms": [],
            "licence_known": False,
            **pinned(snap),
        }
        if snap is None:
            problem = _problem_for(ctx, claim.id)
            entry["problem"] = problem or {
                "reason": "not-followed",
                "detail": "named only where the collector does not look (prose, GGUF) or beyond the depth bound",
            }
        else:
            lic = read_snapshot(ctx, snap)
            entry["gated"] = snap.info.get("gated") or False
            entry["licence_ids"] = lic.reported_ids
            entry["declared_licences"] = [d["value"] for d in lic.declared]
            entry["terms"] = lic.terms
            entry["licence_known"] = (
                bool(lic.entries)
                and not lic.unresolved
                and all(t["kind"] != "unknown" for t in lic.terms)
            )
            chain_ev.extend(lic.cite)
            chain_ev.extend(kb_evidence(e) for e in lic.entries)
            if not lic.declared:
                chain_ev.append(
                    Evidence("api", "cardData.license", "no licence declared", snap.url())
                )
            parent_decl = declared_bases(ctx, snap, prose=False)
            for sub in parent_decl.bases.values():
                queue.append((sub, claim.id, depth + 1, (*path, claim.id)))
        bases.append(entry)

    direct_ids = {b.id for b in direct}
    yield Fact("lineage.is_derivative", is_derivative, decl_ev + tuple(e for _, e in signals))
    yield Fact("lineage.derivative_signals", [s for s, _ in signals], tuple(e for _, e in signals))
    yield Fact(
        "lineage.relation",
        relation,
        tuple(declared.relation_evidence) or decl_ev,
        note=relation_by or "",
    )
    yield Fact("lineage.relation_declared_by", relation_by)
    yield Fact(
        "lineage.base_declared_by",
        sorted({s for b in direct for s in b.sources}),
        decl_ev,
    )
    yield Fact("lineage.bases", [b for b in bases if b["id"] in direct_ids], tuple(chain_ev))
    yield Fact("lineage.ancestors", bases, tuple(chain_ev))
    yield Fact("lineage.base_ids", [b["id"] for b in bases if b["id"] in direct_ids], decl_ev)
    yield Fact(
        "lineage.prose_base_names",
        [n for n, _ in declared.names],
        tuple(e for _, e in declared.names),
    )
    yield Fact(
        "lineage.base_undeclared", is_derivative and not direct, tuple(e for _, e in signals)
    )
    unreadable = [b for b in bases if not b["readable"]]
    yield Fact("lineage.base_unreadable", bool(unreadable), tuple(chain_ev))
    yield Fact(
        "lineage.unreadable_bases",
        [f"{b['id']} ({b['problem']['reason']})" for b in unreadable],
        decl_ev,
    )
    unknown_terms = [b["id"] for b in bases if b["readable"] and not b["licence_known"]]
    yield Fact(
        "lineage.base_licence_unknown", unknown_terms, tuple(chain_ev) if unknown_terms else ()
    )
    yield Fact(
        "lineage.base_licences",
        [
            f"{b['id']}: {', '.join(b['licence_ids']) or 'none identified'}"
            for b in bases
            if b["readable"]
        ],
        tuple(chain_ev),
    )
    yield Fact("lineage.cycle", cycles, decl_ev if cycles else ())

    # Effective terms: the model's own and every readable ancestor's; none can be shed downstream.
    own_terms = ctx.value("licence.terms", []) or []
    effective: dict[str, dict[str, Any]] = {}
    origin: dict[str, list[str]] = {}
    for t in own_terms:
        effective.setdefault(t["id"], t)
        origin.setdefault(t["id"], []).append(root.ref.repo_id)
    for b in bases:
        for t in b["terms"]:
            effective.setdefault(t["id"], t)
            origin.setdefault(t["id"], []).append(b["id"])
    own_fact = ctx.facts.get("licence.terms")
    own_ev = own_fact.evidence if own_fact else ()
    yield Fact("licence.effective_terms", list(effective.values()), tuple(own_ev) + tuple(chain_ev))
    yield Fact("licence.effective_ids", list(effective), tuple(own_ev) + tuple(chain_ev))
    yield Fact(
        "licence.inherited_ids",
        [i for i, srcs in origin.items() if root.ref.repo_id not in srcs],
        tuple(chain_ev),
    )
    yield Fact(
        "licence.effective_origin",
        [f"{i} ({', '.join(s)})" for i, s in origin.items()],
        tuple(chain_ev),
    )

    # Family claims: names and tags that imply a licence no declared or inherited licence honours.
    claims = family_claims(ctx, root, declared.names, [b["id"] for b in bases])
    kb = ctx.kb
    claim_rows = [
        {
            "family": c.family.id,
            "name": c.family.name,
            "licences": list(c.licences),
            "size": c.size,
            "text": c.text,
            "via": c.via,
        }
        for c in claims
    ]
    yield Fact("lineage.family_claims", claim_rows, tuple(c.evidence for c in claims))
    unmet = [c for c in claims if not honoured(c, effective, kb.families)]
    unmet_ev = tuple(c.evidence for c in unmet)
    yield Fact(
        "lineage.restricted_family",
        [f"{c.family.id} ({c.via} '{c.text}')" for c in unmet],
        unmet_ev + tuple(own_ev),
    )
    family_ids = list(dict.fromkeys(lic for c in unmet for lic in c.licences))
    family_entries = [e for e in (kb.get(i) for i in family_ids) if e is not None]
    from openaudit.facts.licence import terms as licence_terms

    yield Fact("lineage.family_licences", family_ids, tuple(kb_evidence(e) for e in family_entries))
    yield Fact(
        "lineage.family_terms",
        [licence_terms(e) for e in family_entries],
        unmet_ev + tuple(kb_evidence(e) for e in family_entries),
    )
