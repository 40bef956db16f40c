"""``Connector.state`` kept in the hub's database, shared by every hub process.

Writes go through the group committer (one writer per process; on SQLite the only one),
reads through a read-only session. ``next_number`` locks its row (``FOR UPDATE`` on
PostgreSQL; SQLite has one writer), so two processes never draw the same number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from connectors.sdk import ConnectorState, SequenceExhausted
from connectors.sdk.state import checked_key
from hub.connections.models import ConnectionStateEntry
from hub.store.committer import GroupCommitter
from hub.timestamps import utcnow


@dataclass(frozen=True)
class _Put:
    connection_id: str
    key: str
    value: Any  # None deletes


@dataclass(frozen=True)
class _Draw:
    connection_id: str
    key: str
    start: int
    limit: int | None


def _upsert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def put_values(session: Session, puts: Sequence[_Put]) -> list[None]:
    now = utcnow()
    for put in puts:
        where = (
            ConnectionStateEntry.connection_id == put.connection_id,
            ConnectionStateEntry.key == put.key,
        )
        if put.value is None:
            session.execute(delete(ConnectionStateEntry).where(*where))
            continue
        statement = _upsert(session)(ConnectionStateEntry).values(
            connection_id=put.connection_id,
            key=put.key,
            value=orjson.dumps(put.value).decode(),
            updated_at=now,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["connection_id", "key"],
                set_={"value": statement.excluded.value, "updated_at": now},
            )
        )
    return [None] * len(puts)


def draw_numbers(session: Session, draws: Sequence[_Draw]) -> list[int | SequenceExhausted]:
    now = utcnow()
    numbers: list[int | SequenceExhausted] = []
    for draw in draws:
        session.execute(
            _upsert(session)(ConnectionStateEntry)
            .values(
                connection_id=draw.connection_id,
                key=draw.key,
                value=str(draw.start - 1),
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        row = session.scalars(
            select(ConnectionStateEntry)
            .where(
                ConnectionStateEntry.connection_id == draw.connection_id,
                ConnectionStateEntry.key == draw.key,
            )
            .with_for_update()
        ).one()
        number = int(orjson.loads(row.value)) + 1
        if draw.limit is not None and number > draw.limit:
            # Answered, not raised: one exhausted sequence must not fail its neighbours.
            numbers.append(SequenceExhausted(f"sequence {draw.key!r} passed {draw.limit}"))
            continue
        row.value, row.updated_at = str(number), now
        numbers.append(number)
    return numbers


class DatabaseState(ConnectorState):
    """The state of one connection, in the ``connection_state`` table."""

    def __init__(
        self,
        connection_id: str,
        committer: GroupCommitter,
        read_sessions: sessionmaker[Session],
    ) -> None:
        self.connection_id = connection_id
        self.committer = committer
        self.read_sessions = read_sessions

    async def get(self, key: str) -> Any:
        return (await self._read(checked_key(key), exact=True)).get(key)

    async def scan(self, prefix: str) -> dict[str, Any]:
        return await self._read(prefix, exact=False)

    async def _read(self, key: str, *, exact: bool) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            column = ConnectionStateEntry.key
            with self.read_sessions() as session:
                rows = session.execute(
                    select(ConnectionStateEntry.key, ConnectionStateEntry.value).where(
                        ConnectionStateEntry.connection_id == self.connection_id,
                        column == key if exact else column.startswith(key, autoescape=True),
                    )
                )
                return {k: orjson.loads(v) for k, v in rows}

        return await asyncio.to_thread(read)

    async def put(self, key: str, value: Any) -> None:
        if value is None:
            raise ValueError("store a value; delete() forgets a key")
        orjson.dumps(value)  # refuse what is not JSON before it reaches the writer
        await self.committer.submit(put_values, [_Put(self.connection_id, checked_key(key), value)])

    async def delete(self, key: str) -> None:
        await self.committer.submit(put_values, [_Put(self.connection_id, checked_key(key), None)])

    async def next_number(self, sequence: str, *, start: int = 1, limit: int | None = None) -> int:
        key = checked_key(f"sequence:{sequence}")
        [number] = await self.committer.submit(
            draw_numbers, [_Draw(self.connection_id, key, start, limit)]
        )
        if isinstance(number, SequenceExhausted):
            raise number
        return number
