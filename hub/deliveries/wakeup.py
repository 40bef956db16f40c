"""Waking delivery workers when a transaction makes deliveries due."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from hub.store.committer import AFTER_COMMIT

NOTIFY_CHANNEL = "crossdock_deliveries"


def notify(session: Session, wake: Iterable[Callable[[], None]]) -> None:
    """Wake workers once this transaction commits: this process's through ``wake``, and
    other processes' through ``NOTIFY`` on PostgreSQL (delivered only if it commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    session.info[AFTER_COMMIT].extend(wake)
