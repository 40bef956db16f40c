"""Dead letters: outbound (a delivery the hub stopped trying) and inbound (a verified
payload the hub could not turn into a valid canonical message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_status_created", "status", "created_at"),
        Index("ix_dead_letters_signature", "signature"),
        Index("ix_dead_letters_route", "route_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    # open → replayed | discarded
    status: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    route_id: Mapped[str | None] = mapped_column(String(32))
    connection_id: Mapped[str | None] = mapped_column(String(32))
    message_key: Mapped[str | None] = mapped_column(String(32))
    message_type: Mapped[str | None] = mapped_column(String(128))
    ordering_key: Mapped[str | None] = mapped_column(String(256))
    # permanent | attempts_exhausted | max_age
    reason: Mapped[str] = mapped_column(String(32))
    error_class: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_headers: Mapped[str | None] = mapped_column(Text)
    last_body: Mapped[str | None] = mapped_column(Text)
    edited_event: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    replay_delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    # Inbound only: the verified request as it came (kept whole, so a replay can parse it
    # again), the sender's delivery id, and the native record that failed, if parsing got
    # that far (JSON: {"kind", "id", "data"}).
    raw_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_headers: Mapped[str | None] = mapped_column(Text)
    source_delivery_id: Mapped[str | None] = mapped_column(String(256))
    record: Mapped[str | None] = mapped_column(Text)
    replay_message_key: Mapped[str | None] = mapped_column(String(32))
