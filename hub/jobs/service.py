"""Bounded background jobs, done in chunks that each commit their work and their progress.

A job is claimed under a lease by one process at a time. Each chunk runs as one write
operation of the group committer: the work of the chunk and the job's new progress and
cursor commit together, so a job interrupted at any moment (even ``kill -9``) resumes after
its last committed chunk, with nothing done twice and nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.audit.service import SYSTEM, record
from hub.deliveries.wakeup import notify
from hub.errors import NotFound
from hub.jobs.models import Job
from hub.store.committer import GroupCommitter
from hub.store.identifiers import new_id
from hub.timestamps import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkResult:
    processed: int
    succeeded: int
    failed: int
    cursor: str | None
    done: bool


# handler(session, job, params, chunk_size) -> ChunkResult, inside the chunk's transaction
ChunkHandler = Callable[[Session, Job, dict[str, Any], int], ChunkResult]

FINISHED_ACTIONS = {"replay": "deadletter.bulk_replay.finish", "backfill": "route.backfill.finish"}
"""The audit action of a job's end, by kind (next to the action that started it)."""


def _record_finish(session: Session, job: Job, before: dict[str, Any]) -> None:
    """The summary of a finished or failed job, written with its last change. The hub did
    the work (``system``); who asked for it is the job's ``created_by`` and the entry that
    started it."""
    record(
        session,
        SYSTEM,
        FINISHED_ACTIONS.get(job.kind, "job.finish"),
        "job",
        job.id,
        before=before,
        after=_progress(job),
        detail=job.error,
    )


def _progress(job: Job) -> dict[str, Any]:
    return {
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "created_by": job.created_by,
    }


def create(session: Session, kind: str, params: dict[str, Any], total: int, created_by: str) -> Job:
    job = Job(
        id=new_id("job"),
        kind=kind,
        status="pending",
        params=orjson.dumps(params, default=str).decode(),
        total=total,
        processed=0,
        succeeded=0,
        failed=0,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, job_id: str, kind: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.kind != kind:
        raise NotFound(f"no {kind} job {job_id!r}")
    return job


def view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "params": orjson.loads(job.params),
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "error": job.error,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


class JobRunner:
    """Runs jobs of the registered kinds, one chunk per transaction, in this process."""

    def __init__(
        self,
        committer: GroupCommitter,
        handlers: dict[str, ChunkHandler],
        *,
        owner: str,
        chunk_size: int = 500,
        lease_seconds: float = 60.0,
        idle_seconds: float = 1.0,
        wake: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.committer = committer
        self.handlers = handlers
        self.owner = owner
        self.chunk_size = chunk_size
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.wake = list(wake)  # called after a chunk commits (to wake delivery workers)
        self._kick = asyncio.Event()
        self._stopping = False

    def kick(self) -> None:
        self._kick.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                [job_id] = await self.committer.submit(self._claim, [None])
            except Exception:
                logger.exception("claiming a job failed")
                job_id = None
            if job_id is None:
                self._kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), self.idle_seconds)
                continue
            await self._work(job_id)

    def stop(self) -> None:
        self._stopping = True
        self._kick.set()

    async def run_one(self, job_id: str, progress: Callable[[int], None] | None = None) -> None:
        """Take ``job_id`` now and run it to the end here (the CLI's bulk replay)."""
        [taken] = await self.committer.submit(self._take, [job_id])
        if not taken:
            raise NotFound(f"job {job_id} is finished or running elsewhere")
        await self._work(job_id, progress)

    def _take(self, session: Session, job_ids: Sequence[str]) -> list[bool]:
        now = utcnow()
        taken = []
        for job_id in job_ids:
            job = session.get(Job, job_id)
            free = job is not None and (
                job.status == "pending"
                or (job.status == "running" and (job.lease_expires_at or now) <= now)
            )
            if free and job is not None:
                job.status, job.lease_owner = "running", self.owner
                job.started_at = job.started_at or now
                job.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
            taken.append(free)
        return taken

    async def _work(self, job_id: str, progress: Callable[[int], None] | None = None) -> None:
        while not self._stopping:
            try:
                [(finished, processed)] = await self.committer.submit(self._chunk, [job_id])
            except Exception as exc:
                logger.exception("job chunk failed", extra={"job_id": job_id})
                await self.committer.submit(self._fail, [(job_id, str(exc))])
                return
            if progress is not None:
                progress(processed)
            if finished:
                return

    def _claim(self, session: Session, _items: Sequence[None]) -> list[str | None]:
        now = utcnow()
        query = (
            select(Job)
            .where(Job.kind.in_(list(self.handlers)))
            .where(
                or_(
                    Job.status == "pending",
                    (Job.status == "running") & (Job.lease_expires_at < now),
                )
            )
            .order_by(Job.created_at)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = session.scalar(query)
        if job is None:
            return [None]
        job.status = "running"
        job.started_at = job.started_at or now
        job.lease_owner = self.owner
        job.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
        return [job.id]

    def _chunk(self, session: Session, job_ids: Sequence[str]) -> list[tuple[bool, int]]:
        finished: list[tuple[bool, int]] = []
        for job_id in job_ids:
            job = session.get(Job, job_id)
            if job is None or job.status != "running" or job.lease_owner != self.owner:
                finished.append((True, job.processed if job else 0))  # lost the lease
                continue
            before = _progress(job)
            result = self.handlers[job.kind](
                session, job, orjson.loads(job.params), self.chunk_size
            )
            job.processed += result.processed
            job.succeeded += result.succeeded
            job.failed += result.failed
            job.cursor = result.cursor
            now = utcnow()
            job.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
            if result.done:
                job.status, job.finished_at, job.lease_owner = "done", now, None
                _record_finish(session, job, before)
            if result.succeeded:
                notify(session, self.wake)
            finished.append((result.done, job.processed))
        return finished

    def _fail(self, session: Session, items: Sequence[tuple[str, str]]) -> list[None]:
        for job_id, error in items:
            job = session.get(Job, job_id)
            if job is not None:
                before = _progress(job)
                job.status, job.error, job.finished_at = "failed", error[:2000], utcnow()
                _record_finish(session, job, before)
        return [None] * len(items)
