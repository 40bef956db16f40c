"""Routes: subscriptions of a connection to message types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class Route(Base):
    __tablename__ = "routes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id"))
    # JSON list of type patterns: "receipt.received", "receipt.*", "*".
    types: Mapped[str] = mapped_column(Text)
    filter: Mapped[str | None] = mapped_column(Text)
    ordering_key: Mapped[str] = mapped_column(String(256))
    max_attempts: Mapped[int] = mapped_column(Integer)
    initial_delay: Mapped[float] = mapped_column(Float)
    multiplier: Mapped[float] = mapped_column(Float)
    max_delay: Mapped[float] = mapped_column(Float)
    jitter: Mapped[float] = mapped_column(Float)
    max_age_seconds: Mapped[float] = mapped_column(Float)
    on_dead_letter: Mapped[str] = mapped_column(String(8))
    # A mapping (name in mappings/) from the canonical message to the target's own shape.
    mapping: Mapped[str | None] = mapped_column(String(128))
    # JSON object of contract version pins, {"reservation": "1"}; NULL when there are none,
    # so the worker can skip conversion for unpinned routes with one test.
    contract_versions: Mapped[str | None] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
