"""Locate the project's data folders (licences, rule packs, examples, schemas).

They live at the top of the source tree so lawyers can review them without
reading Python; a wheel carries them under `openaudit/_data`. Both layouts
must work, because a fresh clone runs editable and users run installed.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("licenses", "rules", "examples"), installed or in a checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"openaudit data folder '{name}' is missing from this installation")


def schema_path(name: str) -> Path:
    """JSON Schemas shipped inside the package (`openaudit/schemas`)."""
    return _PACKAGE / "schemas" / name


def cache_root() -> Path:
    """`OPENAUDIT_CACHE_DIR`, else the platform cache dir (a `--cache-dir` flag is applied by
    the command that takes it)."""
    env = os.environ.get("OPENAUDIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("openaudit", appauthor=False))
