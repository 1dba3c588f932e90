"""What one pre-merge check found: the references, the models they use, the violations.

Renderers (`openaudit.report.check`) read this; the exit code is decided here once, so every
output format and the CLI agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from openaudit.model import CodeRef, Problem
from openaudit.policy.evaluate import Violation

NOT_AUDITED = "check/not-audited"


@dataclass(frozen=True)
class ModelUse:
    """One model (at one requested revision) and every place the code uses it."""

    id: str
    #: The revision the code asks for (None: the default branch).
    requested: str | None
    #: The commit audited (pinned by the code or the lockfile, else main's commit).
    commit: str | None
    licence_ids: tuple[str, ...]
    #: False when the repository could not be read or the audit is incomplete (evidence unread).
    audited: bool
    refs: tuple[CodeRef, ...]
    #: "code" (revision= in the code), "lockfile", or "main".
    pinned_by: str = "main"
    policy: str = ""


@dataclass(frozen=True)
class CheckResult:
    violations: tuple[Violation, ...]
    refs: tuple[CodeRef, ...]
    models: tuple[ModelUse, ...]
    problems: tuple[Problem, ...] = ()
    policies: tuple[str, ...] = ()
    files: int = 0
    tool_version: str = ""

    @property
    def failing(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.counts and v.rule != NOT_AUDITED)

    @property
    def not_audited(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.models if not m.audited)

    def exit_code(self, *, warn_only: bool = False, fail_on_unknown: bool = True) -> int:
        """1 for a policy violation, else 3 for a model not audited (if that fails), else 0."""
        if self.failing and not warn_only:
            return 1
        if self.not_audited and fail_on_unknown:
            return 3
        return 0
