"""Writing and reading the audit log. Entries are only ever appended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.timestamps import utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts: an API client, or the hub itself (``system``) for automatic actions."""

    id: str | None
    name: str


SYSTEM = Actor(None, "system")
"""The hub itself: what it does at start (policy and mapping loads, the first admin client)
and on its own (the end of a bulk job)."""
CLI = Actor(None, "cli")
"""Whoever runs ``crossdock`` commands on the hub's database: the command line holds no key,
so the log can only say that the change came from it."""


def _json(value: Any) -> str | None:
    return (
        None
        if value is None
        else orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    *,
    before: Any = None,
    after: Any = None,
    detail: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the action and its audit commit together."""
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=_json(before),
        after=_json(after),
        detail=detail,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What to list. ``action`` is a name (``client.update``) or a prefix ending in ``.*``
    (``deadletter.*``); ``actor`` is a client's name or id (``cli``, ``system``)."""

    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def page(session: Session, filters: AuditFilter, after_id: int, limit: int) -> list[AuditEntry]:
    """Entries after the id ``after_id`` matching ``filters``, oldest first."""
    query = select(AuditEntry).where(AuditEntry.id > after_id)
    if filters.action:
        if filters.action.endswith(".*"):
            # Escaped: action names hold `_`, which LIKE would read as "any character".
            query = query.where(AuditEntry.action.startswith(filters.action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == filters.action)
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEntry.target_id == filters.target_id)
    if filters.actor:
        query = query.where(
            or_(AuditEntry.actor_name == filters.actor, AuditEntry.actor_id == filters.actor)
        )
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at < filters.until)
    return list(session.scalars(query.order_by(AuditEntry.id).limit(limit)))


def view(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API and the command line show it."""
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": {"id": entry.actor_id, "name": entry.actor_name},
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id},
        "before": orjson.loads(entry.before) if entry.before else None,
        "after": orjson.loads(entry.after) if entry.after else None,
        "detail": entry.detail,
    }
