"""Timestamps: always timezone-aware UTC inside the hub, RFC 3339 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 date-time; raises ``ValueError`` for impossible dates (2026-02-30)."""
    parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 has no UTC equivalent
        raise ValueError("the time is out of the range of UTC times") from None


QueryTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A time in a query parameter: with a UTC offset (without one it is ambiguous: a 422),
converted to UTC."""
