"""policy: judge audit verdicts against an organisation's policy (the pre-merge gate).

This stage comes after rules: it reads verdicts and the code references that use them and
yields violations; it never rewrites a verdict. Policies are data (`openaudit-policy.yaml`),
validated on load (`loader`), with a documented default (`default.yml`).
"""

from openaudit.policy.evaluate import Violation, apply_exceptions, judge, licence_state
from openaudit.policy.loader import (
    POLICY_FILE,
    Policy,
    PolicyError,
    PolicyException,
    check_rules,
    default_policy,
    load_policy,
)

__all__ = [
    "POLICY_FILE",
    "Policy",
    "PolicyError",
    "PolicyException",
    "Violation",
    "apply_exceptions",
    "check_rules",
    "default_policy",
    "judge",
    "licence_state",
    "load_policy",
]
