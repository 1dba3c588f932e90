"""Wire the stages together: sources -> hub -> facts -> rules -> verdicts.

The CLI and the tests call this; it owns no judgement and no formatting.

A batch is a stream: `Run.verdicts(refs)` (or `audit_iter`) yields one Verdict per
reference, in input order, as soon as that model's snapshots are in. Fetching runs
`jobs` references ahead on threads (the cost of an audit is round trips first), so
memory holds a bounded window of bundles, never the whole batch, and the first result
is written while the rest are still being read. `audit()` collects the stream into a
Scorecard for callers that need the whole set.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from openaudit import __version__, judged
from openaudit.facts import extract
from openaudit.hub import (
    Collector,
    HubClient,
    Store,
    StoreError,
    default_cache_dir,
    endpoint_from_env,
    hublog,
    retry,
)
from openaudit.hub.collect import Limits, NeedsNetwork, contained
from openaudit.hub.links import LinkReader
from openaudit.hub.retry import Retrier
from openaudit.judged import code_version, evidence_key
from openaudit.kb import KnowledgeBase, load_kb
from openaudit.kb.memo import IdentifyMemo
from openaudit.model import Bundle, ModelRef, Problem, Scorecard, Verdict
from openaudit.rules.engine import Judge
from openaudit.rules.loader import load_rules
from openaudit.rules.mof_evidence import with_mof
from openaudit.rules.osai_index import with_index

#: Concurrent fetches by default: audits wait on the network, not the CPU.
DEFAULT_JOBS = 16
#: Verdicts whose store writes share one transaction.
_WRITE_EVERY = 64


@dataclass(frozen=True)
class AuditOptions:
    endpoint: str | None = None
    cache_dir: Path | None = None
    use_store: bool = True
    offline: bool = False
    timeout: float = 20.0
    depth: int = 4
    #: Concurrent fetches (`--jobs`, alias `--workers`).
    workers: int = DEFAULT_JOBS
    with_datasets: bool = True
    rules_dirs: tuple[Path, ...] = field(default_factory=tuple)
    #: Hosts licence links may be read from (None: `OPENAUDIT_LINK_HOSTS`, else any).
    link_hosts: frozenset[str] | None = None
    #: Seconds the whole batch may take (`--deadline`); unfinished models are reported so.
    deadline: float | None = None
    #: Seconds one model may take, bases and links included (`--model-deadline`).
    model_deadline: float | None = None
    #: Where one-line warnings go (a read-only or broken store); None: the `logging` module.
    warn: Callable[[str], None] | None = field(default=None, compare=False)


#: How many references per job are read ahead of the one being judged. Results go out in
#: input order, so one slow model (a long chain of bases) holds the window; a deeper window
#: keeps the jobs busy meanwhile (2 x jobs: 12.5 ms/model cold in benchmarks/batch.py,
#: 8 x jobs: 11.7), at the cost of that many bundles in memory (tens of kB each).
READ_AHEAD = 8

#: Called after each verdict with (done, total or None, the verdict).
Progress = Callable[[int, int | None, Verdict], None]


class Run:
    """One audit run: one client, one store, one read-once memo, one judge.

    Use as a context manager; `verdicts()` may be called more than once in a run (the
    memo then answers repeated references without a request).
    """

    def __init__(self, options: AuditOptions) -> None:
        self.options = options
        # huggingface_hub's warnings become the models' problems, not loose stderr lines.
        self._hublog = contextlib.ExitStack()
        self._hublog.enter_context(hublog.captured(_warner(options)))
        self.store = _open_store(options) if options.use_store else None
        # Local folders need the Hub too, for the bases and datasets they name (unless offline).
        #: One retry policy and budget for every request of the run (metadata, files, links).
        self.retrier = Retrier()
        self.client = (
            None
            if options.offline
            else HubClient(options.endpoint, timeout=options.timeout, retrier=self.retrier)
        )
        self.links = LinkReader(
            self.store,
            endpoint=self.client.endpoint if self.client else endpoint_from_env(),
            timeout=options.timeout,
            offline=options.offline,
            hosts=options.link_hosts,
            retrier=self.retrier,
        )
        self.collector = Collector(
            self.client,
            self.store,
            offline=options.offline,
            depth=options.depth,
            with_datasets=options.with_datasets,
            links=self.links,
            limits=Limits(
                batch=retry.Deadline(options.deadline), model_seconds=options.model_deadline
            ),
        )
        #: Set by a signal handler: stop scheduling, finish the report (SIGINT 2, SIGTERM 15).
        self.stop_signal: int | None = None
        self.kb = load_kb()
        persist = (
            (self.store.get_identified, self.store.put_identified)
            if self.store is not None
            else None
        )
        self.identify = IdentifyMemo(self.kb, persist)
        self.ruleset = load_rules(tuple(options.rules_dirs))
        self.judge = Judge(self.ruleset)
        self.generated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        #: Verdicts recalled from the store (same evidence, same code): not judged again.
        self.recalled = 0
        self._streams: list[Generator[Verdict, None, None]] = []

    @property
    def in_flight(self) -> int:
        """Models being fetched now (for a progress display)."""
        window = getattr(self, "_window", None)
        return sum(not f.done() for f in window) if window else 0

    @property
    def rule_packs(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.ruleset.packs)

    def scorecard(self, models: Iterable[Verdict] = ()) -> Scorecard:
        """The run's header (time, version, packs) around `models`; empty for a stream's header."""
        return Scorecard(
            models=tuple(models),
            generated_at=self.generated_at,
            tool_version=__version__,
            rule_packs=self.rule_packs,
            endpoint=self.client.endpoint if self.client else None,
        )

    def close(self) -> None:
        # A stream its consumer left unfinished (an error writing the report) is closed
        # first, so its fetch threads stop and its pending store writes land while the
        # store is still open.
        for stream in self._streams:
            stream.close()
        self._streams.clear()
        self.links.close()
        if self.store is not None:
            self.store.close()
        self._hublog.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def bundles(self, refs: Sequence[ModelRef]) -> Iterator[Bundle]:
        """Bundles in input order, fetched up to `READ_AHEAD x jobs` references ahead of the
        consumer."""
        self.collector.note_local(refs)
        jobs = max(1, self.options.workers)
        # Offline nothing waits on the network: threads would only contend for the
        # interpreter lock (one thread recalls 1,000 stored models in 0.9 s, sixteen in 1.15).
        if jobs == 1 or len(refs) <= 1 or self.client is None:
            yield from map(self.collector.collect, refs)
            return
        self.collector.plan_listings(refs)
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="openaudit-fetch")
        window: deque[Future[Bundle]] = deque()
        self._window = window
        pending = iter(refs)
        try:
            for ref in pending:
                window.append(self._start(pool, ref))
                if len(window) >= READ_AHEAD * jobs:
                    break
            while window:
                bundle = self._wait(window[0])
                window.popleft()
                nxt = next(pending, None) if self.stop_signal is None else None
                if nxt is not None:
                    window.append(self._start(pool, nxt))
                yield bundle
        finally:
            # A consumer that stops early (SIGINT, an error) cancels what has not started.
            for fut in window:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, pool: ThreadPoolExecutor, ref: ModelRef) -> Future[Bundle]:
        """The bundle collected here from the store when nothing needs a request (a pinned
        or unchanged re-audit: no hand-over to a thread and back), else by a fetch thread."""
        try:
            with self.collector.store_only():
                bundle = self.collector.collect(ref)
        except NeedsNetwork:
            return pool.submit(self.collector.collect, ref)
        done: Future[Bundle] = Future()
        done.set_result(bundle)
        return done

    def _wait(self, future: Future[Bundle]) -> Bundle:
        """The next bundle, checking for a stop request while it is fetched."""
        while True:
            if self.stop_signal is not None:
                raise Stopped(self.stop_signal)
            try:
                return future.result(timeout=0.1)
            except FutureTimeout:
                continue

    def stop(self, signum: int) -> None:
        """Ask the run to stop scheduling; safe to call from a signal handler.

        The batch deadline is expired at once, so fetches in flight end at their next
        check instead of holding the report back.
        """
        self.stop_signal = signum
        self.collector.limits.batch.expire()

    def verdict(self, bundle: Bundle) -> Verdict:
        """Judge a bundle, or recall the verdict of the same evidence under the same code."""
        store = self.store
        key = evidence_key(bundle, code_version(self.options.rules_dirs)) if store else None
        if store is not None and key is not None:
            data = store.get_verdict(key)
            known = judged.load(data) if data is not None else None
            if known is not None:
                self.recalled += 1
                return known
        try:
            v = _verdict(bundle, self.kb, self.judge, self.identify)
        except Exception as exc:  # one hostile repository never ends the batch
            if os.environ.get("OPENAUDIT_DEBUG"):
                raise
            problem = contained(str(bundle.ref), exc)
            empty = Bundle(ref=bundle.ref, root=None, problems=(problem,))
            return _verdict(empty, self.kb, self.judge, self.identify)
        if store is not None and key is not None:
            store.put_verdict(key, judged.dump(v))
        return v

    def verdicts(
        self, refs: Sequence[ModelRef], progress: Progress | None = None
    ) -> Iterator[Verdict]:
        """One verdict per reference, in input order (see `_verdicts`); closed with the run."""
        stream = self._verdicts(refs, progress)
        self._streams.append(stream)
        return stream

    def _verdicts(
        self, refs: Sequence[ModelRef], progress: Progress | None = None
    ) -> Generator[Verdict, None, None]:
        """One verdict per reference, in input order, each as soon as its bundle is in.

        After a stop request the models not finished are still yielded, each marked as
        not audited because the run was interrupted: the report is complete and valid.
        Store writes of the judging side go in one transaction per `_WRITE_EVERY` models,
        flushed on the way out whatever stops the stream.
        """
        total = len(refs)
        done = 0
        bundles = self.bundles(refs)
        try:
            more = True
            while more:
                more = False
                with self.store.batch() if self.store is not None else nullcontext():
                    for bundle in islice(bundles, _WRITE_EVERY):
                        more = True
                        v = self.verdict(bundle)
                        done += 1
                        if progress is not None:
                            progress(done, total, v)
                        yield v
                        if self.stop_signal is not None:
                            raise Stopped(self.stop_signal)
        except Stopped as stop:
            name = {2: "SIGINT", 15: "SIGTERM"}.get(stop.signum, f"signal {stop.signum}")
            for ref in refs[done:]:
                problem = Problem(
                    str(ref), "interrupted", f"not audited: the run was stopped ({name})"
                )
                yield _verdict(
                    Bundle(ref=ref, root=None, problems=(problem,)),
                    self.kb,
                    self.judge,
                    self.identify,
                )


class Stopped(Exception):
    """The run was asked to stop (a signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def _warner(options: AuditOptions) -> Callable[[str], None]:
    import logging

    return options.warn or logging.getLogger("openaudit").warning


def _open_store(options: AuditOptions) -> Store | None:
    """The evidence store, or None (with one warning) when it cannot be used at all."""
    warn = _warner(options)
    # Online, a snapshot read from another endpoint (a mirror) is read again from this one;
    # offline, the store answers with what it has, each snapshot naming where it came from.
    endpoint = None if options.offline else (options.endpoint or endpoint_from_env()).rstrip("/")
    try:
        return Store(options.cache_dir or default_cache_dir(), endpoint=endpoint, warn=warn)
    except StoreError as exc:
        warn(f"{exc}; auditing without the store")
        return None


def audit_iter(refs: Sequence[ModelRef], options: AuditOptions) -> Iterator[Verdict]:
    """Verdicts in input order, streamed (see `Run` for the header a report needs)."""
    with Run(options) as run:
        yield from run.verdicts(refs)


def collect(refs: Sequence[ModelRef], options: AuditOptions) -> list[Bundle]:
    with Run(options) as run:
        return list(run.bundles(refs))


def judge(bundles: Sequence[Bundle], options: AuditOptions) -> Scorecard:
    kb = load_kb()
    ruleset = load_rules(tuple(options.rules_dirs))
    judge = Judge(ruleset)
    return Scorecard(
        models=tuple(_verdict(b, kb, judge) for b in bundles),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        rule_packs=tuple(p.name for p in ruleset.packs),
    )


def _verdict(
    bundle: Bundle, kb: KnowledgeBase, judge: Judge, identify: IdentifyMemo | None = None
) -> Verdict:
    # The MOF class is counted from the components the facts show (`rules.mof_evidence`).
    facts, mof_class = with_mof(extract(bundle, kb, identify))
    facts = with_index(facts)  # the Open Source AI Index classes, judged once here
    root = bundle.root
    errors: list[Problem] = list(bundle.problems)
    if root is not None:
        errors.extend(
            Problem(f"{bundle.ref.repo_id}/{p.subject}", p.reason, p.detail) for p in root.problems
        )
    # A stored snapshot is the Hub's evidence: same JSON online and offline.
    source = "hub" if root is None or root.origin == "store" else root.origin
    verdict = judge.verdict(facts, source=source, errors=errors, mof_class=mof_class)
    return verdict if root is not None else replace(verdict, audited=False)


def audit(refs: Sequence[ModelRef], options: AuditOptions, **kw: Any) -> Scorecard:
    """The whole run as one Scorecard (collects the stream: for reports that need every model)."""
    with Run(options) as run:
        return run.scorecard(run.verdicts(refs, **kw))
