"""A run-wide read-once memo shared by the worker threads.

The first thread to ask for a key computes it; the others wait for that answer instead of
sending the same request again. Answers about the repository (a snapshot, a not-found) are
kept; anything else (an interrupt, a bug) is not, so the next asker tries again, and a
waiter whose owner gave up without an answer (`Abandoned`) computes it itself. The
oldest finished entries are dropped past `size`, so a long batch stays bounded in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Abandoned(BaseException):
    """The thread computing an answer gave it up without one (it may not use the network,
    say): a thread waiting for that answer computes it itself instead of failing."""


class Once(Generic[K, V]):
    def __init__(self, size: int = 2048, keep: tuple[type[BaseException], ...] = ()) -> None:
        self.size = size
        #: Exceptions that are answers (kept and re-raised to later askers).
        self.keep = keep
        self._futures: OrderedDict[K, Future[V]] = OrderedDict()
        self._lock = threading.Lock()
        #: How many answers came from the memo (for tests and benchmarks).
        self.hits = 0

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
                self._evict()
            else:
                self.hits += 1
                self._futures.move_to_end(key)
        if not owner:
            try:
                return future.result()
            except Abandoned:
                return self.get(key, compute)
        try:
            value = compute()
        except self.keep as exc:
            future.set_exception(exc)
            raise
        except BaseException as exc:
            with self._lock:
                if self._futures.get(key) is future:
                    del self._futures[key]
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value

    def answered(self, key: K) -> bool:
        """Whether `key` has an answer now (asking for it would not wait)."""
        with self._lock:
            future = self._futures.get(key)
            return future is not None and future.done()

    def busy(self, key: K) -> bool:
        """Whether another thread is computing `key` now (asking for it would wait)."""
        with self._lock:
            future = self._futures.get(key)
            return future is not None and not future.done()

    def _evict(self) -> None:
        while len(self._futures) > self.size:
            oldest = next(iter(self._futures))
            if not self._futures[oldest].done():
                return
            del self._futures[oldest]
