"""Resources that clients refer to by id or by unique name (clients, connections, routes)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from hub.store.base import Base

N = TypeVar("N", bound=Base)


def find(session: Session, model: type[N], ref: str) -> N | None:
    """The row whose ``id`` or ``name`` is ``ref``."""
    columns = inspect(model).columns
    return session.scalar(select(model).where(or_(columns.id == ref, columns.name == ref)))


def page_by_name(session: Session, model: type[N], after: str | None, limit: int) -> list[N]:
    """Rows ordered by ``name``, after the name ``after`` (the list cursor)."""
    name = inspect(model).columns.name
    query = select(model).order_by(name).limit(limit)
    if after:
        query = query.where(name > after)
    return list(session.scalars(query))
