"""API clients and the instance secret their keys are hashed with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class Client(Base):
    """A caller of the API. Only a keyed hash of its key is stored."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A bound client acts only as, and sees only, this connection (docs/security.md).
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("connections.id"), index=True, default=None
    )
    # Its own rate limit in the `limits` notation; None: the hub's default.
    rate_limit: Mapped[str | None] = mapped_column(String(64), default=None)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class InstanceSecret(Base):
    """Named secrets generated once per installation and shared by every hub process."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
