"""One retry policy for every request an audit makes: metadata, files and linked texts.

Built on `tenacity` (composable stop/wait/retry predicates, an injectable sleep) rather
than hand-rolled loops, because three things must combine in one place:

- exponential backoff with full jitter, but a server's `Retry-After` or `RateLimit`
  header wins, up to a cap (a 45 s request is not obeyed in full);
- a deadline: no wait is started that would end past the model's or the batch's
  deadline, and each request's own timeout is cut to what is left of it;
- a shared budget: every request earns a fraction of a retry, every retry spends one, and
  a 429 pauses the whole batch for the time the server asked, so a Hub that keeps failing
  slows the batch down instead of multiplying requests.

Only transient failures are retried (`TRANSIENT`); an answer that will not change
(404 with a repo error code, gated, disabled) is final at the first try. The caller maps
exceptions to Problems; this module decides only whether and when to try again.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TypeVar

T = TypeVar("T")

#: Problem reasons worth another try: the next answer may differ.
TRANSIENT = frozenset({"rate-limited", "server-error", "network", "timeout", "bad-answer"})
#: Problems that leave a model incomplete for this run only (exit 3): the next run may read it.
UNFINISHED = TRANSIENT | {"deadline", "interrupted"}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try; the defaults suit the real Hub.

    `OPENAUDIT_RETRY=attempts,initial,max[,server-cap]` overrides them (the tests use short
    backoffs so that faults cost milliseconds, not seconds).
    """

    attempts: int = 5
    initial: float = 0.5
    max_backoff: float = 8.0
    #: The longest server-requested wait honoured (Retry-After, RateLimit t=).
    max_server_wait: float = 30.0
    #: Retries the batch may spend before earning more (one per `earn` requests after that).
    budget: float = 30.0
    earn: float = 0.5

    @classmethod
    def from_env(cls) -> RetryPolicy:
        value = os.environ.get("OPENAUDIT_RETRY", "").strip()
        policy = cls()
        if not value:
            return policy
        try:
            parts = [float(p) for p in value.split(",")]
        except ValueError:
            return policy
        if parts:
            policy = replace(policy, attempts=max(1, int(parts[0])))
        if len(parts) > 1:
            policy = replace(policy, initial=max(0.0, parts[1]))
        if len(parts) > 2:
            policy = replace(policy, max_backoff=max(0.0, parts[2]))
        if len(parts) > 3:
            policy = replace(policy, max_server_wait=max(0.0, parts[3]))
        return policy

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, initial * 2**(attempt-1))]."""
        ceiling = min(self.max_backoff, self.initial * 2 ** max(0, attempt - 1))
        return random.uniform(0.0, ceiling)


class Transient(Exception):
    """A failure worth retrying; `wait` is the server's own hint in seconds, if it gave one."""

    def __init__(self, reason: str, detail: str, wait: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.wait = wait


class DeadlineExceeded(Exception):
    """The model's or the batch's time is up: what was read so far is reported."""


class Deadline:
    """A point in monotonic time, nested in an outer one (a model inside its batch)."""

    def __init__(self, seconds: float | None, outer: Deadline | None = None) -> None:
        self.end = math.inf if seconds is None else time.monotonic() + seconds
        self.outer = outer

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        return min(left, self.outer.remaining()) if self.outer is not None else left

    def expire(self) -> None:
        """End it now (a stop request): requests in flight give up at their next check."""
        self.end = -math.inf

    def expired(self) -> bool:
        return self.remaining() <= 0

    def cut(self, timeout: float) -> float:
        """A request's timeout, cut to what is left; raises once nothing is."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded("deadline reached")
        return min(timeout, left)


_NO_DEADLINE = Deadline(None)
_current: ContextVar[Deadline] = ContextVar("openaudit_deadline", default=_NO_DEADLINE)


def current_deadline() -> Deadline:
    return _current.get()


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[Deadline]:
    """Run a block under a deadline nested in the current one (set per worker thread)."""
    d = Deadline(seconds, _current.get())
    token = _current.set(d)
    try:
        yield d
    finally:
        _current.reset(token)


@contextlib.contextmanager
def under(d: Deadline) -> Iterator[Deadline]:
    """Install an existing deadline in this thread (the batch's, in each worker)."""
    token = _current.set(d)
    try:
        yield d
    finally:
        _current.reset(token)


class Budget:
    """Shared by every request of a run: the retry budget and the rate-limit pause."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._tokens = policy.budget
        self._pause_until = 0.0
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0
        self.refused = 0

    def on_request(self) -> None:
        with self._lock:
            self.requests += 1
            self._tokens = min(self.policy.budget, self._tokens + self.policy.earn)

    def take_retry(self) -> bool:
        with self._lock:
            if self._tokens < 1:
                self.refused += 1
                return False
            self._tokens -= 1
            self.retries += 1
            return True

    def pause(self, seconds: float) -> None:
        """A 429: every thread waits before its next request, not only the one refused."""
        with self._lock:
            self.rate_limited += 1
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def wait_turn(self, d: Deadline, slept_until: float = 0.0) -> None:
        """Wait out a batch-wide pause, less what this call already slept for it."""
        with self._lock:
            left = self._pause_until - max(time.monotonic(), slept_until)
        if left > 0:
            if left >= d.remaining():
                raise DeadlineExceeded("rate-limited past the deadline")
            sleep(left)


def sleep(seconds: float) -> None:
    """The one place openaudit sleeps between tries (tests replace it).

    Sleeps in short slices so that a stop request (which expires the deadline) is
    honoured within a tenth of a second, not after a 30 s Retry-After.
    """
    end = time.monotonic() + seconds
    d = current_deadline()
    while not d.expired():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.1))


class Retrier:
    """Runs a request under the policy; one per run, shared by threads."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy.from_env()
        self.budget = Budget(self.policy)

    def call(
        self, request: Callable[[], T], classify: Callable[[BaseException], Transient | None]
    ) -> T:
        """Call `request` until it succeeds, fails for good, or time or budget run out.

        `classify` turns an exception into a `Transient` (retry) or None (final: re-raised).
        The last exception is re-raised unchanged, for the caller to map to a Problem.
        """
        import tenacity

        d = current_deadline()
        policy = self.policy
        hints: dict[str, float | None] = {"wait": None}
        slept = {"until": 0.0}

        def is_transient(exc: BaseException) -> bool:
            if isinstance(exc, DeadlineExceeded):
                return False
            t = exc if isinstance(exc, Transient) else classify(exc)
            if t is None:
                return False
            hints["wait"] = t.wait
            if t.reason == "rate-limited":
                self.budget.pause(
                    min(t.wait if t.wait is not None else 1.0, policy.max_server_wait)
                )
            return True

        def wait(state: tenacity.RetryCallState) -> float:
            hint = hints["wait"]
            if hint is not None:
                return min(max(hint, 0.0), policy.max_server_wait)
            return policy.backoff(state.attempt_number)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            if state.upcoming_sleep >= d.remaining():
                return True
            return not self.budget.take_retry()

        def nap(seconds: float) -> None:
            slept["until"] = time.monotonic() + seconds
            sleep(seconds)

        def attempt() -> T:
            self.budget.wait_turn(d, slept["until"])
            d.cut(1.0)  # nothing is sent once the deadline has passed
            self.budget.on_request()
            return request()

        retrying = tenacity.Retrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(is_transient),
            sleep=nap,
            reraise=True,
        )
        return retrying(attempt)
