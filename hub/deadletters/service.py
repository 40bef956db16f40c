"""Triage of dead letters: list, group, show, edit, replay, discard. Every action is audited.

Replaying puts the original delivery back in its queue (same id, so it keeps its place in
its key's order) with a fresh attempt budget; the dead letter is kept, marked replayed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from hub.audit.changes import json_changes
from hub.audit.service import Actor, record
from hub.connections.models import Connection
from hub.contracts.checker import MessageChecker
from hub.deadletters.models import DeadLetter
from hub.deadletters.schemas import DeadLetterFilter
from hub.deliveries.models import Delivery, DeliveryAttempt
from hub.deliveries.store import DISCARDED, PENDING
from hub.errors import AlreadyExists, NotFound, ProblemError
from hub.inbound.service import InboundPipeline
from hub.jobs.models import Job
from hub.jobs.service import ChunkResult
from hub.messages.models import Message
from hub.messages.service import violation_problem
from hub.routes.models import Route
from hub.store.named import find
from hub.timestamps import utcnow


class NotEditable(AlreadyExists):
    status = 409
    slug = "dead-letter-not-editable"
    title = "This dead letter cannot be edited"


class NotOpen(AlreadyExists):
    status = 409
    slug = "dead-letter-not-open"
    title = "The dead letter was already replayed or discarded"


def _resolve(session: Session, model: type[Route] | type[Connection], ref: str) -> str:
    found = find(session, model, ref)
    return found.id if found else ref  # an unknown name simply matches nothing


def filtered(session: Session, filters: DeadLetterFilter) -> Select[DeadLetter]:
    query = select(DeadLetter)
    if filters.status:
        query = query.where(DeadLetter.status == filters.status)
    if filters.direction:
        query = query.where(DeadLetter.direction == filters.direction)
    if filters.route:
        query = query.where(DeadLetter.route_id == _resolve(session, Route, filters.route))
    if filters.connection:
        query = query.where(
            DeadLetter.connection_id == _resolve(session, Connection, filters.connection)
        )
    if filters.type:
        if filters.type.endswith(".*"):
            query = query.where(DeadLetter.message_type.startswith(filters.type[:-1]))
        else:
            query = query.where(DeadLetter.message_type == filters.type)
    if filters.reason:
        query = query.where(DeadLetter.reason == filters.reason)
    if filters.signature:
        query = query.where(DeadLetter.signature == filters.signature)
    if filters.since:
        query = query.where(DeadLetter.created_at >= filters.since)
    if filters.until:
        query = query.where(DeadLetter.created_at < filters.until)
    return query


def inbound_payload(letter: DeadLetter) -> dict[str, Any] | None:
    """The kept request of an inbound dead letter, for the detail view."""
    if letter.direction != "inbound":
        return None
    body: str | None = None
    body_base64: str | None = None
    if letter.raw_body is not None:
        try:
            body = letter.raw_body.decode()
        except UnicodeDecodeError:
            body_base64 = base64.b64encode(letter.raw_body).decode()
    return {
        "headers": orjson.loads(letter.raw_headers) if letter.raw_headers else {},
        "body": body,
        "body_base64": body_base64,
        "record": orjson.loads(letter.record) if letter.record else None,
    }


def view(letter: DeadLetter) -> dict[str, Any]:
    last_response = None
    if letter.last_status is not None or letter.last_body is not None:
        last_response = {
            "status": letter.last_status,
            "headers": orjson.loads(letter.last_headers) if letter.last_headers else {},
            "body": letter.last_body,
        }
    return {
        "id": letter.id,
        "direction": letter.direction,
        "status": letter.status,
        "reason": letter.reason,
        "error_class": letter.error_class,
        "signature": letter.signature,
        "error": letter.error,
        "attempts": letter.attempts,
        "last_response": last_response,
        "route_id": letter.route_id,
        "connection_id": letter.connection_id,
        "delivery_id": letter.delivery_id,
        "message_key": letter.message_key,
        "message_type": letter.message_type,
        "ordering_key": letter.ordering_key,
        "edited": letter.edited_event is not None,
        "source_delivery_id": letter.source_delivery_id,
        "record_kind": orjson.loads(letter.record)["kind"] if letter.record else None,
        "replay_message_keys": letter.replay_message_key.split(",")
        if letter.replay_message_key
        else [],
        "created_at": letter.created_at,
        "resolved_at": letter.resolved_at,
        "resolution": letter.resolution,
    }


class DeadLetterService:
    def __init__(self, checker: MessageChecker, inbound: InboundPipeline) -> None:
        self.checker = checker
        self.inbound = inbound

    def page(
        self, session: Session, filters: DeadLetterFilter, after: str | None, limit: int
    ) -> list[DeadLetter]:
        query = filtered(session, filters).order_by(DeadLetter.id).limit(limit)
        if after:
            query = query.where(DeadLetter.id > after)
        return list(session.scalars(query))

    def groups(self, session: Session, filters: DeadLetterFilter) -> list[dict[str, Any]]:
        matching = filtered(session, filters).subquery()
        rows = session.execute(
            select(
                matching.c.signature,
                func.count(),
                func.min(matching.c.error_class),
                func.max(matching.c.error),
                func.min(matching.c.created_at),
                func.max(matching.c.created_at),
            )
            .group_by(matching.c.signature)
            .order_by(func.count().desc(), matching.c.signature)
        ).all()
        route_names = {rid: name for rid, name in session.execute(select(Route.id, Route.name))}
        routes_by_signature: dict[str, set[str]] = {}
        for signature, route_id in session.execute(
            select(matching.c.signature, matching.c.route_id).distinct()
        ):
            if route_id:
                routes_by_signature.setdefault(signature, set()).add(
                    route_names.get(route_id, route_id)
                )
        return [
            {
                "signature": signature,
                "count": count,
                "error_class": error_class,
                "sample_error": sample,
                "routes": sorted(routes_by_signature.get(signature, ())),
                "first_at": first,
                "last_at": last,
            }
            for signature, count, error_class, sample, first, last in rows
        ]

    def get(self, session: Session, letter_id: str) -> DeadLetter:
        letter = session.get(DeadLetter, letter_id)
        if letter is None:
            raise NotFound(f"no dead letter {letter_id!r}")
        return letter

    def event_of(self, session: Session, letter: DeadLetter) -> dict[str, Any] | None:
        """What a replay would send: the edited event, else the stored message."""
        if letter.edited_event:
            edited: dict[str, Any] = orjson.loads(letter.edited_event)
            return edited
        if letter.message_key is None:
            return None
        raw = session.scalar(select(Message.event).where(Message.key == letter.message_key))
        return orjson.loads(raw) if raw else None

    def history(self, session: Session, letter: DeadLetter) -> Sequence[DeliveryAttempt]:
        if letter.delivery_id is None:
            return []
        return list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == letter.delivery_id)
                .order_by(DeliveryAttempt.number, DeliveryAttempt.id)
            )
        )

    def _open(self, session: Session, letter_id: str) -> DeadLetter:
        letter = self.get(session, letter_id)
        if letter.status != "open":
            raise NotOpen(f"dead letter {letter_id} is {letter.status}")
        return letter

    def edit(
        self, session: Session, actor: Actor, letter_id: str, data: dict[str, Any]
    ) -> DeadLetter:
        """Change the data a replay will send, checked against the message's contract."""
        letter = self._open(session, letter_id)
        if letter.direction == "inbound":
            raise NotEditable(
                "an inbound dead letter holds the payload as its sender sent it; fix the "
                "mapping (or the connection's mapping choice) and replay it"
            )
        event = self.event_of(session, letter)
        if event is None:
            raise NotFound(f"dead letter {letter_id} has no message to edit")
        edited = {**event, "data": data}
        result = self.checker.check(edited)
        if not result.ok:
            raise violation_problem(result.violations)
        letter.edited_event = orjson.dumps(edited).decode()
        record(
            session,
            actor,
            "deadletter.edit",
            "deadletter",
            letter.id,
            before={"data": event["data"]},
            after={"data": data},
            detail=orjson.dumps(json_changes(event["data"], data)).decode(),
        )
        return letter

    def replay(self, session: Session, actor: Actor, letter_id: str) -> DeadLetter:
        letter = self._open(session, letter_id)
        before = view(letter)
        if letter.direction == "inbound":
            replay_inbound(session, self.inbound, letter, f"replayed by {actor.name}")
        else:
            replay_letters(session, [letter], f"replayed by {actor.name}")
        record(
            session,
            actor,
            "deadletter.replay",
            "deadletter",
            letter.id,
            before=before,
            after=view(letter),
        )
        return letter

    def discard(self, session: Session, actor: Actor, letter_id: str, reason: str) -> DeadLetter:
        letter = self._open(session, letter_id)
        before = view(letter)
        now = utcnow()
        letter.status, letter.resolved_at, letter.resolution = "discarded", now, reason
        if letter.delivery_id is not None:
            # Final: a `block` route lets the key's later messages go on.
            session.execute(
                update(Delivery).where(Delivery.id == letter.delivery_id).values(status=DISCARDED)
            )
        record(
            session,
            actor,
            "deadletter.discard",
            "deadletter",
            letter.id,
            before=before,
            after=view(letter),
            detail=reason,
        )
        return letter


def replay_letters(session: Session, letters: Sequence[DeadLetter], resolution: str) -> int:
    """Requeue the deliveries of open outbound dead letters; mark the letters replayed."""
    now = utcnow()
    plain = [d.delivery_id for d in letters if d.delivery_id is not None and d.edited_event is None]
    if plain:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(plain))
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_expires_at=None,
            )
        )
    for letter in letters:
        if letter.delivery_id is not None and letter.edited_event is not None:
            session.execute(
                update(Delivery)
                .where(Delivery.id == letter.delivery_id)
                .values(
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    event_override=letter.edited_event,
                )
            )
        letter.status, letter.resolved_at, letter.resolution = "replayed", now, resolution
        letter.replay_delivery_id = letter.delivery_id
    return len(letters)


def replay_inbound(
    session: Session, inbound: InboundPipeline, letter: DeadLetter, resolution: str
) -> list[str]:
    """Run an inbound dead letter through the pipeline again; raises if it still fails."""
    keys = inbound.replay(session, letter)
    letter.status, letter.resolved_at, letter.resolution = "replayed", utcnow(), resolution
    letter.replay_message_key = ",".join(keys)
    return keys


def replay_chunk(
    session: Session,
    job: Job,
    params: dict[str, Any],
    chunk_size: int,
    inbound: InboundPipeline | None = None,
) -> ChunkResult:
    """One chunk of a bulk replay job: the next open dead letters matching its filter.

    Outbound letters go back to their queues together. Inbound ones run through the
    pipeline one by one, each in a savepoint: one that still fails stays open and counts
    as failed without undoing the rest of the chunk.
    """
    limit = int(params["limit"])
    filters = DeadLetterFilter.model_validate({k: v for k, v in params.items() if k != "limit"})
    query = filtered(session, filters.model_copy(update={"status": "open"}))
    if job.cursor:
        query = query.where(DeadLetter.id > job.cursor)
    size = max(0, min(chunk_size, limit - job.processed))
    letters = list(session.scalars(query.order_by(DeadLetter.id).limit(size))) if size else []
    if not letters:
        return ChunkResult(0, 0, 0, job.cursor, done=True)
    outbound = [letter for letter in letters if letter.delivery_id is not None]
    replay_letters(session, outbound, f"replayed by job {job.id}")
    succeeded = len(outbound)
    for letter in letters:
        if letter.direction != "inbound" or inbound is None:
            continue
        try:
            with session.begin_nested():
                replay_inbound(session, inbound, letter, f"replayed by job {job.id}")
            succeeded += 1
        except ProblemError as exc:
            # It stays open; what it says is why it failed now, not at first.
            letter.error = exc.detail
            letter.attempts += 1
    done = len(letters) < size or job.processed + len(letters) >= limit
    return ChunkResult(len(letters), succeeded, len(letters) - succeeded, letters[-1].id, done)
