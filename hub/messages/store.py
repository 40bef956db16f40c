"""Storing accepted messages: idempotent on ``source`` + ``id``, in feed order.

:func:`store_batch` is the single writer of the ``messages`` table. It runs inside the
caller's transaction, so later steps (the outbox of deliveries) join the same commit.

Feed order: on PostgreSQL, concurrent transactions could commit sequence numbers out of
order, and a consumer reading ``seq > cursor`` would then skip a row that commits late.
A transaction-scoped advisory lock serialises message inserts, so ``seq`` order is commit
order. Group commit makes that cheap: one lock per batch, not per message. SQLite has a
single writer anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from hub.contracts.registry import ContractVersion
from hub.messages.models import Message
from hub.store.identifiers import new_id
from hub.timestamps import parse_rfc3339, utcnow

_PG_MESSAGE_LOCK = 0x4D534753  # "MSGS"


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A checked event, serialised and hashed, ready for :func:`store_batch`."""

    source: str
    event_id: str
    content_hash: str
    canonical_json: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one prepared message: ``accepted``, ``duplicate`` or ``conflict``."""

    status: str
    key: str
    accepted_at: datetime


def prepare(
    event: dict[str, Any], contract: ContractVersion, client_id: str | None
) -> PreparedMessage:
    canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    content_hash = hashlib.sha256(canonical).hexdigest()
    text = canonical.decode()
    row = {
        "source": event["source"],
        "event_id": event["id"],
        "type": event["type"],
        "family": contract.family,
        "contract_version": contract.version,
        "dataschema": event["dataschema"],
        "subject": event.get("subject"),
        "time": parse_rfc3339(event["time"]) if "time" in event else None,
        "correlation_id": event.get("correlationid"),
        "causation_id": event.get("causationid"),
        "traceparent": event.get("traceparent"),
        "event": text,
        "content_hash": content_hash,
        "client_id": client_id,
    }
    return PreparedMessage(event["source"], event["id"], content_hash, text, row)


def store_batch(session: Session, batch: Sequence[PreparedMessage]) -> list[Outcome]:
    """Insert what is new, and say for each item whether it was new, a repeat or a conflict."""
    if not batch:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(_pg_lock()))
    keys = {(p.source, p.event_id) for p in batch}
    existing: dict[tuple[str, str], tuple[str, str, datetime]] = {}
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        chunk = key_list[start : start + 500]
        rows = session.execute(
            select(
                Message.source,
                Message.event_id,
                Message.key,
                Message.content_hash,
                Message.accepted_at,
            ).where(tuple_(Message.source, Message.event_id).in_(chunk))
        )
        for source, event_id, key, content_hash, original_at in rows:
            existing[(source, event_id)] = (key, content_hash, original_at)

    accepted_at = utcnow()
    outcomes: list[Outcome] = []
    new_rows: list[dict[str, Any]] = []
    for item in batch:
        idem = (item.source, item.event_id)
        seen = existing.get(idem)
        if seen is not None:
            key, content_hash, original_at = seen
            status = "duplicate" if content_hash == item.content_hash else "conflict"
            outcomes.append(Outcome(status, key, original_at))
            continue
        key = new_id("msg")
        new_rows.append({**item.row, "key": key, "accepted_at": accepted_at})
        existing[idem] = (key, item.content_hash, accepted_at)
        outcomes.append(Outcome("accepted", key, accepted_at))
    if new_rows:
        session.execute(insert(Message), new_rows)
    return outcomes


def _pg_lock() -> Any:
    return func.pg_advisory_xact_lock(_PG_MESSAGE_LOCK)
