"""Shopify webhooks as they arrive: the HMAC, the delivery headers, and order versions.

Shopify signs a webhook with the app's client secret: ``X-Shopify-Hmac-Sha256`` is the
base64 HMAC-SHA256 of the raw body. Nothing else is signed, so the delivery headers
(``X-Shopify-Webhook-Id``, ``X-Shopify-Triggered-At``, ``X-Shopify-Topic``) are trusted only
because the body is, and an order's own ``updated_at`` (inside the signed body) is what
decides whether a version is new.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TOPIC = "x-shopify-topic"
HMAC = "x-shopify-hmac-sha256"
WEBHOOK_ID = "x-shopify-webhook-id"
TRIGGERED_AT = "x-shopify-triggered-at"
SHOP_DOMAIN = "x-shopify-shop-domain"
API_VERSION = "x-shopify-api-version"
EVENT_ID = "x-shopify-event-id"

ORDERS_CREATE = "orders/create"
ORDERS_UPDATED = "orders/updated"
ORDERS_CANCELLED = "orders/cancelled"
ORDER_TOPICS = (ORDERS_CREATE, ORDERS_UPDATED, ORDERS_CANCELLED)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` of ``body``: base64 of its HMAC-SHA256."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_matches(secret: str, body: bytes, offered: str) -> bool:
    """Constant-time comparison of the offered header with the body's signature."""
    return hmac.compare_digest(signature(secret, body).encode(), offered.strip().encode())


def parse_instant(text: str) -> datetime:
    """An ISO 8601 time with its offset, as Shopify writes them, as an aware datetime.

    ``X-Shopify-Triggered-At`` carries nanoseconds (``…27.877041743Z``); Python keeps
    microseconds, which is precise enough to order deliveries.
    """
    value = text.strip()
    if "." in value:
        head, _, tail = value.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        value = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """An instant as RFC 3339 UTC text (``2026-03-14T09:15:04Z``), stable for ids and state."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, order=True)
class OrderVersion:
    """Which version of an order a webhook carries, in the order versions happen.

    ``updated_at`` first; at the same instant a cancellation comes after the create or
    update Shopify sends with it (rank 1 against 0), so a cancellation is never shadowed
    by an ``orders/updated`` of the same moment.
    """

    updated_at: datetime
    rank: int

    @classmethod
    def of(cls, topic: str, order: dict[str, Any]) -> OrderVersion:
        stamp = order.get("updated_at")
        if not isinstance(stamp, str):
            raise ValueError(f"a {topic} payload needs an updated_at")
        return cls(parse_instant(stamp), 1 if topic == ORDERS_CANCELLED else 0)

    def as_state(self) -> dict[str, Any]:
        return {"updated_at": utc_text(self.updated_at), "rank": self.rank}

    @classmethod
    def from_state(cls, value: Any) -> OrderVersion | None:
        if not isinstance(value, dict):
            return None
        return cls(parse_instant(value["updated_at"]), int(value["rank"]))


def order_state_key(order_id: int | str) -> str:
    """Where the newest version of an order that reached the hub is remembered."""
    return f"order:{order_id}"
