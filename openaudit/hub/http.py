"""One bounded GET to the Hub, through huggingface_hub's own HTTP session.

huggingface_hub's download and metadata calls retry by themselves (up to 7 requests and
23 s of sleep for one file, none at all for `model_info`) and bound only each socket
read, so a trickled body or a lying Content-Length is not bounded in time or size.
The audit therefore sends its own GETs on the client's session (same headers, token
handling, offline switch and error mapping through `hf_raise_for_status`) and
bounds each one: a deadline for the whole answer, body included, and a byte limit
whatever the server claims. Retrying is `retry.Retrier`'s job, once per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from openaudit.hub.retry import DeadlineExceeded, Transient, current_deadline

#: Error bodies are read up to this size for their message.
_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: The body was longer than the limit and was cut there.
    truncated: bool
    url: str


class ReadTimeout(Transient):
    def __init__(self, detail: str) -> None:
        super().__init__("timeout", detail)


def get(url: str, *, timeout: float, limit: int, token: bool = True) -> Answer:
    """GET `url` on the Hub's session; raises huggingface_hub's errors for 4xx/5xx.

    The whole answer must arrive within `timeout` (and the current deadline); at most
    `limit` bytes are read, and `truncated` says whether more were there.
    """
    import httpx2
    from huggingface_hub import get_session
    from huggingface_hub.utils._headers import build_hf_headers
    from huggingface_hub.utils._http import hf_raise_for_status

    d = current_deadline()
    budget = d.cut(timeout)
    end = time.monotonic() + budget
    headers = build_hf_headers() if token else build_hf_headers(token=False)
    try:
        with get_session().stream(
            "GET", url, headers=headers, timeout=httpx2.Timeout(budget)
        ) as response:
            if response.status_code >= 400:
                body = _read(response, _ERROR_BODY, end)[0]
                copy = httpx2.Response(
                    response.status_code,
                    headers=response.headers,
                    content=body,
                    request=response.request,
                )
                hf_raise_for_status(copy)
            hf_raise_for_status(response)  # 2xx: only its X-HF-Warning lines (see hub.hublog)
            body, truncated = _read(response, limit, end)
            return Answer(
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                body,
                truncated,
                str(response.url),
            )
    except (ReadTimeout, DeadlineExceeded):
        raise
    except httpx2.TimeoutException as exc:
        raise ReadTimeout(f"no answer within {budget:.1f} s") from exc


def _read(response: Any, limit: int, end: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > end:
            raise ReadTimeout("the answer did not arrive in time (slow body)")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False
