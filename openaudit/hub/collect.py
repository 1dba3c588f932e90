"""Turn references into Bundles: the model's snapshot plus its bases and datasets.

Order of preference for one snapshot: the evidence store when the revision is a
commit already stored (zero requests), else one metadata request to learn the
commit and the store again for that commit, else a full fetch that is stored.
Offline, only the store answers, and what it lacks is named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from openaudit.hub.client import HubClient, HubError
from openaudit.hub.local import LocalSourceError, read_folder
from openaudit.hub.store import Store
from openaudit.model import Bundle, ModelRef, Problem, Snapshot

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

#: How far base models are followed (a fine-tune of a quantisation of a merge ...).
DEFAULT_DEPTH = 4


def related_refs(snapshot: Snapshot) -> tuple[list[str], list[str]]:
    """Base-model and dataset repo ids a snapshot names, in the order they were declared."""
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
    if adapter is not None and adapter.text:
        import json

        try:
            data = json.loads(adapter.text)
        except ValueError:
            data = {}
        if isinstance(data, dict):
            bases.extend(_ids(data.get("base_model_name_or_path")))
    return _unique(b for b in bases if _REPO_ID.match(b)), _unique(d for d in datasets if _REPO_ID.match(d))


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
    ) -> None:
        self.client = client
        self.store = store
        self.offline = offline
        self.depth = depth
        self.with_datasets = with_datasets

    def collect_all(self, refs: list[ModelRef], workers: int = 4) -> list[Bundle]:
        """Bundles in the order of `refs`; a failure is a Bundle with problems, never a gap."""
        if len(refs) <= 1 or workers <= 1:
            return [self.collect(r) for r in refs]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.collect, refs))

    def collect(self, ref: ModelRef) -> Bundle:
        try:
            root = self.snapshot(ref)
        except (HubError, LocalSourceError) as exc:
            problem = exc.problem if isinstance(exc, HubError) else Problem(str(ref), "not-found", str(exc))
            return Bundle(ref=ref, root=None, problems=(problem,))
        related: dict[str, Snapshot] = {}
        problems: list[Problem] = []
        self._follow_bases(root, related, problems, depth=self.depth, seen={f"model:{ref.repo_id}"})
        if self.with_datasets:
            for ds in related_refs(root)[1]:
                self._add(ModelRef(ds, kind="dataset", origin=f"dataset of {ref.repo_id}"), related, problems)
        return Bundle(ref=ref, root=root, related=related, problems=tuple(problems))

    def _follow_bases(
        self, snap: Snapshot, related: dict[str, Snapshot], problems: list[Problem], depth: int, seen: set[str]
    ) -> None:
        if depth <= 0:
            return
        for base in related_refs(snap)[0]:
            key = f"model:{base}"
            if key in seen:
                continue  # a cycle, or a base shared by two parents: read once
            seen.add(key)
            child = self._add(ModelRef(base, origin=f"base model of {snap.ref.repo_id}"), related, problems)
            if child is not None:
                self._follow_bases(child, related, problems, depth - 1, seen)

    def _add(self, ref: ModelRef, related: dict[str, Snapshot], problems: list[Problem]) -> Snapshot | None:
        key = f"{ref.kind}:{ref.repo_id}"
        try:
            snap = self.snapshot(ref)
        except HubError as exc:
            problems.append(Problem(key, exc.problem.reason, exc.problem.detail))
            return None
        related[key] = snap
        return snap

    def snapshot(self, ref: ModelRef) -> Snapshot:
        if ref.local_path is not None:
            return read_folder(ref)
        store = self.store
        rev = ref.revision or "main"
        if store is not None and (self.offline or _SHA.match(rev)):
            commit = store.resolve(ref.kind, ref.repo_id, rev)
            stored = store.get(ref, commit) if commit else None
            if stored is not None and (self.offline or store.is_complete(stored)):
                return stored
        if self.offline or self.client is None:
            raise HubError(
                Problem(ref.repo_id, "offline-missing", f"revision {rev} is not in the evidence store")
            )
        info = self.client.resolve_info(ref)
        commit = info.get("sha")
        if store is not None and isinstance(commit, str):
            stored = store.get(ref, commit)
            if stored is not None and store.is_complete(stored):
                store.put(stored)  # remembers that `rev` now names this commit
                return stored
        snap = self.client.fetch(ref, info)
        if store is not None:
            store.put(snap)
        return snap

