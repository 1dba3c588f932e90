"""sources: where model references come from, each with where it was found.

A new source (a lockfile, a codebase scan) is one new module here exposing a
function that returns `(refs, problems)`.
"""

from openaudit.sources.ids import (
    SourceError,
    parse_ref,
    refs_from_file,
    refs_from_lines,
    unique_refs,
)

__all__ = ["SourceError", "parse_ref", "refs_from_file", "refs_from_lines", "unique_refs"]
