"""Core types passed between the pipeline stages.

Every stage imports this module and this module imports no stage, so the
types here are the only contract between sources, hub, facts, rules and
report. They are frozen: a verdict must be reproducible from the snapshot it
was computed from, and nothing downstream may quietly edit what upstream read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RepoKind = Literal["model", "dataset"]

#: Dimensions of the `openaudit/audit/v1` schema, in report order.
DIMENSIONS: tuple[str, ...] = (
    "licence",
    "commercial_use",
    "weights",
    "training_data",
    "code",
    "documentation",
    # Added in openaudit/audit/v1 after the first six (consumers keep working: see the schema).
    "derivatives",
)

#: Allowed statuses per dimension (DESIGN.md, "Vocabulary of the verdicts").
STATUSES: Mapping[str, tuple[str, ...]] = {
    "licence": ("open", "restricted", "closed", "unknown"),
    "commercial_use": ("allowed", "conditional", "prohibited", "unknown"),
    "weights": ("open", "gated", "absent", "unknown"),
    "training_data": ("open", "partial", "closed", "unknown"),
    "code": ("open", "partial", "closed", "unknown"),
    "documentation": ("open", "partial", "closed", "unknown"),
    "derivatives": ("allowed", "conditional", "prohibited", "unknown"),
}

OSAID_VERDICTS: tuple[str, ...] = ("conformant", "not-conformant", "insufficient-information")


@dataclass(frozen=True)
class ModelRef:
    """A reference to audit, with where it came from so a batch can name it back."""

    repo_id: str
    revision: str | None = None
    kind: RepoKind = "model"
    #: Folder on disk for local sources (a model folder or a cache snapshot).
    local_path: str | None = None
    #: Where the reference was found: "cli", "FILE:LINE", "hf-cache", "base-model of X".
    origin: str = "cli"

    @property
    def key(self) -> str:
        """Stable identity used for caching and de-duplication."""
        rev = self.revision or "main"
        return f"{self.kind}:{self.repo_id}@{rev}"

    def __str__(self) -> str:
        return self.repo_id if self.revision is None else f"{self.repo_id}@{self.revision}"


@dataclass(frozen=True)
class Evidence:
    """Where a claim was read, so a reviewer can check it."""

    #: "metadata" (card front matter), "api" (Hub JSON field), "tag", "file",
    #: "url" (text fetched behind a link), "knowledge-base", "rule".
    source: str
    #: Field path ("cardData.license"), "FILE:LINE" or "FILE:LINE-LINE", tag text, KB entry.
    locator: str
    excerpt: str = ""
    #: Link pinned to the audited commit where one exists.
    url: str | None = None


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository as far as it was read."""

    path: str
    size: int | None = None
    #: Decoded text when the file was read; None when it was only listed.
    text: str | None = None
    sha256: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class Problem:
    """Something that could not be read, and why; never silently dropped."""

    #: The repo ("owner/name"), file path, or URL concerned.
    subject: str
    #: A short code: "not-found", "gated-no-token", "gated-not-accepted",
    #: "access-denied", "disabled", "revision-not-found", "rate-limited",
    #: "server-error", "network", "timeout", "malformed", "too-large",
    #: "offline-missing", "error".
    reason: str
    detail: str = ""


#: Reasons that say an artefact exists but was not read: another try, a token or a larger limit
#: would read it. The others say it is not there ("not-found", "disabled", "revision-not-found"),
#: was read and is broken ("malformed"), or was left out by choice ("offline-missing" in an
#: offline audit, "not-fetched" for a link host not allowed): the facts still say what was not
#: read, and the statuses stay cautious, but the audit did what it was asked to.
INCOMPLETE_REASONS: frozenset[str] = frozenset(
    {
        "gated-no-token",
        "gated-not-accepted",
        "access-denied",
        "rate-limited",
        "server-error",
        "network",
        "timeout",
        "too-large",
        "bad-answer",
        "deadline",
        "interrupted",
        "error",
    }
)


@dataclass(frozen=True)
class Snapshot:
    """One repository at one commit: the Hub's JSON plus the few files that matter."""

    ref: ModelRef
    #: Commit sha the revision resolved to (None only for local folders with no known commit).
    commit: str | None
    #: The Hub's JSON for the repo (GET /api/models/{id}), or its equivalent built from disk.
    info: Mapping[str, Any] = field(hash=False)
    files: tuple[RepoFile, ...] = ()
    problems: tuple[Problem, ...] = ()
    #: "hub", "store", "local" or "hf-cache".
    origin: str = "hub"
    #: Base URL used to build pinned links ("https://huggingface.co").
    endpoint: str = "https://huggingface.co"

    def file(self, path: str) -> RepoFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None

    @property
    def file_names(self) -> tuple[str, ...]:
        """Every file the repo is known to have, read or not."""
        names = [
            s.get("rfilename", "") for s in self.info.get("siblings") or () if isinstance(s, dict)
        ]
        seen = set(names)
        names.extend(f.path for f in self.files if f.path not in seen)
        return tuple(n for n in names if n)

    def url(self, path: str = "", line: int | None = None) -> str | None:
        """A link pinned to the audited commit; None for local folders."""
        if self.origin in ("local",) or not self.endpoint:
            return None
        rev = self.commit or self.ref.revision or "main"
        prefix = "datasets/" if self.ref.kind == "dataset" else ""
        base = f"{self.endpoint.rstrip('/')}/{prefix}{self.ref.repo_id}"
        if not path:
            return f"{base}/tree/{rev}"
        anchor = f"#L{line}" if line else ""
        return f"{base}/blob/{rev}/{path}{anchor}"


@dataclass(frozen=True)
class Bundle:
    """Everything fetched for one audited model: itself, its bases and its datasets."""

    ref: ModelRef
    #: None when the repo itself could not be read (see problems).
    root: Snapshot | None
    #: Related repos keyed by ModelRef.key-less id: "model:owner/name" or "dataset:owner/name".
    related: Mapping[str, Snapshot] = field(default_factory=dict, hash=False)
    problems: tuple[Problem, ...] = ()
    #: Licence or policy texts read behind links the card gives, by URL.
    linked: Mapping[str, LinkedText] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class LinkedText:
    """A licence or use-policy text read from outside the repository, as stored."""

    url: str
    text: str
    sha256: str
    fetched_at: str
    #: The hash of the text stored before this one, when the text behind the link changed.
    previous_sha256: str | None = None
    #: "fetched" (read in this run) or "store" (offline or unreachable: the stored copy).
    origin: str = "fetched"


@dataclass(frozen=True)
class Fact:
    """A named value extracted from snapshots, with the evidence it was read from.

    `value` is JSON-compatible (None, bool, int, float, str, list, dict) so rule
    conditions can address it directly.
    """

    name: str
    value: Any
    evidence: tuple[Evidence, ...] = ()
    note: str = ""
    #: What this fact would also have been read from but was not (a file, a base, a dataset,
    #: a linked text), each with its reason: a value read from part of its sources must never
    #: be taken for the whole (`openaudit.facts.reading`).
    unread: tuple[Problem, ...] = ()

    @property
    def read(self) -> str:
        """ "whole" (every source read), "partly" (a value from some sources) or "none"."""
        if not self.unread:
            return "whole"
        return "none" if self.value is None else "partly"


@dataclass(frozen=True)
class Facts:
    """All facts about one audited model."""

    subject: str
    revision: str | None
    items: Mapping[str, Fact] = field(hash=False)

    def get(self, name: str) -> Fact | None:
        return self.items.get(name)

    def value(self, name: str, default: Any = None) -> Any:
        fact = self.items.get(name)
        return default if fact is None or fact.value is None else fact.value


@dataclass(frozen=True)
class LicenseRule:
    """One condition or restriction of a licence, with its parameter if any."""

    name: str
    #: e.g. the monthly-active-user threshold for "user-threshold".
    value: int | str | None = None


@dataclass(frozen=True)
class LicenseEntry:
    """One licence of the knowledge base (`licenses/*.yml`)."""

    id: str
    name: str
    spdx: str
    kind: str
    commercial_use: str
    osi_approved: bool
    osaid_compatible: bool | None
    aliases: tuple[str, ...] = ()
    url: str | None = None
    conditions: tuple[LicenseRule, ...] = ()
    restrictions: tuple[LicenseRule, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    notes: str = ""
    #: The YAML file it was loaded from, for citations.
    source_file: str = ""
    #: True when a restriction limits use (`licenses/vocabulary/restrictions.yml`), set on load.
    use_restricted: bool = False
    #: True when the terms are free: a free kind, no use restriction, OSI-approved or OSAID-compatible.
    free: bool = False
    #: True when the grant carries restrictions: a restricted kind, or a use-limiting restriction.
    restricted: bool = False
    #: (term name, quote) for each condition or restriction an evidence quote is the text of.
    term_evidence: tuple[tuple[str, Evidence], ...] = ()

    def rule(self, name: str) -> LicenseRule | None:
        """The condition or restriction of that name, with its value, if the licence has it."""
        return next((r for r in (*self.conditions, *self.restrictions) if r.name == name), None)

    @property
    def restriction_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.restrictions)

    @property
    def condition_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.conditions)


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule on one model, citing what it was decided from."""

    rule: str
    dimension: str
    #: "pass", "fail", "unknown" or "info".
    outcome: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    remediation: str = ""
    severity: str = "info"
    #: The status this finding proposed for its dimension, if any.
    status: str | None = None
    #: Which outcome of the rule this is: "true", "false", "missing", or "unread" (an input was
    #: not read, so the rule proposes its dimension's undecided status).
    branch: str = ""
    #: For an "unread" finding: the statuses the rule could have proposed had it read
    #: everything. The roll-up lets none of them be hidden behind a less cautious status.
    could_be: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    name: str
    status: str
    summary: str
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The audit result of one model, in the vocabulary of `openaudit/audit/v1`."""

    id: str
    revision: str | None
    source: str
    licence_ids: tuple[str, ...]
    dimensions: tuple[Dimension, ...]
    osaid: str = "insufficient-information"
    mof_class: int | None = None
    errors: tuple[Problem, ...] = ()
    #: Findings that belong to no single dimension (hygiene, security, lineage notes).
    findings: tuple[Finding, ...] = ()
    facts: Facts | None = field(default=None, hash=False, compare=False)

    #: False when the repository itself could not be read (deleted, offline and not stored ...).
    audited: bool = True
    #: False when evidence that exists was not read (a transient failure, a gate, a size limit):
    #: the statuses are then the cautious ones the evidence read allows, and `errors` names what
    #: is missing. An artefact that is not there (a deleted base) leaves an audit complete.
    complete: bool = True

    def dimension(self, name: str) -> Dimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(name)


@dataclass(frozen=True)
class Scorecard:
    """A whole run: what a report renders."""

    models: tuple[Verdict, ...]
    generated_at: str
    tool_version: str
    #: Rule packs that judged this run, for reproducibility.
    rule_packs: tuple[str, ...] = ()
    #: The Hub (or mirror) the run read from; None when unknown (a report read back).
    endpoint: str | None = None


#: Content types of Model Openness Framework components.
MofContentType = Literal["code", "data", "document"]


@dataclass(frozen=True)
class MofComponent:
    """A component a release includes; listing it at all is the claim that it is released."""

    name: str
    #: The component's own licence id. None inherits the release's global licence;
    #: "unlicensed" means released with no licence (and stops the inheritance).
    license: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class MofRelease:
    """What the MOF classification is computed from, whether read from a MOT file or the Hub."""

    name: str
    #: Global licence ids keyed "distribution", "code", "data" or "document".
    licenses: Mapping[str, str] = field(default_factory=dict, hash=False)
    components: tuple[MofComponent, ...] = ()


@dataclass(frozen=True)
class MofComponentResult:
    """How one of the 17 components counted, so a reviewer can see why a class was missed."""

    name: str
    content_type: str
    mof_class: int
    required: bool
    #: "open", "not-open", "unlicensed" or "missing".
    status: str
    #: The licence that applied after resolution; None when the component is missing.
    license: str | None = None
    #: "component", "global:code" (or data, document), "global:distribution", or None.
    license_from: str | None = None
    type_appropriate: bool = False


@dataclass(frozen=True)
class MofWarning:
    """A component that counts less than it seems to: wrong licence type, or not open."""

    #: "not-type-appropriate", "not-open", "unlicensed" or "unknown-component".
    kind: str
    component: str
    message: str
    content_type: str = ""
    license: str = ""


@dataclass(frozen=True)
class MofClassification:
    """The Model Openness Tool's verdict on a release: class 0 (unclassified) to 3, and why."""

    mof_class: int
    label: str
    #: Percent of each class's required components met, keyed 1, 2, 3, as the tool computes it.
    progress: Mapping[int, float] = field(hash=False)
    components: tuple[MofComponentResult, ...] = ()
    warnings: tuple[MofWarning, ...] = ()
    #: True when the research paper stood in for a technical report not openly released.
    report_replaced_by_paper: bool = False


@dataclass(frozen=True)
class RuleOutcome:
    """What a rule concludes for one value of its condition (true, false, or facts missing)."""

    #: "pass", "fail", "unknown", "info", or "skip" (no finding at all).
    outcome: str
    #: The status this outcome proposes for the rule's dimension; None proposes nothing.
    status: str | None = None
    message: str = ""
    severity: str = "info"


@dataclass(frozen=True)
class Rule:
    """One judgement, as data: OpenSSF Scorecard's probe definition is the model."""

    id: str
    dimension: str
    short: str
    motivation: str
    condition: str
    #: Facts that must be known for the condition to be evaluated; else `on_missing`.
    requires: tuple[str, ...]
    on_true: RuleOutcome
    on_false: RuleOutcome
    on_missing: RuleOutcome
    remediation: str = ""
    frameworks: tuple[str, ...] = ()
    #: Facts whose evidence the finding cites.
    cites: tuple[str, ...] = ()
    #: The rule's non-pass outcome reports something found among what was read (a restriction,
    #: a conflict), so it stands when an input was read only in part: reading more cannot undo it.
    monotone: bool = False
    pack: str = ""
    source_file: str = ""


@dataclass(frozen=True)
class RulePack:
    name: str
    description: str
    rules: tuple[Rule, ...]
    source: str = ""


@dataclass(frozen=True)
class TextChange:
    """Words of a licence file that differ from the reference text they were matched with.

    Only the template's variable parts (copyright lines, years, holder and project names)
    are normalised away before the comparison, so every change here is a change of terms
    until a person has read it.
    """

    #: "added" (in the file, not the reference), "removed" (in the reference, not the
    #: file) or "changed" (both sides differ).
    kind: Literal["added", "removed", "changed"]
    #: Lines of the file holding the change; for a removal, the line where the words are missing.
    lines: tuple[int, int]
    #: Lines of the reference text (`LicenseMatch.reference`) holding its side of the change.
    reference_lines: tuple[int, int]
    #: The file's words (normalised), "" for a removal.
    text: str = ""
    #: The reference's words (normalised), "" for an addition.
    reference_text: str = ""


@dataclass(frozen=True)
class LicensePart:
    """One licence found in a file: a full or partial text, or a notice that names it."""

    #: Knowledge-base id; None when the reference or name is not in the knowledge base.
    license_id: str | None
    #: "exact", "full", "contained", "partial" or "notice".
    method: str
    #: First and last line (1-based) of the file.
    lines: tuple[int, int]
    score: float
    #: SPDX id (or `LicenseRef-<id>`) used in `LicenseMatch.expression`.
    spdx: str = ""
    #: For a partial text: share of the reference found; for a notice: the statement quoted.
    coverage: float = 0.0
    quote: str = ""


@dataclass(frozen=True)
class LicenseMatch:
    """A licence (or use-policy) text recognised against the reference texts.

    `license_id` is None whenever the text cannot be named with confidence:
    below `threshold`, between variants that only phrases could separate and
    did not, or matching a reference the knowledge base has no entry for.
    """

    license_id: str | None
    #: 0..1: harmonic mean of `coverage` and the density of the match in its span.
    score: float
    threshold: float
    #: Best (id, score) pairs, best first, at most three.
    candidates: tuple[tuple[str, float], ...] = ()
    #: "exact", "full", "contained" (found inside a longer file), "partial" (the start of a
    #: reference, the rest missing: `coverage` says how much), "notice" (a statement naming
    #: the licence, not its text: weaker evidence), optionally "+phrase" (a variant decided
    #: by distinguishing phrases); when unnamed: "below-threshold",
    #: "ambiguous-variant", "other-version", "not-in-kb", "no-match", "too-short".
    method: str = "no-match"
    kind: Literal["licence", "policy"] = "licence"
    #: For a policy: the licence id that incorporates it.
    policy_for: str | None = None
    #: The reference text compared with, relative to `licenses/` ("texts/llama3.1.txt").
    reference: str | None = None
    #: First and last line (1-based) of the input where the reference text was found.
    lines: tuple[int, int] | None = None
    #: Share of the reference text found in the input.
    coverage: float = 0.0
    #: Words of the input outside the matched lines: not compared, so not vouched for.
    outside_words: int = 0
    total_words: int = 0
    #: Every licence found, in file order (a file may hold several texts or notices).
    parts: tuple[LicensePart, ...] = ()
    #: Knowledge-base ids of every named part, `license_id` first.
    ids: tuple[str, ...] = ()
    #: SPDX expression of the parts ("MPL-2.0 AND MIT"), rendered by `license-expression`.
    expression: str | None = None
    #: (first line, last line, words) of text outside every recognised licence and not a
    #: notice naming one: terms nobody compared.
    outside: tuple[tuple[int, int, int], ...] = ()
    #: Added, removed or changed words inside the matched text (see `TextChange`).
    changes: tuple[TextChange, ...] = ()


@dataclass(frozen=True)
class LicenseExpression:
    """An SPDX licence expression, parsed, with its symbols mapped to knowledge-base ids."""

    expression: str
    #: The expression as `license-expression` renders it; None when it did not parse.
    rendered: str | None
    #: Knowledge-base ids of the recognised symbols, in order of appearance.
    ids: tuple[str, ...] = ()
    #: (symbol, KB id or None) for every licence symbol.
    symbols: tuple[tuple[str, str | None], ...] = ()
    unknown: tuple[str, ...] = ()
    #: Operators used ("AND", "OR", "WITH"): OR is a choice, AND means all apply.
    operators: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DeclaredLicence:
    """A declared licence value (card `license` / `license_name`, a tag) mapped to KB ids."""

    value: str
    ids: tuple[str, ...]
    #: "id", "spdx", "alias", "expression" or "none" (not recognised).
    method: str
    unknown: tuple[str, ...] = ()
    expression: LicenseExpression | None = None


#: How a reference found in code was classified (`openaudit.sources.code`).
CodeRefStatus = Literal["hub", "local", "unresolved"]


@dataclass(frozen=True)
class CodeRef:
    """A model reference found in a codebase, with where it was written.

    `line` and `column` are 1-based. In a notebook, `cell` is the 1-based index of the cell in
    the notebook and `line` counts within that cell. A reference built at run time is kept with
    status `unresolved` and the reason, never dropped.
    """

    file: str
    line: int
    column: int
    #: The call or manifest key it was found in ("AutoModel.from_pretrained", "pyproject.toml").
    call: str
    status: CodeRefStatus
    repo_id: str | None = None
    revision: str | None = None
    #: The source text of the argument, for an unresolved or local reference.
    expression: str = ""
    reason: str = ""
    trust_remote_code: bool = False
    cell: int | None = None
    #: A relative path that does not exist but looks like `owner/name`: the Hub would be asked.
    missing_local: bool = False
    #: In a notebook, the line of the .ipynb file that holds the source line, when found.
    file_line: int | None = None

    @property
    def location(self) -> str:
        """`FILE:LINE:COL`, or `NOTEBOOK:cell N:LINE:COL`: what a reviewer opens."""
        if self.cell is not None:
            return f"{self.file}:cell {self.cell}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}:{self.column}"
