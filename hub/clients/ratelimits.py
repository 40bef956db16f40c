"""Per-client rate limits: a moving window per client, kept in memory by each hub process.

Every authenticated request costs one ``hit`` on an in-memory limiter (no database work):
the client's limit travels with its cached :class:`~hub.clients.service.Principal`. A client
over its limit gets a 429 problem with the headers of the IETF draft *RateLimit header
fields for HTTP* (draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy`` (quota and
window) and ``RateLimit`` (remaining and seconds until a request is allowed again), plus
``Retry-After``.

With several hub processes each counts on its own, so a client can reach its limit once per
process; the limit protects each process, not an exact global quota.
"""

from __future__ import annotations

import math
import time

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hub.errors import RateLimited

POLICY_NAME = "client"


def check_rate_limit(value: str) -> str:
    """``value`` if it is one limit in the ``limits`` notation (``100/second``), else ValueError."""
    try:
        parsed = limits.parse_many(value)
    except ValueError:
        parsed = []
    if len(parsed) != 1 or parsed[0].amount < 1:
        raise ValueError(f"{value!r} is not a rate limit such as '1000/second' or '20000/minute'")
    return value


class ClientRateLimits:
    """The limiter of one hub process. ``admit`` is called once per authenticated request."""

    def __init__(self, default: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._default = limits.parse(check_rate_limit(default))
        self._items: dict[str, limits.RateLimitItem] = {}

    def _item(self, limit: str | None) -> limits.RateLimitItem:
        if limit is None:
            return self._default
        item = self._items.get(limit)
        if item is None:
            # Stored limits were checked when they were set; parse once per distinct text.
            item = self._items[limit] = limits.parse(limit)
        return item

    def admit(self, client_id: str, limit: str | None) -> None:
        """Count one request of ``client_id``; raise :class:`RateLimited` if over its limit
        (``limit`` is the client's own, ``None`` for the hub's default)."""
        item = self._item(limit)
        if self._limiter.hit(item, client_id):
            return
        reset_at, remaining = self._limiter.get_window_stats(item, client_id)
        wait = max(1, math.ceil(reset_at - time.time()))
        window = item.get_expiry()
        raise RateLimited(
            f"this client may send {item.amount} requests per {window} s; retry in {wait} s",
            extensions={"limit": item.amount, "window_seconds": window, "retry_after": wait},
            headers={
                "RateLimit-Policy": f'"{POLICY_NAME}";q={item.amount};w={window}',
                "RateLimit": f'"{POLICY_NAME}";r={max(0, remaining)};t={wait}',
                "Retry-After": str(wait),
            },
        )
