"""huggingface_hub's own log lines, captured into the audit's one-line problems.

The library logs warnings (deprecated fields, `X-HF-Warning` headers, card metadata it
dropped) straight to stderr, where a batch of 50 models printed 24 to 50 unattributed
lines. During a run they are caught instead: a line logged while a model is being read
becomes that model's `hub-warning` problem; any other line goes, once, to the run's
warning channel. Tokens are scrubbed from both.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from openaudit.model import Problem
from openaudit.safe import clean_text, scrub

_current: ContextVar[list[Problem] | None] = ContextVar("openaudit_hub_log", default=None)


class _Handler(logging.Handler):
    def __init__(self, warn: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.warn = warn
        self.said: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            lines = record.getMessage().strip().splitlines()
        except Exception:  # a bad format string in a library's log call is not our crash
            lines = [str(record.msg)]
        line = scrub(clean_text(lines[0] if lines else record.levelname))[:200]
        sink = _current.get()
        if sink is not None:
            sink.append(Problem("huggingface_hub", "hub-warning", line))
        elif line not in self.said:
            self.said.add(line)
            self.warn(f"huggingface_hub: {line}")


@contextlib.contextmanager
def captured(warn: Callable[[str], None]) -> Iterator[None]:
    """Route huggingface_hub's warnings away from stderr for the length of a run."""
    import huggingface_hub.utils.logging  # noqa: F401 - installs the stderr handler replaced here

    logger = logging.getLogger("huggingface_hub")
    handler = _Handler(warn)
    saved, propagate = list(logger.handlers), logger.propagate
    for h in saved:
        logger.removeHandler(h)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        for h in saved:
            logger.addHandler(h)
        logger.propagate = propagate


@contextlib.contextmanager
def per_model() -> Iterator[list[Problem]]:
    """Collect the lines logged while one model is read (in this thread)."""
    sink: list[Problem] = []
    token = _current.set(sink)
    try:
        yield sink
    finally:
        _current.reset(token)
