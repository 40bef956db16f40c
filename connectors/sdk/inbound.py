"""The inbound half of the SDK: requests pushed to the hub, and records pulled by polling.

A connector turns what its system sends into :class:`NativeRecord` objects: still in the
system's own shape. The hub then maps each record to a canonical message with a mapping
file (``mappings/``), validates it and accepts it. A connector never builds canonical
messages itself unless its peer already speaks them (kind :data:`CANONICAL`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from standardwebhooks.webhooks import Webhook

CANONICAL = "cloudevent"
"""The record kind of a payload that already is a canonical CloudEvent: no mapping needed."""


class NotSupported(Exception):
    """What a connector (or its test harness) does not do, asked of it anyway.

    The base class's defaults raise it: a connector that does not receive has no ``parse``,
    one that does not poll no ``poll``. The hub never calls them on such a connector; the
    conformance suite skips what a harness says it does not support.
    """


class VerificationFailed(Exception):
    """Raised by :meth:`Connector.verify` for a request that is not authentic.

    The hub answers 401 and stores nothing. Use it for a missing or wrong signature, a
    stale timestamp, an unknown sender. Never raise it for a payload you merely cannot
    parse: that payload is authentic and the hub keeps it as a dead letter.
    """


@dataclass(frozen=True)
class InboundRequest:
    """A request as the hub received it, before anything was trusted.

    ``headers`` has lower-case names. ``body`` is the raw bytes: verify signatures over it,
    never over a re-serialised form.
    """

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Verified:
    """What :meth:`Connector.verify` learned: the sender's id for this delivery, if it has one.

    The hub dedupes on ``delivery_id`` per connection: a sender that retries a delivery it
    already made (Shopify's ``X-Shopify-Webhook-Id``, Standard Webhooks' ``webhook-id``)
    gets the first answer back and nothing is stored twice.
    """

    delivery_id: str | None = None


@dataclass(frozen=True)
class NativeRecord:
    """One record in its system's own shape.

    ``kind`` names the shape (``orders/create``, ``856``, ``purchase.order``) and picks the
    mapping that turns it into a canonical message. ``data`` is JSON-like (dicts, lists,
    str, int, float, bool, None); keep integers as ``int``, never ``float``, so 64-bit ids
    survive. ``id`` is the record's identity at the source; it becomes the canonical
    message id when the mapping does not set one, which makes re-reading a record
    idempotent.
    """

    kind: str
    data: Any
    id: str | None = None


RecordFate = Literal["accepted", "duplicate", "dead_lettered"]
"""What became of one record once the hub stored it (see ``Connector.committed``)."""


@dataclass(frozen=True)
class PollResult:
    """One page of a poll: the records, and the cursor to pass next time.

    The hub stores ``next_cursor`` in the same transaction as the messages made from
    ``records``, so a crash never skips or repeats a page. ``more`` asks the hub to poll
    again at once instead of waiting for the next scheduled run.
    """

    records: Sequence[NativeRecord]
    next_cursor: str | None
    more: bool = False
    context: Any = None
    """Anything the connector wants back in ``Connector.committed`` (file paths, say)."""


@dataclass(frozen=True)
class CheckResult:
    """The answer of :meth:`Connector.check`: can the hub reach and use the system?"""

    ok: bool
    detail: str
    latency_ms: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


STANDARD_WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify_standard_webhook(
    request: InboundRequest, signer: Webhook, tolerance_seconds: int
) -> Verified:
    """Verify a request signed with Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``) by ``signer``'s secret; the delivery id is ``webhook-id``.

    The timestamp window is ``tolerance_seconds`` either way (the library's own is fixed at
    five minutes); signatures are compared in constant time. Raises
    :class:`VerificationFailed` saying what is wrong.
    """
    delivery, stamp, signature = (request.header(name) for name in STANDARD_WEBHOOK_HEADERS)
    if not (delivery and stamp and signature):
        raise VerificationFailed("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(stamp)
    except ValueError:
        raise VerificationFailed("webhook-timestamp is not a number") from None
    if abs(request.received_at.timestamp() - sent_at) > tolerance_seconds:
        raise VerificationFailed("webhook-timestamp is outside the allowed window")
    try:
        expected = signer.sign(
            delivery, datetime.fromtimestamp(sent_at, UTC), request.body.decode()
        )
    except UnicodeDecodeError:
        raise VerificationFailed("the body is not UTF-8") from None
    offered = [part for part in signature.split(" ") if part.startswith("v1,")]
    if not any(hmac.compare_digest(expected.encode(), part.encode()) for part in offered):
        raise VerificationFailed("no matching signature")
    return Verified(delivery_id=delivery)
