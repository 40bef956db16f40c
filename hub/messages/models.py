"""The message store: one row per accepted canonical message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigIntegerPK, UTCDateTime


class Message(Base):
    """An accepted CloudEvent.

    ``seq`` orders the feed: it only grows, and is assigned in commit order (see
    :mod:`hub.messages.store`), so a consumer that remembers the last ``seq`` it saw misses
    nothing. ``key`` is the public, opaque identifier.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_messages_type_seq", "type", "seq"),
        Index("ix_messages_subject_seq", "subject", "seq"),
        Index("ix_messages_source_seq", "source", "seq"),
        Index("ix_messages_correlation_id_seq", "correlation_id", "seq"),
        Index("ix_messages_accepted_at", "accepted_at"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(512))
    event_id: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(64))
    contract_version: Mapped[str] = mapped_column(String(16))
    dataschema: Mapped[str] = mapped_column(String(256))
    subject: Mapped[str | None] = mapped_column(String(256))
    time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(256))
    causation_id: Mapped[str | None] = mapped_column(String(256))
    traceparent: Mapped[str | None] = mapped_column(String(64))
    # The whole event as canonical JSON (sorted keys), exactly as it was accepted.
    event: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str | None] = mapped_column(String(32))
