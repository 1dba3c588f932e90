"""hub: turn references into immutable Snapshots (Hub, evidence store, or disk)."""

from openaudit.hub.client import HubClient, HubError, endpoint_from_env
from openaudit.hub.collect import Collector, related_refs
from openaudit.hub.store import Store, StoreError, default_cache_dir

__all__ = [
    "Collector",
    "HubClient",
    "HubError",
    "Store",
    "StoreError",
    "default_cache_dir",
    "endpoint_from_env",
    "related_refs",
]
