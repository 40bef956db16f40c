"""The outbound half of the SDK: what the hub hands a connector, and what comes back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx

from connectors.sdk.network import OutboundAddressRefused
from connectors.sdk.redaction import credentials_in, scrub, scrub_optional

BODY_EXCERPT_BYTES = 2048
_KEPT_HEADERS = ("content-type", "retry-after", "x-request-id", "location", "date")


class OutcomeKind(StrEnum):
    """What happened, as the connector saw it. The hub classifies it (retry, dead letter)."""

    DELIVERED = "delivered"
    HTTP_ERROR = "http_error"
    CONNECTION_ERROR = "connection_error"
    TIMEOUT = "timeout"
    MAPPING_ERROR = "mapping_error"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    """The target changed under us (a compare-and-set lost): try again with fresh state."""


@dataclass(frozen=True)
class OutboundMessage:
    """One delivery to send.

    ``event`` is the canonical CloudEvent (a JSON object). ``payload`` is what the route's
    mapping made of it (the target system's own shape), or ``None`` when the route has no
    mapping. ``delivery_id`` is the same on every attempt of this delivery; ``message_key``
    is the same for every route the message takes: a target dedupes on it.
    """

    delivery_id: int
    message_key: str
    attempt: int
    route: str
    event: Mapping[str, Any]
    payload: Any = None


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt produced. Build it with the class methods."""

    kind: OutcomeKind
    status_code: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body_excerpt: str | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.kind is OutcomeKind.DELIVERED

    @classmethod
    def ok(cls, status_code: int | None = None) -> SendOutcome:
        return cls(OutcomeKind.DELIVERED, status_code=status_code)

    @classmethod
    def from_response(cls, response: httpx.Response) -> SendOutcome:
        """2xx is delivered; anything else an HTTP error with status, headers and a body excerpt.

        A peer that echoes what it was sent must not put our credentials into a dead letter:
        the values of credential headers of the request (``Authorization``, ``X-…-Token``)
        are scrubbed from the excerpt and the kept headers.
        """
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        if 200 <= response.status_code < 300:
            return cls(OutcomeKind.DELIVERED, status_code=response.status_code, headers=headers)
        sent = _sent_credentials(response)
        return cls(
            OutcomeKind.HTTP_ERROR,
            status_code=response.status_code,
            headers={k: scrub(v, sent) for k, v in headers.items()},
            body_excerpt=scrub(
                response.content[:BODY_EXCERPT_BYTES].decode("utf-8", "replace"), sent
            ),
            error=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    @classmethod
    def from_exception(cls, exc: BaseException) -> SendOutcome:
        """Transport failures: timeouts and connection errors (both worth retrying).

        A destination the hub's outbound address policy refuses is ``rejected`` instead:
        nothing was sent, and trying again would be refused again.
        """
        if isinstance(exc, OutboundAddressRefused):
            return cls(OutcomeKind.REJECTED, error=str(exc)[:500])
        kind = (
            OutcomeKind.TIMEOUT
            if isinstance(exc, httpx.TimeoutException)
            else OutcomeKind.CONNECTION_ERROR
        )
        return cls(kind, error=f"{type(exc).__name__}: {exc}"[:500])

    def scrubbed(self, secrets: Iterable[str]) -> SendOutcome:
        """This outcome with every secret value removed from its texts and headers."""
        values = list(secrets)
        if not values:
            return self
        return replace(
            self,
            headers={k: scrub(v, values) for k, v in self.headers.items()},
            body_excerpt=scrub_optional(self.body_excerpt, values),
            error=scrub_optional(self.error, values),
        )

    @classmethod
    def mapping_error(cls, error: str) -> SendOutcome:
        return cls(OutcomeKind.MAPPING_ERROR, error=error[:500])

    @classmethod
    def rejected(cls, error: str) -> SendOutcome:
        """The target refused this delivery for good (the hub dead-letters it)."""
        return cls(OutcomeKind.REJECTED, error=error[:500])

    @classmethod
    def conflict(cls, error: str, retry_after: float | None = None) -> SendOutcome:
        """A compare-and-set lost to a newer change: the hub tries again later, from scratch."""
        return cls(OutcomeKind.CONFLICT, error=error[:500], retry_after=retry_after)


def _sent_credentials(response: httpx.Response) -> list[str]:
    try:
        request = response.request
    except RuntimeError:  # a response built by hand, without its request
        return []
    return credentials_in(request.headers)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
