"""Contract usage: one row per contract version, role and actor, with when it was last seen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class Role(StrEnum):
    """Producers send messages of a version; consumers receive or read them."""

    PRODUCER = "producer"
    CONSUMER = "consumer"


class ActorKind(StrEnum):
    """An API client (by its id) or a connection (by its id)."""

    CLIENT = "client"
    CONNECTION = "connection"


class ContractUsage(Base):
    """How often, and until when, one actor produced or consumed one contract version.

    Written only by :func:`hub.usage.service.write_usage`, from counts each hub process
    aggregates in memory and flushes every few seconds: an upsert that adds the counts and
    keeps the latest ``last_seen``, so several processes can flush into the same rows.
    """

    __tablename__ = "contract_usage"

    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(BigInteger)
