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
from hub.store.identifiers import new_ids
from hub.timestamps import utcnow

_PG_MESSAGE_LOCK = 0x4D534753  # "MSGS"
MESSAGES: Table = Message.__table__  # type: ignore[assignment]


# The columns a prepared message fills, in the order of ``PreparedMessage.values``; the
# store adds ``key`` and ``accepted_at`` when it writes the batch.
PREPARED_COLUMNS = (
    "source",
    "event_id",
    "type",
    "family",
    "contract_version",
    "dataschema",
    "subject",
    "time",
    "correlation_id",
    "causation_id",
    "traceparent",
    "event",
    "content_hash",
    "client_id",
)
_TIME = PREPARED_COLUMNS.index("time")


@dataclass(slots=True)  # not frozen: made once per message, and frozen inits cost 2.5x
class PreparedMessage:
    """A checked event, serialised and hashed, ready for :func:`store_batch`."""

    source: str
    event_id: str
    type: str
    family: str
    contract_version: str
    content_hash: str
    event: dict[str, Any]
    values: tuple[Any, ...]
    """The row's values in ``PREPARED_COLUMNS`` order, as Python values."""
    size: int
    """Bytes of the serialised event, for the contract's size limit."""


@dataclass(slots=True)  # not frozen: made once per message, and frozen inits cost 2.5x
class Outcome:
    """What happened to one prepared message: ``accepted``, ``duplicate`` or ``conflict``."""

    status: str
    key: str
    accepted_at: datetime


def prepare(
    event: dict[str, Any],
    contract: ContractVersion,
    client_id: str | None,
    time: datetime | None,
) -> PreparedMessage:
    """``event``, checked against ``contract``, ready to store; ``time`` as the check parsed it."""
    canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    content_hash = hashlib.sha256(canonical).hexdigest()
    source, event_id, event_type = event["source"], event["id"], event["type"]
    values = (
        source,
        event_id,
        event_type,
        contract.family,
        contract.version,
        event["dataschema"],
        event.get("subject"),
        time,
        event.get("correlationid"),
        event.get("causationid"),
        event.get("traceparent"),
        canonical.decode(),
        content_hash,
        client_id,
    )
    return PreparedMessage(
        source,
        event_id,
        event_type,
        contract.family,
        contract.version,
        content_hash,
        event,
        values,
        len(canonical),
    )


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
    candidates: list[PreparedMessage] = []
    for item in batch:
        idem = (item.source, item.event_id)
        if idem not in first_of:  # a repeat within the batch is judged against its first
            first_of[idem] = len(candidates)
            candidates.append(item)
    keys = new_ids("msg", len(candidates))
    inserted = _insert_new(connection, candidates, keys, accepted_at)
    if inserted == len(batch):  # all new, no repeats: every item is its own first
        pairs = zip(batch, keys, strict=True)
        return (
            [Outcome("accepted", key, accepted_at) for key in keys],
            [NewMessage(key, item.event, accepted_at) for item, key in pairs],
        )
    stored_rows = {
        (item.source, item.event_id): (key, item.content_hash, accepted_at)
        for item, key in zip(candidates, keys, strict=True)
    }
    if inserted != len(candidates):
        stored_rows.update(_existing(connection, candidates))
    outcomes: list[Outcome] = []
    stored: list[NewMessage] = []
    for item in batch:
        idem = (item.source, item.event_id)
        key, content_hash, at = stored_rows[idem]
        first = first_of[idem]
        if key == keys[first] and item is candidates[first]:
            outcomes.append(Outcome("accepted", key, at))
            stored.append(NewMessage(key, item.event, at))
        else:
            status = "duplicate" if content_hash == item.content_hash else "conflict"
            outcomes.append(Outcome(status, key, at))
    return outcomes, stored


_COLUMNS = ("key", "accepted_at", *PREPARED_COLUMNS)
if set(_COLUMNS) != {c.name for c in MESSAGES.columns} - {"seq"}:
    # A column added to the model must be filled here too, not left out of every insert.
    raise RuntimeError("PREPARED_COLUMNS no longer matches the messages table")
_ROWS_PER_STATEMENT = 500  # 16 columns x 500 stays under SQLite's 32,766 parameters


def _insert_new(
    connection: Connection,
    items: Sequence[PreparedMessage],
    keys: Sequence[str],
    accepted_at: datetime,
) -> int:
    """Insert the items whose ``source`` + ``id`` are new; return how many were inserted.

    One statement per batch (per 500 rows on SQLite), never executemany: on SQLite it would
    step once per row, dropping and retaking the GIL each time, and under load every retake
    waits for the event loop thread; on PostgreSQL its rowcount is not the total.
    """
    if connection.dialect.name == "postgresql":
        return _insert_new_postgresql(connection, items, keys, accepted_at)
    to_time = MESSAGES.c.time.type._cached_bind_processor(connection.dialect)
    to_accepted_at = MESSAGES.c.accepted_at.type._cached_bind_processor(connection.dialect)
    at = to_accepted_at(accepted_at) if to_accepted_at is not None else accepted_at
    inserted = 0
    # Flat parameter tuples: only the two timestamps need the dialect's conversion, and the
    # acceptance time is converted once.
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        chunk = items[start : start + _ROWS_PER_STATEMENT]
        params: list[Any] = []
        for item, key in zip(chunk, keys[start : start + _ROWS_PER_STATEMENT], strict=True):
            params.append(key)
            params.append(at)
            params.extend(item.values)
            time = item.values[_TIME]
            if time is not None and to_time is not None:
                params[len(params) - len(PREPARED_COLUMNS) + _TIME] = to_time(time)
        result = connection.exec_driver_sql(_multi_row_sql(len(chunk)), tuple(params))
        inserted += int(result.rowcount)
    return inserted


def _insert_new_postgresql(
    connection: Connection,
    items: Sequence[PreparedMessage],
    keys: Sequence[str],
    accepted_at: datetime,
) -> int:
    # One array per column, unnested: a short statement with 16 parameters. A multi-row
    # VALUES list of 8,000 placeholders is longer than psycopg caches, so it parsed the
    # query text anew for every batch (a third of the process's time in _split_query).
    # The values are aware UTC datetimes and strings already: no conversion is needed.
    columns = [list(column) for column in zip(*(item.values for item in items), strict=True)]
    result = connection.exec_driver_sql(_UNNEST_SQL, (accepted_at, list(keys), *columns))
    return int(result.rowcount)


# %b: arrays travel in PostgreSQL's binary format; the text format escapes every quote of
# every event's JSON in Python.
_UNNEST_SQL = (
    f"INSERT INTO messages ({', '.join(_COLUMNS)}) "
    f"SELECT key, %b::timestamptz, {', '.join(PREPARED_COLUMNS)} "
    "FROM unnest(%b::text[], "
    + ", ".join(
        "%b::timestamptz[]" if name == "time" else "%b::text[]" for name in PREPARED_COLUMNS
    )
    + f") WITH ORDINALITY AS batch (key, {', '.join(PREPARED_COLUMNS)}, position) "
    "ORDER BY position "  # feed order within the batch: the order it was given in
    "ON CONFLICT (source, event_id) DO NOTHING"
)


@lru_cache(maxsize=128)
def _multi_row_sql(count: int) -> str:
    # SQLite's placeholders (PostgreSQL takes _UNNEST_SQL).
    group = "(" + ", ".join(["?"] * len(_COLUMNS)) + ")"
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
