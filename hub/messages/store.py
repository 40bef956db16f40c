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
from hub.deliveries.store import NewMessage, Outbox
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
    event: dict[str, Any]
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
    return PreparedMessage(event["source"], event["id"], content_hash, event, row)


class MessageStore:
    """Stores messages and, through the outbox, their deliveries: one write operation."""

    def __init__(self, outbox: Outbox | None = None) -> None:
        self.outbox = outbox
        self.transactions = 0  # how many commits the accepted messages took
        self.accepted = 0

    def write(self, session: Session, batch: Sequence[PreparedMessage]) -> list[Outcome]:
        """The group-commit operation of ingest: messages and their deliveries, together."""
        outcomes, stored = store_batch(session, batch)
        self.transactions += 1
        self.accepted += len(stored)
        if self.outbox is not None and stored:
            self.outbox.enqueue(session, stored)
        return outcomes


def store_batch(
    session: Session, batch: Sequence[PreparedMessage]
) -> tuple[list[Outcome], list[NewMessage]]:
    """Insert what is new, and say for each item whether it was new, a repeat or a conflict."""
    if not batch:
        return [], []
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
    new_items: list[PreparedMessage] = []
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
        new_items.append(item)
        existing[idem] = (key, item.content_hash, accepted_at)
        outcomes.append(Outcome("accepted", key, accepted_at))
    if not new_rows:
        return outcomes, []
    inserted = session.execute(
        insert(Message).returning(Message.seq, sort_by_parameter_order=True), new_rows
    )
    stored = [
        NewMessage(seq, row["key"], item.event, accepted_at)
        for seq, row, item in zip(inserted.scalars(), new_rows, new_items, strict=True)
    ]
    return outcomes, stored


def _pg_lock() -> Any:
    return func.pg_advisory_xact_lock(_PG_MESSAGE_LOCK)
