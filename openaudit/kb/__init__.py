"""The licence knowledge base: `licenses/*.yml`, validated, as LicenseEntry objects."""

from openaudit.kb.loader import (
    KnowledgeBase,
    KnowledgeBaseError,
    free_kinds,
    load_kb,
    normalise,
    term_meanings,
    use_restrictions,
)

__all__ = [
    "KnowledgeBase",
    "KnowledgeBaseError",
    "free_kinds",
    "load_kb",
    "normalise",
    "term_meanings",
    "use_restrictions",
]
