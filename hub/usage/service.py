"""Recording contract usage cheaply, and reading it back.

Ingest is the hot path, so a message costs no database write here: :class:`UsageRecorder`
adds to a counter in memory, and a background task (:meth:`UsageRecorder.run`, started in
the process's lifespan) flushes the counters every ``usage_flush_seconds`` and once more at
shutdown, as one upsert through the group committer. A process that dies loses at most the
last interval's counts: usage is an owner's overview, not an audit trail.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.clients.models import Client
from hub.connections.models import Connection
from hub.contracts.lifecycle import Deprecation, deprecation_headers
from hub.contracts.registry import ContractFamily, ContractRegistry
from hub.messages.models import Message
from hub.store.committer import GroupCommitter
from hub.usage.models import ActorKind, ContractUsage, Role

logger = logging.getLogger(__name__)

USAGE: Table = ContractUsage.__table__  # type: ignore[assignment]
_KEY_COLUMNS = ("family", "version", "role", "actor_kind", "actor_id")
_ROWS_PER_STATEMENT = 1000  # 8 columns x 1000 stays under SQLite's 32,766 parameters

UsageKey = tuple[str, str, Role, ActorKind, str]


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Counts of one key over one flush interval."""

    family: str
    version: str
    role: Role
    actor_kind: ActorKind
    actor_id: str
    first_seen: datetime
    last_seen: datetime
    count: int

    @property
    def key(self) -> UsageKey:
        return (self.family, self.version, self.role, self.actor_kind, self.actor_id)


class UsageRecorder:
    """Counts, per contract version, role and actor, what one hub process has seen.

    Thread-safe: the event loop (API), the committer thread (inbound records) and the
    threads of synchronous endpoints (the feed) all record.
    """

    def __init__(self, registry: ContractRegistry, flush_seconds: float = 5.0) -> None:
        self.registry = registry
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        # key -> [count, first seen, last seen], times as Unix seconds
        self._pending: dict[UsageKey, list[float]] = {}

    def record(
        self,
        family: str,
        version: str,
        role: Role,
        actor_kind: ActorKind,
        actor_id: str,
        count: int = 1,
    ) -> Deprecation | None:
        """Count ``count`` messages; answer the version's deprecation, if it has one."""
        now = time.time()
        key = (family, version, role, actor_kind, actor_id)
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = [count, now, now]
            else:
                entry[0] += count
                entry[2] = now
        contract = self.registry.get(family, version)
        return contract.deprecation if contract is not None else None

    def record_dataschema(
        self, dataschema: Any, role: Role, actor_kind: ActorKind, actor_id: str, count: int = 1
    ) -> Deprecation | None:
        """:meth:`record` messages by their ``dataschema``; unknown ones are not counted."""
        contract = self.registry.by_dataschema(dataschema) if isinstance(dataschema, str) else None
        if contract is None:
            return None
        return self.record(contract.family, contract.version, role, actor_kind, actor_id, count)

    def drain(self) -> list[UsageRow]:
        """Take every pending count; the next ones start from zero."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return [
            UsageRow(*key, _utc(first), _utc(last), int(count))
            for key, (count, first, last) in sorted(pending.items())
        ]

    def restore(self, rows: Sequence[UsageRow]) -> None:
        """Put back counts a failed flush could not write, to go with the next flush."""
        with self._lock:
            for row in rows:
                entry = self._pending.setdefault(
                    row.key, [0, row.first_seen.timestamp(), row.last_seen.timestamp()]
                )
                entry[0] += row.count
                entry[1] = min(entry[1], row.first_seen.timestamp())
                entry[2] = max(entry[2], row.last_seen.timestamp())

    async def flush(self, committer: GroupCommitter) -> int:
        """Write the pending counts; answer how many rows. On failure they wait for the next."""
        rows = self.drain()
        if not rows:
            return 0
        try:
            await committer.submit(write_usage, rows)
        except Exception:
            logger.exception("flushing contract usage failed; retrying at the next flush")
            self.restore(rows)
            return 0
        self._log_deprecated(rows)
        return len(rows)

    async def run(self, committer: GroupCommitter) -> None:
        """Flush every ``flush_seconds`` until cancelled. Whoever cancels it (the process
        shutting down) calls :meth:`flush` once more, before the committer stops."""
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush(committer)

    def _log_deprecated(self, rows: Sequence[UsageRow]) -> None:
        # Logged per flush rather than per message: one line per user of a deprecated
        # version every few seconds says the same, without flooding the log.
        for row in rows:
            contract = self.registry.get(row.family, row.version)
            deprecation = contract.deprecation if contract is not None else None
            if deprecation is None:
                continue
            logger.warning(
                "deprecated contract version in use: %s",
                deprecation.advice(),
                extra={
                    "family": row.family,
                    "version": row.version,
                    "sunset": deprecation.sunset.isoformat(),
                    "role": row.role.value,
                    "actor_kind": row.actor_kind.value,
                    "actor_id": row.actor_id,
                    "count": row.count,
                },
            )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def write_usage(session: Session, rows: Sequence[UsageRow]) -> list[None]:
    """The group-commit operation of a flush: add the counts, keep the widest time span.

    Rows are written in key order, so that processes flushing the same keys at the same
    time on PostgreSQL lock them in the same order and cannot deadlock.
    """
    merged: dict[UsageKey, UsageRow] = {}
    for row in rows:
        seen = merged.get(row.key)
        merged[row.key] = (
            row
            if seen is None
            else UsageRow(
                *row.key,
                min(seen.first_seen, row.first_seen),
                max(seen.last_seen, row.last_seen),
                seen.count + row.count,
            )
        )
    ordered = [merged[key] for key in sorted(merged)]
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    latest, earliest = (func.greatest, func.least) if postgres else (func.max, func.min)
    for start in range(0, len(ordered), _ROWS_PER_STATEMENT):
        chunk = ordered[start : start + _ROWS_PER_STATEMENT]
        statement = insert(USAGE).values(
            [
                {
                    "family": r.family,
                    "version": r.version,
                    "role": r.role.value,
                    "actor_kind": r.actor_kind.value,
                    "actor_id": r.actor_id,
                    "first_seen": r.first_seen,
                    "last_seen": r.last_seen,
                    "count": r.count,
                }
                for r in chunk
            ]
        )
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=list(_KEY_COLUMNS),
                set_={
                    "count": USAGE.c.count + excluded.count,
                    "first_seen": earliest(USAGE.c.first_seen, excluded.first_seen),
                    "last_seen": latest(USAGE.c.last_seen, excluded.last_seen),
                },
            )
        )
    return [None] * len(rows)


# -- reading ------------------------------------------------------------------------------


def family_usage(
    session: Session, family: ContractFamily, version: str | None = None
) -> dict[str, Any]:
    """Every version of ``family`` (or just ``version``) with its producers and consumers,
    most recently seen first. Versions nobody used are listed too, with empty lists."""
    query = select(ContractUsage).where(ContractUsage.family == family.name)
    if version is not None:
        query = query.where(ContractUsage.version == version)
    rows = list(session.scalars(query.order_by(ContractUsage.last_seen.desc())))
    names = _actor_names(session, rows)
    versions = [v for v in family.versions.values() if version in (None, v.version)]
    answer: list[dict[str, Any]] = []
    for known in versions:
        entry: dict[str, Any] = {
            "version": known.version,
            "dataschema": known.dataschema,
            "lifecycle": known.lifecycle.value,
            "sunset": known.deprecation.sunset if known.deprecation else None,
            "producers": [],
            "consumers": [],
        }
        for row in rows:
            if row.version != known.version:
                continue
            entry["producers" if row.role == Role.PRODUCER else "consumers"].append(
                {
                    "actor": {
                        "kind": row.actor_kind,
                        "id": row.actor_id,
                        "name": names.get((row.actor_kind, row.actor_id)),
                    },
                    "first_seen": row.first_seen,
                    "last_seen": row.last_seen,
                    "count": row.count,
                }
            )
        answer.append(entry)
    return {"family": family.name, "versions": answer}


def _actor_names(session: Session, rows: Sequence[ContractUsage]) -> dict[tuple[str, str], str]:
    """Current names of the clients and connections in ``rows``; deleted ones have none."""
    names: dict[tuple[str, str], str] = {}
    for kind, model in ((ActorKind.CLIENT, Client), (ActorKind.CONNECTION, Connection)):
        ids = sorted({r.actor_id for r in rows if r.actor_kind == kind})
        for start in range(0, len(ids), 500):
            found = session.execute(
                select(model.id, model.name).where(model.id.in_(ids[start : start + 500]))
            )
            names.update({(kind.value, actor_id): name for actor_id, name in found})
    return names


# -- at the API ----------------------------------------------------------------------------


def read_by_client(
    usage: UsageRecorder, client_id: str, messages: Sequence[Message], views: list[dict[str, Any]]
) -> dict[str, str]:
    """Count ``messages`` as read by a client (one count per message); add a warning to the
    view of each one of a deprecated version; answer the response's deprecation headers."""
    counts = Counter((m.family, m.contract_version) for m in messages)
    deprecated: dict[tuple[str, str], Deprecation] = {}
    for (family, version), count in counts.items():
        found = usage.record(family, version, Role.CONSUMER, ActorKind.CLIENT, client_id, count)
        if found is not None:
            deprecated[(family, version)] = found
    if deprecated:
        for message, view in zip(messages, views, strict=True):
            found = deprecated.get((message.family, message.contract_version))
            if found is not None:
                view["warnings"] = [found.warning()]
    return deprecation_headers(deprecated.values())
