"""Turn references into Bundles: the model's snapshot plus its bases and datasets.

Order of preference for one snapshot: the evidence store when the revision is a
commit already stored (zero requests), else one metadata request to learn the
commit and the store again for that commit, else a full fetch that is stored.
Offline, only the store answers, and what it lacks is named.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from openaudit.cardtext import adapter_base, base_mentions, gguf_bases
from openaudit.hub import hublog, retry
from openaudit.hub.client import HubClient, HubError
from openaudit.hub.links import LinkReader, licence_links
from openaudit.hub.local import LocalSourceError, read_folder
from openaudit.hub.memo import Abandoned, Once
from openaudit.hub.store import Store
from openaudit.model import Bundle, LinkedText, ModelRef, Problem, Snapshot


@dataclass(frozen=True)
class Limits:
    """Time and breadth bounds of one run; each cap that is reached is reported on the model."""

    #: The whole batch's deadline (shared by every worker).
    batch: retry.Deadline = field(default_factory=lambda: retry.Deadline(None))
    #: Seconds one model (with its bases, datasets and links) may take.
    model_seconds: float | None = None
    max_bases: int = 16
    max_datasets: int = 16


def contained(subject: str, exc: BaseException) -> Problem:
    """An unexpected failure while reading one repository, as that model's problem."""
    if isinstance(exc, RecursionError | MemoryError):
        return Problem(
            subject,
            "malformed",
            f"the repository's data is too deep or too large ({type(exc).__name__})",
        )
    return Problem(
        subject,
        "error",
        f"could not be audited: unexpected {type(exc).__name__} while reading it "
        "(a bug: please report it; OPENAUDIT_DEBUG=1 shows the traceback)",
    )


_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

#: How far base models are followed (a fine-tune of a quantisation of a merge ...).
DEFAULT_DEPTH = 4
#: Stored models of one namespace in a batch from which its listing is asked (one page
#: answers them all instead of one request each).
LISTED_AT_LEAST = 3
#: Snapshots remembered in a run (bases and datasets shared by many models stay; the
#: oldest finished entries go first, so a 10,000-model batch stays bounded in memory).
MEMO_SIZE = 2048


def related_refs(snapshot: Snapshot, *, prose: bool = False) -> tuple[list[str], list[str]]:
    """Base-model and dataset repo ids a snapshot names, in the order they were declared.

    With `prose`, bases the card names only in its text ("fine-tuned from [x](...)") are
    followed too: the audited model's own card is read that way, its bases' cards are not.
    """
    card = snapshot.info.get("cardData") or {}
    bases = _ids(card.get("base_model"))
    datasets = _ids(card.get("datasets"))
    for tag in snapshot.info.get("tags") or ():
        if not isinstance(tag, str):
            continue
        if tag.startswith("base_model:"):
            parts = tag.split(":")
            bases.append(parts[-1])
        elif tag.startswith("dataset:"):
            datasets.append(tag.split(":", 1)[1])
    adapter = snapshot.file("adapter_config.json")
    base = adapter_base(adapter.text) if adapter is not None and adapter.text else None
    if base:
        bases.append(base)
    gguf = snapshot.info.get("gguf")
    if isinstance(gguf, dict):
        bases.extend(value for _, value, is_id in gguf_bases(gguf) if is_id)
    readme = snapshot.file("README.md")
    if prose and readme is not None and readme.text:
        for mention in base_mentions(readme.text, snapshot.ref.repo_id):
            # A repo the card lists as a dataset is data it was tuned on, not a base.
            bases.extend(i for i in mention.ids if i not in datasets)
    return _unique(b for b in bases if _REPO_ID.match(b)), _unique(
        d for d in datasets if _REPO_ID.match(d)
    )


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str)]
    return []


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


class NeedsNetwork(Abandoned):
    """A store-only collection (`Collector.store_only`) reached what only a request answers."""


@dataclass
class _Walk:
    """What one bundle's walk over bases and datasets found."""

    known: dict[str, str | Problem]
    related: dict[str, Snapshot] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    links: dict[str, str | Problem] = field(default_factory=dict)


class Collector:
    """Fetches bundles; shares one client and one store between worker threads."""

    def __init__(
        self,
        client: HubClient | None,
        store: Store | None,
        *,
        offline: bool = False,
        depth: int = DEFAULT_DEPTH,
        with_datasets: bool = True,
        links: LinkReader | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.client = client
        self.store = store
        self.offline = offline
        self.depth = depth
        self.with_datasets = with_datasets
        self.links = links
        #: Folders audited in the same batch, by repo id: a local fine-tune's local base is read from disk.
        self.local: dict[str, str] = {}
        #: The run's read-once memo: (endpoint, kind, repo, revision) -> the snapshot or its error.
        self._who: str | None = None
        self._memo: Once[tuple[str, str, str, str], Snapshot] = Once(MEMO_SIZE, keep=(HubError,))
        self._local = threading.local()
        #: Per namespace, the batch's models at `main` already in the store (`plan_listings`).
        self._wanted: dict[str, set[str]] = {}
        self._listings: Once[str, dict[str, str]] = Once(MEMO_SIZE)

    def plan_listings(self, refs: Sequence[ModelRef]) -> None:
        """Ask which commit `main` is at by namespace listing for the batch's stored models.

        A re-audit at `main` of a model already in the store needs only that commit (equal:
        the stored snapshot is the evidence). Where `LISTED_AT_LEAST` of them share a
        namespace, one page of its listing (`expand=sha`) answers them all; the rest, and
        any the listing does not name, ask for themselves.
        """
        if self.client is None or self.store is None or self.offline:
            return
        groups: dict[str, set[str]] = {}
        for ref in refs:
            at_main = ref.kind == "model" and not ref.local_path and ref.revision in (None, "main")
            if at_main and self.store.resolve("model", ref.repo_id, "main") is not None:
                groups.setdefault(ref.repo_id.split("/")[0], set()).add(ref.repo_id)
        self._wanted = {a: ids for a, ids in groups.items() if len(ids) >= LISTED_AT_LEAST}

    def _listed(self, ref: ModelRef) -> str | None:
        """The commit the namespace listing gives for `ref` at `main`, if it was planned."""
        author = ref.repo_id.split("/")[0]
        wanted = self._wanted.get(author)
        if not wanted or ref.repo_id not in wanted or ref.revision not in (None, "main"):
            return None
        if not self._listings.answered(author):
            self._network(f"the listing of {author}")
        client = self.client
        assert client is not None  # planned only with a client

        def listing() -> dict[str, str]:
            try:  # pages cost one request each: at most half of what they could save
                return client.listed_commits(author, wanted, max(1, len(wanted) // 2))
            except HubError:  # no listing: each model asks for itself
                return {}

        return self._listings.get(author, listing).get(ref.repo_id)

    @contextmanager
    def store_only(self) -> Iterator[None]:
        """Collect on this thread from the store and the run's memo alone: where a request
        (or waiting for another thread's) would be needed, `NeedsNetwork` is raised instead.

        A re-audit of pinned evidence is then read by the caller itself, without handing each
        model to a fetch thread and back (threads that do not wait on the network only
        contend for the interpreter lock); what needs the network still goes to the threads.
        """
        self._local.store_only = True
        try:
            yield
        finally:
            self._local.store_only = False

    def _network(self, what: str) -> None:
        if getattr(self._local, "store_only", False):
            raise NeedsNetwork(what)

    def note_local(self, refs: Sequence[ModelRef]) -> None:
        """Folders audited in this batch, so a local fine-tune's local base is read from disk."""
        self.local.update(
            {r.repo_id: r.local_path for r in refs if r.local_path and r.kind == "model"}
        )

    def collect_all(self, refs: list[ModelRef], workers: int = 4) -> list[Bundle]:
        """Bundles in the order of `refs`; a failure is a Bundle with problems, never a gap."""
        self.note_local(refs)
        if len(refs) <= 1 or workers <= 1:
            return [self.collect(r) for r in refs]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.collect, refs))

    def collect(self, ref: ModelRef) -> Bundle:
        """One model's bundle within its deadline; whatever goes wrong stays this model's problem.

        Its store writes are one transaction (`Store.batch`).
        """
        with (
            retry.under(self.limits.batch),
            retry.deadline(self.limits.model_seconds),
            hublog.per_model() as logged,
        ):
            try:
                if self.store is None:
                    bundle = self._collect(ref)
                else:
                    with self.store.batch():
                        bundle = self._collect(ref)
            except Exception as exc:  # one hostile repository never ends the batch
                if os.environ.get("OPENAUDIT_DEBUG"):
                    raise
                bundle = Bundle(ref=ref, root=None, problems=(contained(str(ref), exc),))
        if logged:
            return replace(bundle, problems=(*bundle.problems, *dict.fromkeys(logged)))
        return bundle

    def _collect(self, ref: ModelRef) -> Bundle:
        try:
            root = self.snapshot(ref)
        except (HubError, LocalSourceError) as exc:
            problem = (
                exc.problem
                if isinstance(exc, HubError)
                else Problem(str(ref), "not-found", str(exc))
            )
            return Bundle(ref=ref, root=None, problems=(problem,))
        # A pinned commit (and any offline audit) uses the bases and datasets it was first
        # audited with, so the same evidence gives the same report.
        pinned = root.commit is not None and (ref.revision == root.commit or self.offline)
        known = self.store.get_links(root) if pinned and self.store is not None else {}
        walk = _Walk(known=known)
        self._follow_bases(root, walk, depth=self.depth, seen={f"model:{ref.repo_id}"}, prose=True)
        if self.with_datasets:
            for ds in related_refs(root)[1]:
                if not self._room(walk, "dataset", self.limits.max_datasets, ref.repo_id):
                    break
                self._add(ModelRef(ds, kind="dataset", origin=f"dataset of {ref.repo_id}"), walk)
        if self.store is not None and root.commit is not None and not self.offline:
            self.store.put_links(root, walk.links)
        linked: Mapping[str, LinkedText] = {}
        if self.links is not None:
            urls = licence_links(root)
            if not all(map(self.links.answered, urls)):
                self._network("a licence link")
            linked, link_problems = self.links.read_all(urls)
            walk.problems.extend(link_problems)
        return Bundle(
            ref=ref, root=root, related=walk.related, problems=tuple(walk.problems), linked=linked
        )

    def _follow_bases(
        self, snap: Snapshot, walk: _Walk, depth: int, seen: set[str], prose: bool = False
    ) -> None:
        if depth <= 0:
            return
        for base in related_refs(snap, prose=prose)[0]:
            key = f"model:{base}"
            if key in seen:
                continue  # a cycle, or a base shared by two parents: read once
            if not self._room(walk, "model", self.limits.max_bases, snap.ref.repo_id):
                return
            seen.add(key)
            child = self._add(ModelRef(base, origin=f"base model of {snap.ref.repo_id}"), walk)
            if child is not None:
                self._follow_bases(child, walk, depth - 1, seen)

    def _room(self, walk: _Walk, kind: str, cap: int, owner: str) -> bool:
        """Whether one more related repo of `kind` may be read; the cap is reported once."""
        count = sum(1 for k in walk.related if k.startswith(f"{kind}:"))
        count += sum(1 for p in walk.problems if p.subject.startswith(f"{kind}:"))
        if count < cap:
            return True
        subject = f"{kind}s of {owner}"
        if not any(p.subject == subject for p in walk.problems):
            walk.problems.append(
                Problem(
                    subject, "capped", f"more than {cap} related {kind}s named: the rest not read"
                )
            )
        return False

    def _add(self, ref: ModelRef, walk: _Walk) -> Snapshot | None:
        key = f"{ref.kind}:{ref.repo_id}"
        known = walk.known.get(key)
        if isinstance(known, Problem):
            walk.problems.append(known)
            walk.links[key] = known
            return None
        if known is not None:
            ref = ModelRef(ref.repo_id, revision=known, kind=ref.kind, origin=ref.origin)
        elif ref.kind == "model" and ref.repo_id in self.local:
            ref = ModelRef(ref.repo_id, local_path=self.local[ref.repo_id], origin="path")
        try:
            snap = self.snapshot(ref)
        except HubError as exc:
            problem = Problem(key, exc.problem.reason, exc.problem.detail)
            walk.problems.append(problem)
            walk.links[key] = problem
            return None
        walk.related[key] = snap
        if snap.commit is not None:
            walk.links[key] = snap.commit
        return snap

    def snapshot(self, ref: ModelRef) -> Snapshot:
        """One repo at one revision, read at most once per run whoever asks (threads wait)."""
        if ref.local_path is not None:
            return read_folder(ref)
        endpoint = self.client.endpoint if self.client is not None else ""
        key = (endpoint, ref.kind, ref.repo_id, ref.revision or "main")
        if self._memo.busy(key):
            self._network(ref.repo_id)  # being fetched by another thread: do not wait here
        try:
            snap = self._memo.get(key, lambda: self._read(ref))
        except HubError as exc:  # a fresh exception per asker: tracebacks are not shared
            raise HubError(exc.problem) from None
        except retry.DeadlineExceeded:  # this asker's time, not an answer about the repo
            raise HubError(
                Problem(ref.repo_id, "deadline", "not read: the deadline was reached first")
            ) from None
        return snap if snap.ref == ref else replace(snap, ref=ref)

    def _read(self, ref: ModelRef) -> Snapshot:
        store = self.store
        rev = ref.revision or "main"
        if store is not None and (self.offline or _SHA.match(rev)):
            commit = store.resolve(ref.kind, ref.repo_id, rev)
            stored = store.get(ref, commit) if commit else None
            if stored is not None and (
                self.offline or store.is_complete(stored, self._credential())
            ):
                return stored
        if self.offline or self.client is None:
            raise HubError(
                Problem(
                    ref.repo_id, "offline-missing", f"revision {rev} is not in the evidence store"
                )
            )
        # Where `main` is now, from the namespace listing when planned: the stored snapshot
        # of that commit is the evidence, and no request is sent for this model.
        listed = self._listed(ref) if ref.kind == "model" else None
        stored = self._stored_at(ref, listed) if listed is not None else None
        if stored is not None:
            return stored
        self._network(ref.repo_id)
        try:
            info = self.client.resolve_info(ref)
        except HubError as exc:
            if exc.problem.reason == "deadline":
                raise retry.DeadlineExceeded(exc.problem.detail) from None
            raise
        commit = info.get("sha")
        stored = self._stored_at(ref, commit) if isinstance(commit, str) else None
        if stored is not None:
            return stored
        snap = self.client.fetch(ref, info)
        if store is not None:
            store.put(snap, self._credential())
        return snap

    def _stored_at(self, ref: ModelRef, commit: str) -> Snapshot | None:
        """The stored snapshot of `commit`, when it holds all this reader may read (the
        revision asked is then remembered as pointing there)."""
        store = self.store
        stored = store.get(ref, commit) if store is not None else None
        if store is None or stored is None or not store.is_complete(stored, self._credential()):
            return None
        store.remember(ref, commit)
        return stored

    def _credential(self) -> str | None:
        """Who this run reads as (computed once; None when it reads nothing from the Hub)."""
        if self.client is None:
            return None
        if self._who is None:
            from openaudit.hub.client import credential_id

            self._who = credential_id()
        return self._who
