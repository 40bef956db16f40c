"""Receipts of inbound deliveries: what the hub answered each one, for dedupe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigIntegerPK, UTCDateTime


class InboundReceipt(Base):
    """One verified inbound delivery, keyed by the sender's own delivery id.

    A sender that retries (because our answer got lost) finds its receipt and gets the same
    answer; nothing is stored twice. ``result`` is the JSON answer it got.
    """

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("connection_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[str] = mapped_column(Text)
