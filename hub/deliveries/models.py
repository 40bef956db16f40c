"""Deliveries (the outbox) and their attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigIntegerPK, UTCDateTime

CLAIMABLE_SQL = "status IN ('pending', 'in_flight')"
BLOCKING_SQL = "status IN ('pending', 'in_flight', 'dead')"


class Delivery(Base):
    """One message on its way along one route.

    ``status``: ``pending`` (waiting for ``next_attempt_at``), ``in_flight`` (claimed under
    a lease), ``delivered``, or ``dead`` (dead-lettered). Retry state lives here, in rows,
    so any process can pick up where a crashed one left off.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # Partial indexes of open rows: a claim's two look-ups (the oldest due delivery, an
        # earlier open one of its key) must not walk every delivery ever made. Queries
        # repeat these predicates word for word, so both databases use them. (An index on
        # status + next_attempt_at tempted PostgreSQL to read every pending row and sort.)
        Index(
            "ix_deliveries_claimable",
            "id",
            postgresql_where=text(CLAIMABLE_SQL),
            sqlite_where=text(CLAIMABLE_SQL),
        ),
        Index(
            "ix_deliveries_open_key_order",
            "route_id",
            "ordering_key",
            "id",
            postgresql_where=text(BLOCKING_SQL),
            sqlite_where=text(BLOCKING_SQL),
        ),
        Index("ix_deliveries_message_key", "message_key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    route_id: Mapped[str] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"))
    connection_id: Mapped[str] = mapped_column(String(32))
    message_key: Mapped[str] = mapped_column(String(32))
    ordering_key: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A replay of an edited dead letter sends this event instead of the stored message.
    event_override: Mapped[str | None] = mapped_column(Text)
    replay_of: Mapped[str | None] = mapped_column(String(32))


class DeliveryAttempt(Base):
    """One try at sending a delivery, with what came back."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery", "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(32))
    classification: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)
    retry_after: Mapped[float | None] = mapped_column(Float)
