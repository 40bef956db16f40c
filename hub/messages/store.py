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
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import ARRAY, Connection, String, Table, any_, cast, func, literal, select
from sqlalchemy.orm import Session

from hub.contracts.registry import ContractVersion
from hub.deliveries.store import NewMessage, Outbox
from hub.messages.models import Message
from hub.store.identifiers import new_id
from hub.timestamps import parse_rfc3339, utcnow

_PG_MESSAGE_LOCK = 0x4D534753  # "MSGS"
MESSAGES: Table = Message.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A checked event, serialised and hashed, ready for :func:`store_batch`."""

    source: str
    event_id: str
    content_hash: str
    event: dict[str, Any]
    row: dict[str, Any]
    size: int
    """Bytes of the serialised event, for the contract's size limit."""


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
    return PreparedMessage(event["source"], event["id"], content_hash, event, row, len(canonical))


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
    """Insert what is new, and say for each item whether it was new, a repeat or a conflict.

    The common case (nothing seen before) costs one statement: an insert that skips rows
    whose ``source`` + ``id`` exist. Only when it stored fewer rows than it was given does a
    look-up find which ones were repeats, and of what.
    """
    if not batch:
        return [], []
    # Core statements on the session's connection: the ORM's bulk-insert machinery costs
    # more than the insert itself at these batch sizes.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(pg_message_lock()))
    accepted_at = utcnow()
    first_of: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    candidates: list[PreparedMessage] = []
    for item in batch:
        idem = (item.source, item.event_id)
        if idem not in first_of:  # a repeat within the batch is judged against its first
            first_of[idem] = len(rows)
            rows.append({**item.row, "key": new_id("msg"), "accepted_at": accepted_at})
            candidates.append(item)
    inserted = _insert_new(connection, rows)
    stored_rows = {
        (r["source"], r["event_id"]): (r["key"], r["content_hash"], accepted_at) for r in rows
    }
    if inserted != len(rows):
        stored_rows.update(_existing(connection, candidates))
    outcomes: list[Outcome] = []
    stored: list[NewMessage] = []
    for item in batch:
        idem = (item.source, item.event_id)
        key, content_hash, at = stored_rows[idem]
        row = rows[first_of[idem]]
        if key == row["key"] and item is candidates[first_of[idem]]:
            outcomes.append(Outcome("accepted", key, at))
            stored.append(NewMessage(key, item.event, at))
        else:
            status = "duplicate" if content_hash == item.content_hash else "conflict"
            outcomes.append(Outcome(status, key, at))
    return outcomes, stored


_COLUMNS = [c.name for c in MESSAGES.columns if c.name != "seq"]
_ROWS_PER_STATEMENT = 500  # 16 columns x 500 stays under SQLite's 32,766 parameters


def _insert_new(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose ``source`` + ``id`` are new; return how many were inserted.

    One multi-row statement per 500 rows, on both backends. On SQLite, executemany would
    step once per row, dropping and retaking the GIL each time, and under load every retake
    waits for the event loop thread. On PostgreSQL, executemany's rowcount is not the total,
    and one statement is one round trip.
    """
    processors = _bind_processors(connection)
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    inserted = 0
    # The batch's acceptance time is one object in every row: convert it once per column.
    done: dict[tuple[str, int], Any] = {}
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params: list[Any] = []
        for row in chunk:
            for name, process in processors:
                value = row.get(name)
                if process is None or value is None:
                    params.append(value)
                    continue
                memo = (name, id(value))
                if memo not in done:
                    done[memo] = process(value)
                params.append(done[memo])
        result = connection.exec_driver_sql(_multi_row_sql(len(chunk), placeholder), tuple(params))
        inserted += int(result.rowcount)
    return inserted


@lru_cache(maxsize=128)
def _multi_row_sql(count: int, placeholder: str) -> str:
    group = "(" + ", ".join([placeholder] * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES {', '.join([group] * count)} "
        "ON CONFLICT (source, event_id) DO NOTHING"
    )


def _event_id_in(connection: Connection, ids: list[str]) -> Any:
    if connection.dialect.name == "postgresql":
        # One array parameter: a prepared statement's generic plan still uses the index,
        # where a long IN list of parameters ends up scanning the table.
        return MESSAGES.c.event_id == any_(cast(literal(ids), ARRAY(String)))
    return MESSAGES.c.event_id.in_(ids)


def _bind_processors(connection: Connection) -> list[tuple[str, Any]]:
    dialect = connection.dialect
    return [(name, MESSAGES.c[name].type._cached_bind_processor(dialect)) for name in _COLUMNS]


def _existing(
    connection: Connection, items: Sequence[PreparedMessage]
) -> dict[tuple[str, str], tuple[str, str, datetime]]:
    """The stored key, hash and acceptance time of each item's ``source`` + ``id``."""
    # One query per source, `source = ? AND event_id IN (…)`: answered from the unique
    # index. (A row-value IN over both columns scans the table on SQLite.)
    ids_by_source: dict[str, set[str]] = {}
    for item in items:
        ids_by_source.setdefault(item.source, set()).add(item.event_id)
    found: dict[tuple[str, str], tuple[str, str, datetime]] = {}
    for source, id_set in ids_by_source.items():
        ids = list(id_set)
        for start in range(0, len(ids), 500):
            for event_id, key, content_hash, at in connection.execute(
                select(
                    MESSAGES.c.event_id,
                    MESSAGES.c.key,
                    MESSAGES.c.content_hash,
                    MESSAGES.c.accepted_at,
                ).where(
                    MESSAGES.c.source == source, _event_id_in(connection, ids[start : start + 500])
                )
            ):
                found[(source, event_id)] = (key, content_hash, at)
    return found


def pg_message_lock() -> Any:
    """The transaction-scoped advisory lock that orders message inserts on PostgreSQL."""
    return func.pg_advisory_xact_lock(_PG_MESSAGE_LOCK)
