"""Polling: pull-based sources, on a schedule, one process per connection at a time.

APScheduler keeps one interval job per polling connection in each hub process (and
re-reads the connections every few seconds, so schedules follow API changes). The
database decides who actually polls: a run first claims the connection's poll lease, and
only when the lease is free and ``next_poll_at`` has come. So with several processes,
each connection is polled once per interval, by one of them; a crashed poller's lease
expires and another takes over.

Each page is stored with its next cursor in one transaction (the inbound pipeline's
write), so a crash between pages repeats nothing and skips nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.connections.models import Connection
from hub.inbound.service import InboundPipeline, InboundWrite
from hub.store.committer import GroupCommitter
from hub.timestamps import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollReport:
    """What one run did. ``claimed`` is false when another process had it, or it was not due."""

    connection_id: str
    claimed: bool
    pages: int = 0
    records: int = 0
    accepted: int = 0
    dead_lettered: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Claim:
    connection_id: str
    owner: str
    lease_seconds: float
    force: bool


@dataclass(frozen=True)
class _Release:
    connection_id: str
    owner: str
    error: str | None


def claim_polls(session: Session, claims: Sequence[_Claim]) -> list[bool]:
    """Take the poll lease of each connection if it is free and the poll is due."""
    now = utcnow()
    taken: list[bool] = []
    for claim in claims:
        query = (
            update(Connection)
            .where(Connection.id == claim.connection_id)
            .where(Connection.poll_interval_seconds.is_not(None))
            .where(or_(Connection.poll_lease_until.is_(None), Connection.poll_lease_until < now))
        )
        if not claim.force:
            query = query.where(
                or_(Connection.next_poll_at.is_(None), Connection.next_poll_at <= now)
            )
        claimed = session.execute(
            query.values(
                poll_lease_owner=claim.owner,
                poll_lease_until=now + timedelta(seconds=claim.lease_seconds),
            ).returning(Connection.id)
        ).scalar_one_or_none()
        taken.append(claimed is not None)
    return taken


def release_polls(session: Session, releases: Sequence[_Release]) -> list[bool]:
    """Give the lease back and schedule the next poll; only the owner can."""
    now = utcnow()
    done: list[bool] = []
    for release in releases:
        row = session.get(Connection, release.connection_id)
        if row is None or row.poll_lease_owner != release.owner:
            done.append(False)
            continue
        row.poll_lease_owner = None
        row.poll_lease_until = None
        row.last_polled_at = now
        row.last_poll_error = release.error
        if row.poll_interval_seconds:
            row.next_poll_at = now + timedelta(seconds=row.poll_interval_seconds)
        done.append(True)
    return done


class Poller:
    """Schedules and runs the polls of every connection that has a poll interval."""

    def __init__(
        self,
        *,
        pipeline: InboundPipeline,
        committer: GroupCommitter,
        read_sessions: sessionmaker[Session],
        owner: str,
        lease_seconds: float = 120.0,
        timeout_seconds: float = 60.0,
        max_pages: int = 100,
        sync_seconds: float = 5.0,
    ) -> None:
        self.pipeline = pipeline
        self.committer = committer
        self.read_sessions = read_sessions
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.timeout_seconds = timeout_seconds
        self.max_pages = max_pages
        self.sync_seconds = sync_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._intervals: dict[str, float] = {}
        self.runs_claimed = 0
        self.runs_skipped = 0  # another process held the lease, or the poll was not due

    # -- the schedule ---------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the schedule in step with the connections until cancelled."""
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start()
        try:
            while True:
                try:
                    await self.sync()
                except Exception:
                    logger.exception("reading the poll schedule failed")
                await asyncio.sleep(self.sync_seconds)
        finally:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def sync(self) -> None:
        """Add, change and drop interval jobs to match the connections' poll intervals."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        wanted = await asyncio.to_thread(self._scheduled)
        for connection_id in set(self._intervals) - set(wanted):
            scheduler.remove_job(connection_id)
            del self._intervals[connection_id]
        for connection_id, interval in wanted.items():
            if self._intervals.get(connection_id) == interval:
                continue
            scheduler.add_job(
                self.poll,
                "interval",
                args=[connection_id],
                seconds=interval,
                id=connection_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                next_run_time=utcnow(),
            )
            self._intervals[connection_id] = interval

    def _scheduled(self) -> dict[str, float]:
        with self.read_sessions() as session:
            rows = session.execute(
                select(Connection.id, Connection.poll_interval_seconds).where(
                    Connection.poll_interval_seconds.is_not(None)
                )
            )
            return {cid: float(interval) for cid, interval in rows if interval}

    # -- one run --------------------------------------------------------------------------

    async def poll(self, connection_id: str, *, force: bool = False) -> PollReport:
        """Poll one connection now, if this process gets its lease; pages until caught up.

        ``force`` ignores ``next_poll_at`` (``crossdock connections poll``), never the lease.
        """
        claim = _Claim(connection_id, self.owner, self.lease_seconds, force)
        [taken] = await self.committer.submit(claim_polls, [claim])
        if not taken:
            self.runs_skipped += 1
            return PollReport(connection_id, claimed=False)
        self.runs_claimed += 1
        pages = records = accepted = dead = 0
        error: str | None = None
        try:
            connection = await asyncio.to_thread(self._load, connection_id)
            connector = self.pipeline.connector_for(connection)
            cursor = connection.poll_cursor
            while pages < self.max_pages:
                result = await asyncio.wait_for(connector.poll(cursor), self.timeout_seconds)
                pages += 1
                write = InboundWrite(
                    connection, None, None, [], cursor=(result.next_cursor, self.owner)
                )
                if result.records:
                    self.pipeline.mappings.refresh_if_due()
                write.outcomes = [
                    self.pipeline.canonical(connection, record, index, write)
                    for index, record in enumerate(result.records)
                ]
                [answer] = await self.committer.submit(self.pipeline.write, [write])
                fates = [item["status"] for item in answer["items"]]
                try:
                    await connector.committed(result.records, fates, result)
                except Exception:
                    # The page is stored; what the connector does after is its business.
                    logger.exception(
                        "connector failed after a stored page",
                        extra={"connection_id": connection_id},
                    )
                records += answer["received"]
                accepted += answer["accepted"]
                dead += answer["dead_lettered"]
                cursor = result.next_cursor
                if not result.more:
                    break
        except Exception as exc:
            # The cursor stays where the last stored page left it: the next run resumes there.
            error = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("poll failed", extra={"connection_id": connection_id, "error": error})
        await self.committer.submit(release_polls, [_Release(connection_id, self.owner, error)])
        return PollReport(connection_id, True, pages, records, accepted, dead, error)

    def _load(self, connection_id: str) -> Connection:
        with self.read_sessions() as session:
            row = session.get(Connection, connection_id)
            if row is None:
                raise LookupError(f"connection {connection_id} is gone")
            session.expunge(row)
            return row
