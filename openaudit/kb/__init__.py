"""The licence knowledge base: `licenses/*.yml`, validated, as LicenseEntry objects."""

from openaudit.kb.loader import (
    USE_RESTRICTIONS,
    KnowledgeBase,
    KnowledgeBaseError,
    load_kb,
    normalise,
)

__all__ = ["USE_RESTRICTIONS", "KnowledgeBase", "KnowledgeBaseError", "load_kb", "normalise"]
