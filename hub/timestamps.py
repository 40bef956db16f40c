"""Timestamps: always timezone-aware UTC inside the hub, RFC 3339 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 date-time; raises ``ValueError`` for impossible dates (2026-02-30)."""
    parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed.astimezone(UTC)
