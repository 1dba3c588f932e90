"""Model ids from a Hub listing (`--author`, `--search`, `--filter`), through `list_models`."""

from __future__ import annotations

from collections.abc import Sequence

from openaudit.hub.client import HubError, endpoint_from_env, problem_from_exception
from openaudit.model import ModelRef


def listed_refs(
    *,
    endpoint: str | None,
    author: str | None,
    search: str | None,
    filters: Sequence[str],
    revision: str | None = None,
    timeout: float = 20.0,
) -> list[ModelRef]:
    """Every model the Hub lists for these criteria, in the Hub's order (paged by the client)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=(endpoint or endpoint_from_env()).rstrip("/"))
    what = " ".join(f"{k}={v}" for k, v in (("author", author), ("search", search)) if v) + "".join(
        f" filter={f}" for f in filters
    )
    origin = f"listing {what.strip()}"
    try:
        return [
            ModelRef(m.id, revision=revision, origin=origin)
            for m in api.list_models(
                author=author or None, search=search or None, filter=list(filters) or None
            )
        ]
    except Exception as exc:  # the listing failed: say which, never a traceback
        raise HubError(problem_from_exception(origin, exc)) from None
