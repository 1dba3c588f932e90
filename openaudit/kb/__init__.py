"""The licence knowledge base: `licenses/*.yml`, validated, as LicenseEntry objects."""

from openaudit.kb.loader import (
    KnowledgeBase,
    KnowledgeBaseError,
    load_kb,
    free_kinds,
    normalise,
    use_restrictions,
)

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "load_kb", "free_kinds", "normalise", "use_restrictions"]
