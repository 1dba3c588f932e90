"""Progress of a batch on stderr: a tqdm bar (done, in flight, failed, ETA) on a terminal.

tqdm rather than rich: huggingface_hub already depends on it, so the bar costs no new
dependency and imports in a few milliseconds, only when a batch starts. The bar is
hidden when stderr is not a terminal (CI logs, pipes) and with `-q`; `-v` prints one line
per finished model instead, which reads well in logs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import click

from openaudit.model import Verdict


class Progress:
    """Callable the pipeline reports each finished verdict to."""

    def __init__(
        self,
        total: int,
        *,
        quiet: bool,
        verbose: bool,
        in_flight: Callable[[], int] | None = None,
    ) -> None:
        self.verbose = verbose and not quiet
        self.failed = 0
        self.in_flight = in_flight
        self._bar: Any = None
        if not quiet and not self.verbose and total > 1 and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, unit="model", file=sys.stderr, dynamic_ncols=True, leave=False
            )

    def __call__(self, done: int, total: int | None, verdict: Verdict) -> None:
        if not verdict.audited:
            self.failed += 1
        if self.verbose:
            status = verdict.dimension("licence").status if verdict.audited else "not audited"
            click.echo(f"openaudit: [{done}/{total}] {verdict.id}: {status}", err=True)
        if self._bar is not None:
            flying = self.in_flight() if self.in_flight is not None else 0
            self._bar.set_postfix(in_flight=flying, failed=self.failed, refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
