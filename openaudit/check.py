"""The pre-merge check: discover references, audit the models, judge them against the policy.

Not a stage: it wires sources -> pipeline (the audit, the single source of verdicts) -> policy,
as `pipeline` wires the audit. Each reference is judged by the policy nearest to its file (a
monorepo keeps one `openaudit-policy.yaml` per project), or by `--policy` for all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from openaudit import __version__
from openaudit.kb import KnowledgeBase, load_kb
from openaudit.lockfile import LOCK_FILE, LockEntry, changes, terms_of
from openaudit.lockfile import read as read_lock
from openaudit.model import CodeRef, ModelRef, Verdict
from openaudit.pipeline import AuditOptions, audit
from openaudit.policy import (
    POLICY_FILE,
    Policy,
    Violation,
    apply_exceptions,
    default_policy,
    judge,
    load_policy,
)
from openaudit.policy.evaluate import LEVELS
from openaudit.policy.result import NOT_AUDITED, CheckResult, ModelUse
from openaudit.sources.code import Scan, scan

Key = tuple[str, str | None]


class BaselineError(Exception):
    """An unreadable baseline file; the message names it."""


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...]
    audit: AuditOptions
    policy_file: Path | None = None
    lock_path: Path | None = None
    baseline: Path | None = None
    drift: bool = True
    fail_on_unknown: bool = True
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


def default_lock_path(paths: Sequence[Path]) -> Path:
    """The nearest `openaudit.lock` up from the first PATH (to the repository root), else a
    new one in the first folder checked: `check src/app.py` finds the repository's lockfile."""
    first = paths[0] if paths else Path(".")
    start = first if first.is_dir() else first.parent
    folder = start.resolve()
    while True:
        if (folder / LOCK_FILE).is_file():
            return _relative(folder / LOCK_FILE)
        if (folder / ".git").exists() or folder.parent == folder:
            return start / LOCK_FILE
        folder = folder.parent


class Policies:
    """The policy for a file: `--policy`, else the nearest `openaudit-policy.yaml` up the tree."""

    def __init__(self, forced: Path | None) -> None:
        self.forced = load_policy(forced) if forced is not None else None
        self._by_dir: dict[Path, Policy] = {}
        self._default: Policy | None = None

    def for_file(self, file: str) -> Policy:
        if self.forced is not None:
            return self.forced
        return self._for_dir(Path(file).resolve().parent)

    def _for_dir(self, folder: Path) -> Policy:
        if folder in self._by_dir:
            return self._by_dir[folder]
        candidate = folder / POLICY_FILE
        if candidate.is_file():
            policy = load_policy(_relative(candidate))
        elif (folder / ".git").exists() or folder.parent == folder:
            policy = self._fallback()
        else:
            policy = self._for_dir(folder.parent)
        self._by_dir[folder] = policy
        return policy

    def _fallback(self) -> Policy:
        if self._default is None:
            self._default = default_policy()
        return self._default

    @property
    def used(self) -> tuple[str, ...]:
        found = {p.source for p in self._by_dir.values()}
        if self.forced is not None:
            found.add(self.forced.source)
        return tuple(sorted(found))


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def run_check(options: CheckOptions) -> CheckResult:
    policies = Policies(options.policy_file)
    found, groups, lock = references(options.paths, options.lock_path)
    verdicts, pinned_by = _audit(groups, lock, options.audit)
    mains = _mains(groups, lock, options) if options.drift and lock else {}
    violations: list[Violation] = []
    models: list[ModelUse] = []
    for key, refs in groups.items():
        verdict = verdicts[key]
        policy = policies.for_file(refs[0].file)
        models.append(
            ModelUse(
                key[0],
                key[1],
                verdict.revision,
                verdict.licence_ids,
                verdict.audited and verdict.complete,
                tuple(refs),
                pinned_by[key],
                policy.source,
            )
        )
        for ref in refs:
            own = policies.for_file(ref.file)
            found_here = _model_violations(
                own, verdict, ref, lock.get(key), mains.get(key), options
            )
            violations.extend(apply_exceptions(own, found_here, options.today))
    violations.extend(_reference_violations(found, policies, options.today))
    if options.baseline is not None:
        violations = _apply_baseline(violations, _read_baseline(options.baseline))
    return CheckResult(
        violations=tuple(sorted(violations, key=_order)),
        refs=found.refs,
        models=tuple(models),
        problems=found.problems,
        policies=policies.used,
        files=found.files,
        tool_version=__version__,
    )


def _order(v: Violation) -> tuple[str, int, int, int, str]:
    ref = v.ref
    if ref is None:
        return ("", 0, 0, 0, v.rule)
    return (ref.file, ref.cell or 0, ref.line, ref.column, v.rule)


def groups_of(refs: Iterable[CodeRef]) -> dict[Key, list[CodeRef]]:
    groups: dict[Key, list[CodeRef]] = {}
    for ref in refs:
        if ref.status == "hub" and ref.repo_id:
            groups.setdefault((ref.repo_id, ref.revision), []).append(ref)
    return groups


def model_refs(
    groups: Mapping[Key, list[CodeRef]], lock: Mapping[Key, LockEntry]
) -> tuple[list[ModelRef], dict[Key, str]]:
    """What to audit for each group: the code's revision, else the lockfile's commit, else main."""
    refs: list[ModelRef] = []
    pinned_by: dict[Key, str] = {}
    for repo_id, requested in groups:
        entry = lock.get((repo_id, requested))
        revision = requested or (entry.commit if entry else None)
        pinned_by[(repo_id, requested)] = "code" if requested else ("lockfile" if entry else "main")
        origin = groups[(repo_id, requested)][0].location
        refs.append(ModelRef(repo_id, revision=revision, origin=origin))
    return refs, pinned_by


def references(
    paths: Sequence[Path], lock_path: Path | None
) -> tuple[Scan, dict[Key, list[CodeRef]], dict[Key, LockEntry]]:
    """Scan the code, group Hub references by (repo, requested revision), read the lockfile."""
    found = scan(paths)
    path = lock_path or default_lock_path(paths)
    lock = read_lock(path) if path.is_file() else {}
    return found, groups_of(found.refs), lock


def _audit(
    groups: Mapping[Key, list[CodeRef]], lock: Mapping[Key, LockEntry], options: AuditOptions
) -> tuple[dict[Key, Verdict], dict[Key, str]]:
    """Audit each model once (the audit is the single source of verdicts)."""
    refs, pinned_by = model_refs(groups, lock)
    scorecard = audit(refs, options) if refs else None
    models = scorecard.models if scorecard is not None else ()
    return dict(zip(list(groups), models, strict=True)), pinned_by


def _mains(
    groups: Mapping[Key, list[CodeRef]], lock: Mapping[Key, LockEntry], options: CheckOptions
) -> dict[Key, Verdict]:
    """Each locked model's current main, to compare with what the lockfile pinned."""
    if options.audit.offline:
        return {}
    keys = _moved([k for k in groups if k[1] is None and k in lock], lock, options.audit)
    if not keys:
        return {}
    scorecard = audit([ModelRef(k[0]) for k in keys], options.audit)
    return dict(zip(keys, scorecard.models, strict=True))


def _moved(keys: Sequence[Key], lock: Mapping[Key, LockEntry], options: AuditOptions) -> list[Key]:
    """The locked models whose main is no longer the locked commit; only those are audited
    again. One small request each (the commit alone), in sequence over one kept-alive
    connection (threads would each pay a new client). A model that cannot be read is audited
    too, so the audit says why."""
    from openaudit.hub import HubClient
    from openaudit.hub.client import HubError

    client = HubClient(options.endpoint, timeout=options.timeout)
    out = []
    for key in keys:
        try:
            moved = client.current_commit(ModelRef(key[0])) != lock[key].commit
        except HubError:
            moved = True
        if moved:
            out.append(key)
    return out


def _model_violations(
    policy: Policy,
    verdict: Verdict,
    ref: CodeRef,
    locked: LockEntry | None,
    main: Verdict | None,
    options: CheckOptions,
) -> list[Violation]:
    out: list[Violation] = []
    if verdict.audited:
        out.extend(replace(v, ref=ref) for v in judge(policy, verdict, _kb()))
        if not verdict.complete:
            unread = [p for p in verdict.errors if p.reason != "not-found"]
            reasons = "; ".join(f"{p.subject}: {p.reason}" for p in unread[:3])
            out.append(
                Violation(
                    NOT_AUDITED,
                    "error" if options.fail_on_unknown else "warning",
                    f"the audit of {verdict.id} is incomplete: evidence that exists was not read "
                    f"({reasons or 'see the audit errors'})",
                    verdict.id,
                    verdict.revision,
                    ref,
                    policy=policy.source,
                )
            )
    else:
        reasons = "; ".join(f"{p.subject}: {p.reason}" for p in verdict.errors[:3])
        level = "error" if options.fail_on_unknown else "warning"
        message = f"{verdict.id} could not be audited ({reasons or 'no reason given'})"
        out.append(
            Violation(
                NOT_AUDITED, level, message, verdict.id, verdict.revision, ref, policy=policy.source
            )
        )
    if ref.trust_remote_code and policy.trust_remote_code != "allow":
        out.append(
            Violation(
                "policy/trust-remote-code",
                LEVELS[policy.trust_remote_code],
                "the call passes trust_remote_code=True: the repository's code runs on load",
                verdict.id,
                verdict.revision,
                ref,
                policy=policy.source,
            )
        )
    if ref.call != "manifest" and not _is_commit(ref.revision) and policy.unpinned != "allow":
        out.append(_unpinned(policy, verdict, ref, locked))
    if locked is not None and main is not None and main.audited and policy.drift != "allow":
        diff = changes(locked.terms, terms_of(main))
        if diff:
            out.append(
                Violation(
                    "check/drift",
                    LEVELS[policy.drift],
                    f"main of {verdict.id} is now {main.revision}, with other terms than the locked "
                    f"commit {locked.commit[:12]}: {'; '.join(diff)}",
                    verdict.id,
                    verdict.revision,
                    ref,
                    evidence=tuple(
                        e for f in main.dimension("licence").findings for e in f.evidence
                    ),
                    audit_rules=tuple(f.rule for f in main.dimension("licence").findings),
                    policy=policy.source,
                )
            )
    return out


def _is_commit(revision: str | None) -> bool:
    return revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision) is not None


def _unpinned(
    policy: Policy, verdict: Verdict, ref: CodeRef, locked: LockEntry | None
) -> Violation:
    audited = verdict.revision if verdict.audited and _is_commit(verdict.revision) else None
    commit = locked.commit if locked else audited
    where = "the lockfile's" if locked else "the audited"
    suggestion = f'; pin revision="{commit}" ({where} commit)' if commit else ""
    high = ref.trust_remote_code
    if ref.revision:
        message = (
            f"{verdict.id} is loaded at revision '{ref.revision}', a branch or tag that can move"
        )
    else:
        message = f"{verdict.id} is loaded without a pinned revision"
    message += suggestion
    if high:
        message += "; with trust_remote_code=True, new code from main would run"
    return Violation(
        "check/unpinned",
        "error" if high else LEVELS[policy.unpinned],
        message,
        verdict.id,
        verdict.revision,
        ref,
        severity="high" if high else "",
        policy=policy.source,
    )


def _reference_violations(found: Scan, policies: Policies, today: date) -> list[Violation]:
    out: list[Violation] = []
    for ref in found.refs:
        policy = policies.for_file(ref.file)
        if ref.status == "unresolved" and policy.unresolved != "allow":
            what = f"'{ref.expression}'" if ref.expression else "the model argument"
            out.append(
                Violation(
                    "check/unresolved",
                    LEVELS[policy.unresolved],
                    f"{ref.call}: {what} cannot be resolved statically: {ref.reason}",
                    ref=ref,
                    policy=policy.source,
                )
            )
        elif ref.status == "hub" and ref.missing_local:
            out.append(
                Violation(
                    "check/local-path-missing",
                    "warning",
                    f"'{ref.repo_id}' looks like a local path but does not exist: "
                    "the Hub repo of that name would be downloaded",
                    ref.repo_id,
                    ref.revision,
                    ref,
                    policy=policy.source,
                )
            )
    for problem in found.problems:
        out.append(
            Violation(
                "check/unscanned",
                "warning",
                f"{problem.subject}: {problem.detail or problem.reason}",
                ref=_problem_location(problem.subject),
            )
        )
    return out


def _problem_location(subject: str) -> CodeRef | None:
    """`FILE:LINE` or `NOTEBOOK:cell N` of a file that could not be scanned, for annotations."""
    m = re.fullmatch(r"(.+?):(?:cell (\d+)|(\d+))", subject)
    if m is None:
        return CodeRef(subject, 1, 1, "", "unresolved") if Path(subject).suffix else None
    cell = int(m.group(2)) if m.group(2) else None
    return CodeRef(m.group(1), int(m.group(3) or 1), 1, "", "unresolved", cell=cell)


def _kb() -> KnowledgeBase:
    return load_kb()


def _read_baseline(path: Path) -> tuple[set[str], set[str]]:
    """What the target branch already had: fingerprints of the violations of an earlier
    `check --format json` report, or the models of the target branch's `openaudit.lock`."""
    from openaudit.lockfile import SCHEMA as LOCK_SCHEMA

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("lockfile") == LOCK_SCHEMA:
            return set(), {e.id for e in read_lock(path).values()}
        return {v["fingerprint"] for v in doc["violations"] if isinstance(v, dict)}, set()
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(
            f"{path}: not a baseline (`openaudit check --format json` output or an "
            f"openaudit.lock): {exc.__class__.__name__}"
        ) from None


def _apply_baseline(
    violations: list[Violation], known: tuple[set[str], set[str]]
) -> list[Violation]:
    fingerprints, models = known
    out = []
    for v in violations:
        if not v.suppressed and v.fingerprint in fingerprints:
            v = replace(v, suppressed="in the baseline")
        elif not v.suppressed and v.model in models and v.rule != "check/drift":
            v = replace(v, suppressed="the model is in the target branch's lockfile")
        out.append(v)
    return out
