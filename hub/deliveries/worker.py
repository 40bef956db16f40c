"""Delivery workers: claim due deliveries, send them, record what happened.

A worker runs as an asyncio task, inside ``crossdock serve`` or alone in ``crossdock
worker``. All its writes go through the process's group committer. It sleeps until new
work is committed (an in-process signal, plus ``LISTEN`` on PostgreSQL for work committed
by other processes) or, at the latest, ``idle_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.sdk import Connector, OutboundMessage, SendOutcome
from hub.connections.models import Connection
from hub.connections.service import ConnectionService
from hub.deliveries.policy import DeliveryPolicy, OutcomeClass
from hub.deliveries.store import (
    AttemptResult,
    Claimed,
    ClaimRequest,
    claim,
    record_results,
)
from hub.deliveries.wakeup import NOTIFY_CHANNEL
from hub.mappings import MappingError, MappingRegistry
from hub.metrics import HubMetrics
from hub.routes.versions import ConversionError, VersionConverter
from hub.store.committer import GroupCommitter
from hub.timestamps import utcnow
from hub.usage.models import ActorKind, Role
from hub.usage.service import UsageRecorder

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


@dataclass
class _LiveConnection:
    connector: Connector  # type: ignore[type-arg]
    concurrency: int
    # Bounds this process's sends to the connection; claimed deliveries beyond it wait here.
    slots: asyncio.Semaphore
    timeout: float
    version: object
    checked_at: float


class DeliveryWorker:
    """One worker: up to ``concurrency`` deliveries in flight, per-connection limits within."""

    def __init__(
        self,
        *,
        committer: GroupCommitter,
        read_sessions: sessionmaker[Session],
        connections: ConnectionService,
        mappings: MappingRegistry,
        versions: VersionConverter,
        policy: DeliveryPolicy,
        metrics: HubMetrics,
        concurrency: int = 64,
        lease_seconds: float = 60.0,
        idle_seconds: float = 1.0,
        listen_url: str | None = None,
        name: str | None = None,
        usage: UsageRecorder | None = None,
    ) -> None:
        self.committer = committer
        self.read_sessions = read_sessions
        self.connections = connections
        self.mappings = mappings
        self.versions = versions
        self.policy = policy
        self.metrics = metrics
        self.concurrency = concurrency
        # Under load, slots free one at a time; claiming for each would cost a claim per
        # delivery. A busy worker waits for an eighth of its slots; an idle one claims at once.
        self.claim_at_least = max(1, concurrency // 8)
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.listen_url = listen_url
        self.name = name or worker_name()
        self.usage = usage
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, int] = {}
        self._live: dict[str, _LiveConnection] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.delivered = 0

    # -- waking ---------------------------------------------------------------------------

    def wake_from_any_thread(self) -> Callable[[], None]:
        """A callable for the committer's after-commit hooks."""

        def wake() -> None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._wake.set)

        return wake

    async def _listen(self) -> None:
        """Wake on NOTIFY from other processes; reconnect with backoff if the link drops."""
        assert self.listen_url is not None
        delay = 0.5
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.listen_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    delay = 0.5
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError):
                logger.warning("LISTEN connection lost; polling until it is back")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        listener = asyncio.create_task(self._listen()) if self.listen_url else None
        try:
            while not self._stopping:
                # Wake-ups (a finished delivery, new work) run on this loop, so nothing can
                # set the event between this clear and the wait below without being seen.
                self._wake.clear()
                free = self.concurrency - len(self._tasks)
                claimed: list[Claimed] = []
                worth_claiming = free >= self.claim_at_least or (free > 0 and not self._tasks)
                if worth_claiming:
                    in_flight = {cid: n for cid, n in self._inflight.items() if n}
                    saturated = frozenset(
                        cid for cid, n in in_flight.items() if n >= self._limit(cid)
                    )
                    request = ClaimRequest(
                        self.name, free, self.lease_seconds, in_flight, saturated
                    )
                    try:
                        [claimed] = await self.committer.submit(claim, [request])
                    except Exception:
                        logger.exception("claiming deliveries failed; retrying shortly")
                        await asyncio.sleep(self.idle_seconds)
                        continue
                    for item in claimed:
                        self._start(item)
                if len(claimed) < free or not worth_claiming:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming; give in-flight deliveries a moment, then abandon them to their leases."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
        for live in self._live.values():
            await live.connector.aclose()
        self._live.clear()

    def _limit(self, connection_id: str) -> int:
        live = self._live.get(connection_id)
        return live.concurrency if live else self.concurrency

    def _start(self, item: Claimed) -> None:
        self._inflight[item.connection_id] = self._inflight.get(item.connection_id, 0) + 1
        task = asyncio.create_task(self._deliver(item))
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._inflight[item.connection_id] -= 1
            self._wake.set()  # a slot is free

        task.add_done_callback(done)

    # -- one delivery ---------------------------------------------------------------------

    async def _connection(self, connection_id: str) -> _LiveConnection:
        live = self._live.get(connection_id)
        if live is not None and time.monotonic() - live.checked_at < 5:
            return live
        # One load at a time per connection: otherwise every delivery in flight at first
        # use builds its own connector (and HTTP pool, and concurrency semaphore).
        lock = self._loading.setdefault(connection_id, asyncio.Lock())
        async with lock:
            return await self._refresh(connection_id)

    async def _refresh(self, connection_id: str) -> _LiveConnection:
        live = self._live.get(connection_id)
        now = time.monotonic()
        if live is not None and now - live.checked_at < 5:
            return live  # another delivery refreshed it while this one waited
        row = await asyncio.to_thread(self._load_connection, connection_id)
        if live is not None and live.version == row.updated_at:
            live.checked_at = now
            return live
        if live is not None:
            # Sends may still be using the old connector: close it once they are done.
            self._retire(live)
        # A send must end well inside the lease, or another worker could take the delivery over.
        timeout = min(row.timeout_seconds, self.lease_seconds / 3)
        live = _LiveConnection(
            connector=self.connections.instantiate(row),
            concurrency=row.concurrency,
            slots=asyncio.Semaphore(row.concurrency),
            timeout=timeout,
            version=row.updated_at,
            checked_at=now,
        )
        self._live[connection_id] = live
        return live

    def _retire(self, live: _LiveConnection) -> None:
        async def close_after_sends() -> None:
            for _ in range(live.concurrency):
                await live.slots.acquire()
            await live.connector.aclose()

        task = asyncio.create_task(close_after_sends())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _load_connection(self, connection_id: str) -> Connection:
        with self.read_sessions() as session:
            row = session.scalar(select(Connection).where(Connection.id == connection_id))
            if row is None:
                raise LookupError(f"connection {connection_id} is gone")
            session.expunge(row)
            return row

    async def _deliver(self, item: Claimed) -> None:
        started = utcnow()
        age = (started - item.accepted_at).total_seconds()
        if age > item.retry.max_age:
            outcome = SendOutcome.rejected(
                f"older than the route's max age of {item.retry.max_age:g} s"
            )
            result = AttemptResult(
                item,
                self.name,
                outcome,
                OutcomeClass.PERMANENT,
                started,
                started,
                dead_reason="max_age",
                sent=False,
            )
        else:
            outcome = await self._send(item)
            result = self._judge(item, outcome, started)
        try:
            [recorded] = await self.committer.submit(record_results, [result])
        except Exception:
            # The lease will expire and another claim will retry it: nothing is lost.
            logger.exception("recording a delivery result failed", extra={"delivery_id": item.id})
            return
        if result.sent:
            self.metrics.attempts.labels(
                item.connection_id, outcome.kind.value, result.classification.value
            ).inc()
        if recorded.applied and result.next_delay is not None and self._loop is not None:
            # Look again when this retry falls due, not only at the next idle poll.
            self._loop.call_later(result.next_delay, self._wake.set)
        if recorded.applied and recorded.status == "delivered":
            self.delivered += 1
            self.metrics.delivery_latency.labels(item.route_name).observe(
                (result.finished_at - item.accepted_at).total_seconds()
            )

    async def _send(self, item: Claimed) -> SendOutcome:
        try:
            live = await self._connection(item.connection_id)
            event = item.event
            if item.contract_versions is not None:
                # A pinned route gets other versions converted first: its own mapping, and
                # its target, expect the pinned version.
                try:
                    event = self.versions.convert(event, item.contract_versions)
                except ConversionError as exc:
                    return SendOutcome.mapping_error(str(exc))
            payload = None
            if item.mapping is not None:
                self.mappings.refresh_if_due()
                try:
                    payload = self.mappings.get(item.mapping).apply(event)
                except (MappingError, KeyError) as exc:
                    detail = (
                        f"mapping {item.mapping!r} is missing"
                        if isinstance(exc, KeyError)
                        else str(exc)
                    )
                    return SendOutcome.mapping_error(detail)
            message = OutboundMessage(
                delivery_id=item.id,
                message_key=item.message_key,
                attempt=item.attempt,
                route=item.route_name,
                event=event,
                payload=payload,
            )
            if self.usage is not None:
                # The version the target gets, after any conversion: what it consumes.
                self.usage.record_dataschema(
                    event.get("dataschema"), Role.CONSUMER, ActorKind.CONNECTION, item.connection_id
                )
            async with live.slots:
                return await asyncio.wait_for(live.connector.send(message), live.timeout)
        except TimeoutError as exc:
            return SendOutcome.from_exception(exc)
        except Exception as exc:
            logger.exception("connector failed", extra={"delivery_id": item.id})
            return SendOutcome.from_exception(exc)

    def _judge(self, item: Claimed, outcome: SendOutcome, started: datetime) -> AttemptResult:
        finished = utcnow()
        classification, honour_retry_after = self.policy.classify(outcome)
        result = AttemptResult(item, self.name, outcome, classification, started, finished)
        if classification is OutcomeClass.PERMANENT:
            result.dead_reason = "permanent"
        elif classification is OutcomeClass.TRANSIENT:
            delay = item.retry.delay(item.attempt)
            if honour_retry_after and outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            age_then = (finished - item.accepted_at).total_seconds() + delay
            if item.attempt >= item.retry.max_attempts:
                result.dead_reason = "attempts_exhausted"
            elif age_then > item.retry.max_age:
                result.dead_reason = "max_age"
            else:
                result.next_delay = delay
        return result
