"""Model Openness Framework components from an audit's facts: what the Hub evidence shows released.

An audit's `mof_class` must be the class the Model Openness Tool would compute from a model
file listing the same components, so this module only decides *which components the evidence
supports, and under which licence id*; the counting is `rules.mof.classify`, shared with
`openaudit mof classify`. The exported model file (`report.mof_file`) is written from the
`mof.*` facts made here, so the file read back classifies exactly as the audit did.

Conservative by construction, because a wrong "open" is the worst error:

- a component is listed only when the Hub shows it *and* its licence can be named; what only a
  person can confirm (a paper's licence, code in another repository, completeness) is left out
  and listed with the reason and the pointers the evidence gives;
- licences are written as the knowledge base's SPDX id, because the tool matches ids exactly;
  an unidentified licence is `LicenseRef-openaudit-unknown` and a `LicenseRef-` id is never
  open, so doubt can only lower the class;
- the weights carry the *effective* licence (their own and every ancestor's): the least open one
  is written, and an unreadable base turns an open licence into the unknown one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openaudit.model import Evidence, Fact, Facts, MofClassification, MofComponent, MofRelease
from openaudit.rules.mof import UNLICENSED, classify, definition, is_open

#: Written for a licence that was declared or shipped but not identified: never open.
UNKNOWN_LICENCE = "LicenseRef-openaudit-unknown"
#: Framework block of the exported file: the MOF version the tool's own files declare.
FRAMEWORK = {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"}

#: Why a component is left out when the Hub shows nothing a program could count.
_NOT_ON_THE_HUB: Mapping[str, str] = {
    "Technical report": "a report's licence is not published on the Hub; a person names it",
    "Research paper": "a paper's licence (arXiv, journal) is not published on the Hub; a person names it",
    "Training code": "code in another repository: its licence and completeness are not read",
    "Inference code": "inference code lives in a library or another repository whose licence is not read",
    "Evaluation code": "evaluation code is not identified by the Hub's data",
    "Evaluation data": "evaluation data is not identified by the Hub's data",
    "Data preprocessing code": "preprocessing code is not identified by the Hub's data",
    "Supporting libraries and tools": "libraries and their licences are not read",
    "Sample model outputs": "sample outputs are not identified by the Hub's data",
    "Model metadata": "training configuration and optimizer states are not identified by the Hub's data",
    "Model parameters (Intermediate)": "checkpoint branches and revisions other than the audited one are not read",
    "Model architecture": "no modelling code in the repository; code elsewhere has a licence that is not read",
}


@dataclass(frozen=True)
class Included:
    """A component the evidence shows released, with the licence id the tool will match."""

    name: str
    license: str
    #: What was read, in one sentence, for the reviewer and the file's description.
    basis: str
    component_path: str | None = None
    license_path: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class LeftOut:
    """A component only a person can confirm, with what the evidence points at."""

    name: str
    reason: str
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class MofAssessment:
    release: MofRelease
    classification: MofClassification
    included: tuple[Included, ...]
    left_out: tuple[LeftOut, ...]
    #: Caveats on included components that a person should still check.
    to_confirm: tuple[str, ...]
    #: Release fields of the model file the evidence gives (name, producer, date, origin ...).
    metadata: Mapping[str, Any]

    @property
    def mof_class(self) -> int | None:
        """The audit's `mof_class`: None when unclassified, as the JSON schema says."""
        return self.classification.mof_class or None


# ---------------------------------------------------------------- licences


def spdx_of(term: Mapping[str, Any]) -> str:
    """The id the tool would match for a knowledge-base entry; families and placeholders are unknown."""
    spdx = term.get("spdx")
    if not isinstance(spdx, str) or not spdx or term.get("kind") == "unknown":
        return (
            UNKNOWN_LICENCE
            if not (isinstance(spdx, str) and spdx.startswith("LicenseRef-"))
            else spdx
        )
    return spdx


def least_open(terms: Sequence[Mapping[str, Any]]) -> tuple[str, Mapping[str, Any] | None]:
    """The licence id to write when several govern: the first the tool does not count as open."""
    ids = [(spdx_of(t), t) for t in terms]
    for lic, term in ids:
        if not is_open(lic):
            return lic, term
    return ids[0] if ids else (UNKNOWN_LICENCE, None)


def _own_licence(facts: Facts) -> tuple[str, Mapping[str, Any] | None]:
    terms = facts.value("licence.terms", [])
    if terms:
        return least_open(terms)
    if not facts.value("licence.declared", []) and not facts.value("licence.files", []):
        return UNLICENSED, None
    return UNKNOWN_LICENCE, None


def _own_licence_path(facts: Facts) -> str | None:
    """Where the repo's own licence was read: the licence file, the linked text, the card line."""
    fact = facts.get("licence.ids")
    evidence = fact.evidence if fact else ()
    for ev in evidence:
        if ev.source == "file" and ev.url:
            return ev.url
    link = facts.value("licence.link_url")
    if isinstance(link, str) and link:
        return link
    return next((ev.url for ev in evidence if ev.url), None)


def _kb_url(facts: Facts, name: str, licence_id: str) -> str | None:
    fact = facts.get(name)
    for ev in fact.evidence if fact else ():
        if ev.source == "knowledge-base" and ev.excerpt.startswith(f"{licence_id}:") and ev.url:
            return ev.url
    return None


def _evidence(facts: Facts, *names: str) -> tuple[Evidence, ...]:
    seen: dict[Evidence, None] = {}
    for name in names:
        fact = facts.get(name)
        for ev in fact.evidence if fact else ():
            seen.setdefault(ev, None)
    return tuple(seen)


# ---------------------------------------------------------------- locations


def tree_url(facts: Facts) -> str | None:
    """The repository pinned to the audited commit (None for a folder on disk)."""
    fact = facts.get("repo.commit")
    for ev in fact.evidence if fact else ():
        if ev.url and "/tree/" in ev.url:
            return ev.url
    return None


def blob_url(facts: Facts, path: str) -> str | None:
    tree = tree_url(facts)
    if tree is None:
        return None
    base, _, rev = tree.rpartition("/tree/")
    return f"{base}/blob/{rev}/{path}"


def _dataset_urls(facts: Facts, dataset_id: str) -> list[tuple[str, str, str]]:
    """(repo URL, commit, full URL) of every evidence link into a named dataset's repository."""
    pattern = re.compile(
        rf"^(?P<base>https?://\S*?/datasets/{re.escape(dataset_id)})/(?:tree|blob)/(?P<rev>[^/#]+)"
    )
    fact = facts.get("data.datasets")
    out = []
    for ev in fact.evidence if fact else ():
        m = pattern.match(ev.url or "")
        if m:
            out.append((m["base"], m["rev"], m.string))
    return out


def dataset_tree_url(facts: Facts, dataset_id: str) -> str | None:
    """A named dataset pinned to the commit it was read at, from the evidence of its licence."""
    urls = _dataset_urls(facts, dataset_id)
    return f"{urls[0][0]}/tree/{urls[0][1]}" if urls else None


def dataset_licence_url(facts: Facts, dataset_id: str) -> str | None:
    """Where a dataset's licence was read: its licence file, else its card's `license:` line."""
    urls = [u for _, _, u in _dataset_urls(facts, dataset_id) if "/blob/" in u]
    files = [u for u in urls if "/README.md" not in u]
    return next(iter(files or urls), dataset_tree_url(facts, dataset_id))


# ---------------------------------------------------------------- components


def _parameters(facts: Facts) -> Included | LeftOut:
    name = "Model parameters (Final)"
    if not facts.value("weights.files_known", False):
        return LeftOut(name, "the repository's file list could not be read")
    files = facts.value("weights.files", [])
    if not files:
        return LeftOut(
            name,
            "no weight files in the repository at the audited commit; they may be published elsewhere",
        )
    gated = facts.value("repo.gated")
    if gated is None or gated is not False:
        why = (
            f"the weights are gated ({gated}): terms accepted at the gate may add to the licence"
            if gated
            else "whether the Hub gates the weights is not known"
        )
        return LeftOut(name, why, (tree_url(facts) or "",) if tree_url(facts) else ())
    terms = list(facts.value("licence.effective_terms", [])) + list(
        facts.value("lineage.family_terms", [])
    )
    lic, term = least_open(terms) if terms else _own_licence(facts)
    doubts = _lineage_doubts(facts)
    if doubts and is_open(lic):
        lic, term = UNKNOWN_LICENCE, None
    own_ids = facts.value("licence.ids", [])
    if term is None or term.get("id") in own_ids:
        path = _own_licence_path(facts) if lic != UNLICENSED else None
    else:
        path = _kb_url(facts, "licence.effective_terms", str(term.get("id"))) or _kb_url(
            facts, "lineage.family_terms", str(term.get("id"))
        )
    shown = ", ".join(files[:3]) + (" …" if len(files) > 3 else "")
    basis = f"weight files {shown}; licence {_licence_basis(lic, term, own_ids)}"
    if doubts:
        basis += f" ({'; '.join(doubts)})"
    evidence = _evidence(facts, "weights.files", "licence.effective_terms", "lineage.family_terms")
    return Included(name, lic, basis, blob_url(facts, files[0]), path, evidence)


def _lineage_doubts(facts: Facts) -> list[str]:
    doubts = []
    if facts.value("lineage.base_unreadable"):
        doubts.append("a base model could not be read, so its licence is unknown")
    if facts.value("lineage.base_licence_unknown"):
        doubts.append(
            f"base licence not identified: {', '.join(facts.value('lineage.base_licence_unknown'))}"
        )
    if facts.value("lineage.base_undeclared"):
        doubts.append("the repository looks derived but names no base model")
    if facts.value("lineage.cycle"):
        doubts.append("the base-model chain is a cycle")
    return doubts


def _licence_basis(lic: str, term: Mapping[str, Any] | None, own_ids: Sequence[str]) -> str:
    if lic == UNLICENSED:
        return "none declared and no licence file (unlicensed)"
    if term is None:
        return f"{lic} (declared or shipped, but not identified)"
    origin = (
        "declared by the repository"
        if term.get("id") in own_ids
        else "inherited from a base model or implied by the model family"
    )
    return f"{lic} (knowledge-base entry {term.get('id')}, {origin})"


def _own_component(facts: Facts, name: str, basis: str, path: str | None, *cites: str) -> Included:
    lic, term = _own_licence(facts)
    licence_path = _own_licence_path(facts) if lic != UNLICENSED else None
    basis = f"{basis}; licence {_licence_basis(lic, term, facts.value('licence.ids', []))}"
    return Included(name, lic, basis, path, licence_path, _evidence(facts, *cites, "licence.terms"))


def _model_card(facts: Facts) -> Included | LeftOut:
    sections = facts.value("docs.sections_present", [])
    words = facts.value("docs.card_words", 0)
    if not facts.value("card.present", False) or (not sections and words < 50):
        return LeftOut(
            "Model card", f"no model card to speak of ({words} words, no recognised section)"
        )
    basis = f"README.md, {words} words, sections: {', '.join(sections) or 'none recognised'}"
    return _own_component(
        facts, "Model card", basis, blob_url(facts, "README.md"), "docs.sections_present"
    )


def _evaluation_results(facts: Facts) -> Included | LeftOut:
    name = "Evaluation results"
    if facts.value("docs.eval_results", False):
        fact = facts.get("docs.eval_results")
        path = next((ev.url for ev in fact.evidence if ev.url), None) if fact else None
        return _own_component(
            facts, name, "model-index results in the card's metadata", path, "docs.eval_results"
        )
    if "evaluation" in facts.value("docs.sections_present", []):
        return LeftOut(
            name,
            "the card has an evaluation section but no model-index results; a person checks it holds results",
            _section_hints(facts, "evaluation"),
        )
    return LeftOut(name, "no model-index results and no evaluation section in the card")


def _named_datasets(facts: Facts) -> tuple[list[Mapping[str, Any]], str | None]:
    """The named datasets if every one was read on the Hub; else why not."""
    datasets = facts.value("data.datasets", [])
    if not datasets:
        return [], "the card names no dataset"
    unread = [f"{d['id']} ({d['status']})" for d in datasets if d.get("status") != "available"]
    if unread:
        return [], f"not every named dataset could be read openly on the Hub: {', '.join(unread)}"
    return list(datasets), None


def _datasets_licence(datasets: Iterable[Mapping[str, Any]]) -> str:
    rows = list(datasets)
    if any(not d.get("licence_known") for d in rows):
        return UNKNOWN_LICENCE
    return least_open([t for d in rows for t in d.get("terms", [])])[0]


def _data_components(facts: Facts) -> list[Included | LeftOut]:
    datasets, why = _named_datasets(facts)
    if why is not None:
        hints = tuple(
            u
            for u in (dataset_tree_url(facts, d["id"]) for d in facts.value("data.datasets", []))
            if u
        )
        return [LeftOut("Data card", why, hints), LeftOut("Datasets", why, hints)]
    lic = _datasets_licence(datasets)
    ids = [d["id"] for d in datasets]
    urls = [dataset_tree_url(facts, i) for i in ids]
    licence_path = dataset_licence_url(facts, ids[0])
    licences = "; ".join(
        f"{d['id']}: {', '.join(d.get('licence_ids', [])) or 'none identified'}" for d in datasets
    )
    evidence = _evidence(facts, "data.datasets")
    card_path = urls[0].replace("/tree/", "/blob/", 1) + "/README.md" if urls[0] else None
    return [
        Included(
            "Data card",
            lic,
            f"the dataset card of {', '.join(ids)} on the Hub; licences {licences}",
            card_path,
            licence_path,
            evidence,
        ),
        Included(
            "Datasets",
            lic,
            f"named and read on the Hub: {licences}",
            urls[0],
            licence_path,
            evidence,
        ),
    ]


def _architecture(facts: Facts) -> Included | LeftOut:
    modelling = [
        f
        for f in facts.value("code.custom_files", [])
        if f.rsplit("/", 1)[-1].startswith("modeling_")
    ]
    if not modelling:
        return LeftOut(
            "Model architecture",
            _NOT_ON_THE_HUB["Model architecture"],
            tuple(facts.value("code.repositories", [])),
        )
    basis = f"modelling code shipped in the repository: {', '.join(modelling)}"
    return _own_component(
        facts, "Model architecture", basis, blob_url(facts, modelling[0]), "code.custom_files"
    )


def _section_hints(facts: Facts, section: str) -> tuple[str, ...]:
    """The card line of one section (docs.sections cites each heading it found)."""
    from openaudit.facts.docs import SECTIONS

    pattern = SECTIONS.get(section)
    fact = facts.get("docs.sections")
    found = [
        ev.url
        for ev in (fact.evidence if fact else ())
        if ev.url and pattern is not None and pattern.search(ev.excerpt.lstrip("# "))
    ]
    return tuple(found[:1])


def _paper_hints(facts: Facts) -> tuple[str, ...]:
    return tuple(f"https://arxiv.org/abs/{p}" for p in facts.value("docs.papers", []))


def _left_out_hints(facts: Facts, name: str) -> tuple[str, ...]:
    if name in ("Technical report", "Research paper"):
        return _paper_hints(facts)
    if name == "Training code":
        return tuple(facts.value("code.training_repositories", []))
    if name == "Inference code":
        library = facts.value("code.library")
        return ((f"library: {library}",) if library else ()) + tuple(
            facts.value("code.repositories", [])
        )
    return ()


def _metadata(facts: Facts, parameters: Included | LeftOut) -> dict[str, Any]:
    subject = facts.subject
    out: dict[str, Any] = {
        "name": subject.rsplit("/", 1)[-1],
        "producer": subject.split("/", 1)[0] if "/" in subject else "",
    }
    created = facts.value("viability.created")
    if isinstance(created, str) and re.match(r"^\d{4}-\d{2}-\d{2}", created):
        out["date"] = created[:10]
    bases = facts.value("lineage.base_ids", [])
    if bases:
        out["origin"] = ", ".join(bases)
    repos = facts.value("code.repositories", [])
    if len(repos) == 1:
        out["repository"] = repos[0]
    tree = tree_url(facts)
    if tree:
        out["huggingface"] = tree
    if isinstance(parameters, Included) and parameters.license != UNLICENSED:
        out["license"] = {"name": parameters.license, "path": parameters.license_path}
    return out


def _caveats(facts: Facts, included: Sequence[Included]) -> list[str]:
    names = {c.name for c in included}
    out = []
    if "Datasets" in names:
        out.append("Datasets: whether the named datasets are the whole training set")
        if facts.value("lineage.is_derivative"):
            out.append("Datasets: the base model's own training data is not listed")
    if "Model card" in names:
        out.append("Model card: whether it covers performance, intended use and limitations")
    for c in included:
        if c.license == UNKNOWN_LICENCE:
            out.append(
                f"{c.name}: the licence was not identified ({UNKNOWN_LICENCE} is never open)"
            )
    return out


def assess(facts: Facts) -> MofAssessment | None:
    """The components the evidence supports and their class; None when the repo was not read."""
    if not facts.value("repo.readable", False):
        return None
    parameters = _parameters(facts)
    decided: dict[str, Included | LeftOut] = {
        c.name: c
        for c in (
            parameters,
            _model_card(facts),
            _evaluation_results(facts),
            _architecture(facts),
            *_data_components(facts),
        )
    }
    included: list[Included] = []
    left_out: list[LeftOut] = []
    for cdef in definition().components:
        c = decided.get(cdef.name) or LeftOut(
            cdef.name,
            _NOT_ON_THE_HUB.get(cdef.name, "not shown by the Hub's data"),
            _left_out_hints(facts, cdef.name),
        )
        if isinstance(c, Included):
            included.append(c)
        else:
            left_out.append(c)
    metadata = _metadata(facts, parameters)
    licenses = {"distribution": metadata["license"]["name"]} if "license" in metadata else {}
    release = MofRelease(
        name=str(metadata["name"]),
        licenses=licenses,
        components=tuple(MofComponent(c.name, c.license, c.evidence) for c in included),
    )
    return MofAssessment(
        release,
        classify(release),
        tuple(included),
        tuple(left_out),
        tuple(_caveats(facts, included)),
        metadata,
    )


def blocking(classification: MofClassification, mof_class: int = 3) -> list[str]:
    """Required components of `mof_class` and above that are not open, as a reviewer reads them."""
    d = definition()
    results = {r.name: r for r in classification.components}
    out = []
    for cdef in d.components:
        if not cdef.required or cdef.mof_class < mof_class:
            continue
        r = results[cdef.name]
        if (
            cdef.name == d.technical_report
            and classification.report_replaced_by_paper
            and mof_class > 1
        ):
            r = results[d.research_paper]
            if r.status != "open":
                out.append(
                    f"{cdef.name} (the research paper stands in: {_status(r.status, r.license)})"
                )
            continue
        if r.status != "open":
            out.append(f"{cdef.name} ({_status(r.status, r.license)})")
    return out


def _status(status: str, licence: str | None) -> str:
    if status == "missing":
        return "not shown by the Hub evidence"
    if status == UNLICENSED:
        return "no licence"
    return f"licence {licence} is not open"


def to_facts(facts: Facts, a: MofAssessment) -> Facts:
    """The facts plus `mof.*`, which the `mof` pack judges and `report.mof_file` renders."""
    evidence = tuple(dict.fromkeys(ev for c in a.included for ev in c.evidence))
    c = a.classification
    new = [
        Fact("mof.components", [_included_dict(i) for i in a.included], evidence),
        Fact(
            "mof.left_out",
            [{"name": x.name, "reason": x.reason, "hints": list(x.hints)} for x in a.left_out],
        ),
        Fact("mof.to_confirm", list(a.to_confirm)),
        Fact("mof.release", dict(a.metadata)),
        Fact("mof.achieved_class", c.mof_class, evidence),
        Fact("mof.label", c.label),
        Fact("mof.progress", {str(k): round(c.progress[k], 1) for k in (1, 2, 3)}),
        Fact("mof.blocking_class_3", blocking(c, 3), evidence),
    ]
    return Facts(
        subject=facts.subject,
        revision=facts.revision,
        items={**facts.items, **{f.name: f for f in new}},
    )


def _included_dict(c: Included) -> dict[str, Any]:
    return {
        "name": c.name,
        "license": c.license,
        "basis": c.basis,
        "component_path": c.component_path,
        "license_path": c.license_path,
    }


def with_mof(facts: Facts) -> tuple[Facts, int | None]:
    """What the pipeline wires: the facts with `mof.*` added, and the audit's `mof_class`."""
    a = assess(facts)
    if a is None:
        return facts, None
    return to_facts(facts, a), a.mof_class
