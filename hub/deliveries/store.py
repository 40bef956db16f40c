"""The one place that reads and writes deliveries: outbox, claims, results, dead letters.

Every function here is a write operation for :class:`~hub.store.committer.GroupCommitter`
(``op(session, items) -> results``) or a plain query, and never commits.

Per-key ordering: a delivery is claimable only while no earlier delivery of the same route
and ordering key is still pending or in flight (or dead, on a ``block`` route). So at most
one delivery per (route, key) is ever in flight, and they go in acceptance order; different
keys go in parallel.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import (
    CursorResult,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from connectors.sdk import SendOutcome
from hub.connections.models import Connection
from hub.deadletters.models import DeadLetter
from hub.deliveries.models import Delivery, DeliveryAttempt
from hub.deliveries.policy import OutcomeClass, RetryPolicy
from hub.deliveries.wakeup import notify
from hub.jobs.models import Job
from hub.jobs.service import ChunkResult
from hub.messages.models import Message
from hub.routes.matching import CompiledRoute
from hub.routes.models import Route
from hub.routes.policy import retry_of
from hub.store.identifiers import new_id
from hub.timestamps import utcnow

DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
ROUTES: Table = Route.__table__  # type: ignore[assignment]
ATTEMPTS: Table = DeliveryAttempt.__table__  # type: ignore[assignment]
CONNECTIONS: Table = Connection.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
PENDING, IN_FLIGHT, DELIVERED, DEAD, DISCARDED = (
    "pending",
    "in_flight",
    "delivered",
    "dead",
    "discarded",
)


# --- the outbox -------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: made once per message, and frozen inits cost 2.5x
class NewMessage:
    key: str
    event: dict[str, Any]
    accepted_at: datetime


class Outbox:
    """Writes one delivery per matching route, in the transaction that stores the message."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, datetime], CompiledRoute] = {}
        self.wake: list[Any] = []  # callables run after a commit that created deliveries

    def routes(self, session: Session) -> list[CompiledRoute]:
        # Read in the writing transaction: a route created before this commit gets its
        # deliveries, whichever process created it.
        # Only ids and versions on the hot path; a route is loaded and compiled once per version.
        compiled = []
        versions = session.connection().execute(select(ROUTES.c.id, ROUTES.c.updated_at)).all()
        for route_id, updated_at in versions:
            key = (route_id, updated_at)
            if key not in self._compiled:
                route = session.get(Route, route_id)
                if route is None:
                    continue
                self._compiled[key] = CompiledRoute.of(route)
            compiled.append(self._compiled[key])
        return compiled

    def enqueue(self, session: Session, messages: Sequence[NewMessage]) -> int:
        routes = self.routes(session) if messages else []
        if not routes:
            return 0
        now = utcnow()
        rows = [
            delivery_row(route, message.key, message.event, message.accepted_at, now)
            for message in messages
            for route in routes
            if route.matches(message.event)
        ]
        if rows:
            session.connection().execute(insert(DELIVERIES), rows)
            notify(session, self.wake)
        return len(rows)


def delivery_row(
    route: CompiledRoute, key: str, event: dict[str, Any], accepted_at: datetime, now: datetime
) -> dict[str, Any]:
    """A new pending delivery of message ``key`` along ``route``."""
    return {
        "route_id": route.id,
        "connection_id": route.connection_id,
        "message_key": key,
        "ordering_key": route.key_of(event, key),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "accepted_at": accepted_at,
        "created_at": now,
    }


# --- claims -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    worker: str
    limit: int
    lease_seconds: float
    # deliveries this worker already has in flight, per connection: a claim never takes a
    # connection past its `concurrency`
    in_flight: Mapping[str, int] = field(default_factory=dict)
    saturated: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    route_id: str
    route_name: str
    connection_id: str
    message_key: str
    attempt: int
    accepted_at: datetime
    event: dict[str, Any]
    retry: RetryPolicy
    mapping: str | None = None
    # The route's contract version pins ({family: pin}); None for an unpinned route.
    contract_versions: dict[str, str] | None = None


def _status_in(column: Any, statuses: tuple[str, ...]) -> Any:
    # Literal values, not parameters: only then does each database see that the query
    # implies the predicate of the partial index it should use (see the Delivery model).
    return column.in_(bindparam(None, statuses, expanding=True, literal_execute=True))


def _claimable() -> Any:
    deliveries, routes, connections = DELIVERIES.c, ROUTES.c, CONNECTIONS.c
    now = bindparam("now", type_=deliveries.next_attempt_at.type)
    earlier = DELIVERIES.alias("earlier").c
    head_of_key = ~exists().where(
        _status_in(earlier.status, (PENDING, IN_FLIGHT, DEAD)),
        earlier.route_id == deliveries.route_id,
        earlier.ordering_key == deliveries.ordering_key,
        earlier.id < deliveries.id,
        or_(
            earlier.status.in_((PENDING, IN_FLIGHT)),
            and_(earlier.status == DEAD, routes.on_dead_letter == "block"),
        ),
    )
    due = or_(
        and_(deliveries.status == PENDING, deliveries.next_attempt_at <= now),
        # in flight past its lease: a crashed worker's
        and_(deliveries.status == IN_FLIGHT, deliveries.lease_expires_at < now),
    )
    breaker_lets_through = or_(
        connections.breaker_state == "closed", connections.opened_until <= now
    )
    return and_(
        _status_in(deliveries.status, (PENDING, IN_FLIGHT)),
        due,
        routes.paused.is_(False),
        breaker_lets_through,
        head_of_key,
    )


# The claim's and the results' statements are Core on the tables, built once, with the
# time, the limit and the ids as parameters. Executed through the ORM, an UPDATE of an entity
# also searched the session for loaded objects to synchronise (there are none: nothing here
# loads Delivery objects; that path alone was a third of the group committer's GIL time),
# and each claim built its query anew. A worker's event loop waits for that GIL time.
_CANDIDATES = (
    select(
        DELIVERIES.c.id,
        DELIVERIES.c.connection_id,
        CONNECTIONS.c.breaker_state,
        CONNECTIONS.c.concurrency,
    )
    .join(ROUTES, ROUTES.c.id == DELIVERIES.c.route_id)
    .join(CONNECTIONS, CONNECTIONS.c.id == DELIVERIES.c.connection_id)
    .where(_claimable())
    .order_by(DELIVERIES.c.id)
    .limit(bindparam("limit"))
)


@lru_cache(maxsize=4)
def _candidates(saturated: bool, locking: bool) -> Any:
    query = _CANDIDATES
    if saturated:
        # Saturated connections are left out in SQL, so that one connection's backlog
        # cannot fill every claim and starve the others.
        query = query.where(
            DELIVERIES.c.connection_id.not_in(bindparam("saturated", expanding=True))
        )
    if locking:
        query = query.with_for_update(of=DELIVERIES, skip_locked=True)
    return query


_CLAIMED_ROWS = (
    select(
        DELIVERIES.c.id,
        DELIVERIES.c.route_id,
        ROUTES.c.name,
        DELIVERIES.c.connection_id,
        DELIVERIES.c.message_key,
        DELIVERIES.c.attempts,
        DELIVERIES.c.accepted_at,
        DELIVERIES.c.event_override,
        MESSAGES.c.event,
        ROUTES.c.max_attempts,
        ROUTES.c.initial_delay,
        ROUTES.c.multiplier,
        ROUTES.c.max_delay,
        ROUTES.c.jitter,
        ROUTES.c.max_age_seconds,
        ROUTES.c.mapping,
        ROUTES.c.contract_versions,
    )
    .join(ROUTES, ROUTES.c.id == DELIVERIES.c.route_id)
    .join(MESSAGES, MESSAGES.c.key == DELIVERIES.c.message_key)
    .where(DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(DELIVERIES.c.id)
)


_LEASED = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=IN_FLIGHT,
        lease_owner=bindparam("worker"),
        lease_expires_at=bindparam("expires", type_=DELIVERIES.c.lease_expires_at.type),
        attempts=DELIVERIES.c.attempts + 1,
        first_attempt_at=func.coalesce(
            DELIVERIES.c.first_attempt_at,
            bindparam("now", type_=DELIVERIES.c.first_attempt_at.type),
        ),
    )
)


def claim(session: Session, requests: Sequence[ClaimRequest]) -> list[list[Claimed]]:
    """Claim due deliveries for each request, under a lease. One list of claims per request."""
    return [_claim_one(session, request) for request in requests]


def _claim_one(session: Session, request: ClaimRequest) -> list[Claimed]:
    # Core statements do not autoflush: what an earlier operation of this transaction
    # changed through the ORM (a breaker opened by a failed attempt) must be seen here.
    session.flush()
    now = utcnow()
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    query = _candidates(bool(request.saturated), locking=postgresql)
    params: dict[str, Any] = {"now": now, "limit": request.limit}
    if request.saturated:
        params["saturated"] = sorted(request.saturated)
    if postgresql:
        # The plan must walk the open deliveries in id order and stop at the limit. With
        # stale statistics (a backlog that arrived faster than autovacuum analyses) the
        # planner instead checked the ordering of every open delivery, then sorted them:
        # 10 ms per claim at 2,000 open. Without sorts to choose from, it cannot.
        session.execute(text("SET LOCAL enable_sort = off"))
    chosen: list[int] = []
    probing: set[str] = set()
    taken: dict[str, int] = dict(request.in_flight)
    candidates = connection.execute(query, params).all()
    if postgresql:
        session.execute(text("SET LOCAL enable_sort = on"))
    for delivery_id, connection_id, breaker_state, concurrency in candidates:
        if taken.get(connection_id, 0) >= concurrency:
            continue
        if breaker_state != "closed":
            # Cooled down: let exactly one delivery through as the half-open probe.
            if connection_id in probing:
                continue
            probing.add(connection_id)
        taken[connection_id] = taken.get(connection_id, 0) + 1
        chosen.append(delivery_id)
    if not chosen:
        return []
    if probing:
        session.execute(
            update(Connection)
            .where(Connection.id.in_(probing))
            .values(
                breaker_state="half_open",
                opened_until=now + timedelta(seconds=request.lease_seconds),
            )
        )
    connection.execute(
        _LEASED,
        {
            "ids": chosen,
            "worker": request.worker,
            "now": now,
            "expires": now + timedelta(seconds=request.lease_seconds),
        },
    )
    rows = connection.execute(_CLAIMED_ROWS, {"ids": chosen})
    return [
        Claimed(
            id=row.id,
            route_id=row.route_id,
            route_name=row.name,
            connection_id=row.connection_id,
            message_key=row.message_key,
            attempt=row.attempts,
            accepted_at=row.accepted_at,
            event=orjson.loads(row.event_override or row.event),
            retry=retry_of(row),
            mapping=row.mapping,
            contract_versions=(
                orjson.loads(row.contract_versions) if row.contract_versions else None
            ),
        )
        for row in rows
    ]


# --- results ----------------------------------------------------------------------------


@dataclass(slots=True)
class AttemptResult:
    """What one attempt of a claimed delivery produced, ready to be recorded."""

    claimed: Claimed
    worker: str
    outcome: SendOutcome
    classification: OutcomeClass
    started_at: datetime
    finished_at: datetime
    next_delay: float | None = None  # seconds, for a transient failure that will be retried
    dead_reason: str | None = None  # permanent | attempts_exhausted | max_age
    sent: bool = True  # False when the hub gave up before sending (max age)
    recorded: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class Recorded:
    """Whether the result was applied; False when the lease had been lost to another worker."""

    applied: bool
    status: str


def record_results(session: Session, results: Sequence[AttemptResult]) -> list[Recorded]:
    """Apply attempt results: attempts rows, delivery state, breaker state, dead letters.

    Successes, the bulk of the work, are applied together: one insert of their attempts,
    one fenced update of their deliveries per worker, one breaker reset per connection.
    Failures go one by one (they are few, and each may open a breaker or dead-letter).
    """
    out: dict[int, Recorded] = {}
    successes = [
        (index, result)
        for index, result in enumerate(results)
        if result.sent and result.classification is OutcomeClass.SUCCESS
    ]
    if successes:
        out.update(_record_successes(session, successes))
    for index, result in enumerate(results):
        if index not in out:
            out[index] = _record_one(session, result)
    return [out[index] for index in range(len(results))]


def _attempt_row(result: AttemptResult) -> dict[str, Any]:
    outcome = result.outcome
    return {
        "delivery_id": result.claimed.id,
        "number": result.claimed.attempt,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "duration_ms": (result.finished_at - result.started_at).total_seconds() * 1000,
        "outcome": outcome.kind.value,
        "classification": result.classification.value,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "response_headers": orjson.dumps(dict(outcome.headers)).decode()
        if outcome.headers
        else None,
        "response_body": outcome.body_excerpt,
        "retry_after": outcome.retry_after,
    }


# One statement shape for every batch (the id list expands at execution), so SQLAlchemy
# compiles it once (Core, like the claim's). Each delivery's delivered_at is its own: the
# end of the attempt that delivered it, recorded just before in the same transaction.
_DELIVERED = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id.in_(bindparam("ids", expanding=True)),
        DELIVERIES.c.status == IN_FLIGHT,
        DELIVERIES.c.lease_owner == bindparam("worker"),
    )
    .values(
        status=DELIVERED,
        # The newest attempt: numbers start again at 1 after a replay.
        delivered_at=select(ATTEMPTS.c.finished_at)
        .where(ATTEMPTS.c.delivery_id == DELIVERIES.c.id)
        .order_by(ATTEMPTS.c.id.desc())
        .limit(1)
        .scalar_subquery(),
        lease_owner=None,
        lease_expires_at=None,
    )
    .returning(DELIVERIES.c.id)
)


def _record_successes(
    session: Session, successes: list[tuple[int, AttemptResult]]
) -> dict[int, Recorded]:
    # Core, not the ORM: an executemany of plain rows.
    connection = session.connection()
    connection.execute(ATTEMPTS.insert(), [_attempt_row(result) for _, result in successes])
    by_worker: dict[str, list[int]] = {}
    for _, result in successes:
        by_worker.setdefault(result.worker, []).append(result.claimed.id)
    applied: set[int] = set()
    for worker, ids in by_worker.items():
        applied.update(connection.execute(_DELIVERED, {"ids": ids, "worker": worker}).scalars())
    now = max(result.finished_at for _, result in successes)
    for connection_id in sorted({result.claimed.connection_id for _, result in successes}):
        _breaker(session, connection_id, OutcomeClass.SUCCESS, now)
    lost = Recorded(False, "lease-lost")
    return {
        index: Recorded(True, DELIVERED) if result.claimed.id in applied else lost
        for index, result in successes
    }


def _record_one(session: Session, result: AttemptResult) -> Recorded:
    claimed = result.claimed
    if result.sent:
        session.execute(insert(DeliveryAttempt), [_attempt_row(result)])
    fenced = and_(
        Delivery.id == claimed.id,
        Delivery.status == IN_FLIGHT,
        Delivery.lease_owner == result.worker,
    )
    now = result.finished_at
    if result.classification is OutcomeClass.SUCCESS:
        values: dict[str, Any] = {"status": DELIVERED, "delivered_at": now}
    elif result.dead_reason is None:
        assert result.next_delay is not None
        values = {"status": PENDING, "next_attempt_at": now + timedelta(seconds=result.next_delay)}
    else:
        values = {"status": DEAD}
    values.update(lease_owner=None, lease_expires_at=None)
    changed = session.execute(update(Delivery).where(fenced).values(**values))
    applied = cast(CursorResult[Any], changed).rowcount == 1
    if not applied:
        return Recorded(False, "lease-lost")
    if result.sent:
        _breaker(session, claimed.connection_id, result.classification, now)
    if result.dead_reason is not None:
        _dead_letter(session, result)
    return Recorded(True, values["status"])


def _breaker(
    session: Session, connection_id: str, classification: OutcomeClass, now: datetime
) -> None:
    if classification is OutcomeClass.TRANSIENT:
        connection = session.get(Connection, connection_id)
        if connection is None:
            return
        connection.consecutive_failures += 1
        if (
            connection.breaker_state == "half_open"
            or connection.consecutive_failures >= connection.breaker_threshold
        ):
            connection.breaker_state = "open"
            connection.opened_until = now + timedelta(seconds=connection.breaker_cooldown_seconds)
    else:
        # Success, or a permanent failure: the target answered, so it is up.
        session.execute(_BREAKER_CLOSED, {"connection_id": connection_id})


# Built once. Through the ORM, unlike the deliveries' statements: a transient failure or a
# poll in the same transaction may hold this connection's object, which must see the reset.
_BREAKER_CLOSED = (
    update(Connection)
    .where(
        Connection.id == bindparam("connection_id"),
        or_(Connection.consecutive_failures != 0, Connection.breaker_state != "closed"),
    )
    .values(consecutive_failures=0, breaker_state="closed", opened_until=None)
)


_VOLATILE = re.compile(r"[0-9a-f]{8,}|\d+")


def signature_of(
    error_class: str, status: int | None, connection_id: str, error: str | None
) -> str:
    """A grouping key for dead letters with the same cause: numbers and ids are blanked out."""
    normalised = _VOLATILE.sub("#", (error or "")[:200])
    digest = hashlib.sha256(f"{connection_id}|{normalised}".encode()).hexdigest()[:10]
    return f"{error_class}:{status if status is not None else '-'}:{digest}"


def _dead_letter(session: Session, result: AttemptResult) -> None:
    claimed, outcome = result.claimed, result.outcome
    error_class = outcome.kind.value if result.sent else "max_age"
    row = session.execute(
        select(Delivery.ordering_key, Message.type)
        .join(Message, Message.key == Delivery.message_key)
        .where(Delivery.id == claimed.id)
    ).one()
    session.add(
        DeadLetter(
            id=new_id("dlq"),
            direction="outbound",
            status="open",
            delivery_id=claimed.id,
            route_id=claimed.route_id,
            connection_id=claimed.connection_id,
            message_key=claimed.message_key,
            message_type=row.type,
            ordering_key=row.ordering_key,
            reason=result.dead_reason,
            error_class=error_class,
            signature=signature_of(
                error_class, outcome.status_code, claimed.connection_id, outcome.error
            ),
            error=outcome.error,
            attempts=claimed.attempt if result.sent else claimed.attempt - 1,
            last_status=outcome.status_code,
            last_headers=orjson.dumps(dict(outcome.headers)).decode() if outcome.headers else None,
            last_body=outcome.body_excerpt,
            created_at=result.finished_at,
        )
    )


def deliveries_of(
    session: Session, message_key: str
) -> list[tuple[Delivery, str, list[DeliveryAttempt]]]:
    """A message's deliveries with their route names and attempts, oldest first."""
    rows = list(
        session.execute(
            select(Delivery, Route.name)
            .join(Route, Route.id == Delivery.route_id)
            .where(Delivery.message_key == message_key)
            .order_by(Delivery.id)
        )
    )
    attempts: dict[int, list[DeliveryAttempt]] = {}
    if rows:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_([d.id for d, _ in rows]))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [(delivery, route, attempts.get(delivery.id, [])) for delivery, route in rows]


def backfill_chunk(
    session: Session, job: Job, params: dict[str, Any], chunk_size: int
) -> ChunkResult:
    """One chunk of a backfill: past messages for one route, skipping those it already has."""
    route = session.get(Route, params["route_id"])
    if route is None:
        return ChunkResult(0, 0, 0, job.cursor, done=True)
    compiled = CompiledRoute.of(route)
    after_seq = int(job.cursor or 0)
    query = (
        select(Message.seq, Message.key, Message.event, Message.accepted_at)
        .where(
            Message.seq > after_seq, Message.accepted_at >= datetime.fromisoformat(params["since"])
        )
        .order_by(Message.seq)
        .limit(chunk_size)
    )
    if params.get("until"):
        query = query.where(Message.accepted_at < datetime.fromisoformat(params["until"]))
    rows = session.execute(query).all()
    if not rows:
        return ChunkResult(0, 0, 0, job.cursor, done=True)
    already = set(
        session.scalars(
            select(Delivery.message_key).where(
                Delivery.route_id == route.id, Delivery.message_key.in_([r.key for r in rows])
            )
        )
    )
    now = utcnow()
    new = []
    for row in rows:
        event = orjson.loads(row.event)
        if row.key in already or not compiled.matches(event):
            continue
        new.append(delivery_row(compiled, row.key, event, row.accepted_at, now))
    if new:
        session.connection().execute(insert(DELIVERIES), new)
    return ChunkResult(len(rows), len(new), 0, str(rows[-1].seq), done=len(rows) < chunk_size)
