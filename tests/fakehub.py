"""The test suite's fake Hub: :class:`openaudit.hub.replay.ReplayHub` with test tokens.

The server itself (routes, corpus loading, fault injection) lives in the package, so users can
replay their own corpus (``openaudit eval``, ``python -m openaudit.hub.replay``). This module
keeps what only tests need: three well-known tokens and a :class:`FakeHub` that accepts
:data:`ACCEPTED_TOKEN` and refuses :data:`DENIED_TOKEN` by default.

Run it by hand: ``python -m tests.fakehub ROOT [ROOT ...] --port 8000``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from openaudit.hub.replay import (
    CORPUS_ONLY_FIELDS,
    FaultRule,
    ReplayHub,
    Repo,
    RequestRecord,
    git_blob_sha1,
    load_repos,
    serve_forever,
)

__all__ = [
    "ACCEPTED_TOKEN",
    "CORPUS_ONLY_FIELDS",
    "DENIED_TOKEN",
    "UNACCEPTED_TOKEN",
    "FakeHub",
    "FaultRule",
    "Repo",
    "RequestRecord",
    "git_blob_sha1",
    "load_repos",
]

#: A token that has accepted the conditions of every gated repo (in ``accepted_tokens`` by default).
ACCEPTED_TOKEN = "hf_fakehub_accepted"
#: A token that has not accepted any gated repo's conditions (403 GatedRepo on gated files).
UNACCEPTED_TOKEN = "hf_fakehub_not_accepted"
#: A token whose access request was refused: 403 without GatedRepo (in ``denied_tokens``).
DENIED_TOKEN = "hf_fakehub_denied"


class FakeHub(ReplayHub):
    """A :class:`ReplayHub` that accepts :data:`ACCEPTED_TOKEN` and denies :data:`DENIED_TOKEN`."""

    def __init__(
        self,
        *roots: str | Path,
        accepted_tokens: Iterable[str] = (ACCEPTED_TOKEN,),
        denied_tokens: Iterable[str] = (DENIED_TOKEN,),
        page_size: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            *roots,
            accepted_tokens=accepted_tokens,
            denied_tokens=denied_tokens,
            page_size=page_size,
            host=host,
            port=port,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakehub", description="Serve corpus-format folders as a fake Hub."
    )
    parser.add_argument("roots", nargs="+", help="corpus-format folders (models/, datasets/)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--token", action="append", default=[], help="an accepted token")
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args(argv)
    hub = FakeHub(
        *(Path(r).resolve() for r in args.roots),
        accepted_tokens=[ACCEPTED_TOKEN, *args.token],
        page_size=args.page_size,
        host=args.host,
        port=args.port,
    )
    return serve_forever(hub)


if __name__ == "__main__":
    raise SystemExit(main())
