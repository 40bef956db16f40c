"""Connections and their circuit-breaker state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class Connection(Base):
    """A configured connector for one real system.

    ``config`` is plain JSON; ``secrets`` is encrypted JSON and never leaves the hub. The
    breaker columns are the durable circuit-breaker state, shared by every hub process.
    """

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    connector: Mapped[str] = mapped_column(String(64))
    config: Mapped[str] = mapped_column(Text)
    secrets: Mapped[str] = mapped_column(Text)
    concurrency: Mapped[int] = mapped_column(Integer)
    timeout_seconds: Mapped[float] = mapped_column(Float)
    breaker_threshold: Mapped[int] = mapped_column(Integer)
    breaker_cooldown_seconds: Mapped[float] = mapped_column(Float)
    breaker_state: Mapped[str] = mapped_column(String(16), default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # JSON object: native record kind -> mapping name, over the connector's defaults.
    mappings: Mapped[str] = mapped_column(Text, default="{}")
    # Polling: the schedule, the stored cursor, and a lease so one process polls at a time.
    poll_interval_seconds: Mapped[float | None] = mapped_column(Float)
    poll_cursor: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    poll_lease_owner: Mapped[str | None] = mapped_column(String(128))
    poll_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_poll_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConnectionStateEntry(Base):
    """One key of a connection's durable state (``Connector.state``): JSON text."""

    __tablename__ = "connection_state"

    connection_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
