"""Ingest (check, prepare, group commit) and the message feed.

Ingest never opens a transaction itself: it hands prepared messages to the
:class:`~hub.store.committer.GroupCommitter`, which commits them before any caller
hears "accepted".
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.contracts.checker import MessageChecker, Violation
from hub.errors import ContractViolation, IdempotencyConflict, InvalidParameters, NotFound
from hub.messages.models import Message
from hub.messages.store import Outcome, PreparedMessage, prepare, store_batch
from hub.store.committer import GroupCommitter


def violation_problem(violations: Sequence[Violation]) -> ContractViolation:
    count = len(violations)
    return ContractViolation(
        f"{count} violation{'s' if count != 1 else ''}: "
        + "; ".join(f"{v.pointer or '/'}: {v.message}" for v in violations[:3])
        + (" …" if count > 3 else ""),
        extensions={"violations": [v.as_dict() for v in violations]},
    )


def conflict_problem(outcome: Outcome) -> IdempotencyConflict:
    return IdempotencyConflict(
        "this source + id was accepted before with different content; use a new id for a new event",
        extensions={"key": outcome.key, "accepted_at": outcome.accepted_at.isoformat()},
    )


def check(checker: MessageChecker, event: Any, client_id: str | None) -> PreparedMessage:
    """Check ``event`` against its contract; raise a 422 problem listing every violation."""
    result = checker.check(event)
    if not result.ok or result.contract is None:
        raise violation_problem(result.violations)
    return prepare(event, result.contract, client_id)


async def ingest(
    checker: MessageChecker, committer: GroupCommitter, event: Any, client_id: str | None
) -> Outcome:
    prepared = check(checker, event, client_id)
    [outcome] = await committer.submit(store_batch, [prepared])
    if outcome.status == "conflict":
        raise conflict_problem(outcome)
    return outcome


@dataclass
class BatchItem:
    index: int
    outcome: Outcome | None = None
    problem: dict[str, Any] | None = None


async def ingest_batch(
    checker: MessageChecker, committer: GroupCommitter, events: list[Any], client_id: str | None
) -> list[BatchItem]:
    """Accept every valid event; report each rejected one with its problems."""
    items = [BatchItem(index) for index in range(len(events))]
    prepared: list[PreparedMessage] = []
    prepared_items: list[BatchItem] = []
    for item, event in zip(items, events, strict=True):
        try:
            prepared.append(check(checker, event, client_id))
            prepared_items.append(item)
        except ContractViolation as problem:
            item.problem = problem.to_problem()
    if prepared:
        for item, outcome in zip(
            prepared_items, await committer.submit(store_batch, prepared), strict=True
        ):
            item.outcome = outcome
            if outcome.status == "conflict":
                item.problem = conflict_problem(outcome).to_problem()
    return items


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw[:1] != "s" or not raw[1:].isdigit():
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameters(
            "the cursor is not one this hub issued; pass back a next_cursor unchanged",
            extensions={
                "violations": [{"pointer": "", "rule": "cursor", "message": "unknown cursor"}]
            },
        ) from None


@dataclass(frozen=True)
class FeedFilter:
    """Filters of the feed; ``type`` takes an exact type or a ``family.*`` pattern."""

    type: str | None = None
    subject: str | None = None
    source: str | None = None
    correlation_id: str | None = None
    accepted_after: datetime | None = None
    accepted_before: datetime | None = None

    def apply(self, query: Select[Message]) -> Select[Message]:
        if self.type:
            if self.type.endswith(".*"):
                query = query.where(Message.family == self.type[:-2])
            else:
                query = query.where(Message.type == self.type)
        if self.subject:
            query = query.where(Message.subject == self.subject)
        if self.source:
            query = query.where(Message.source == self.source)
        if self.correlation_id:
            query = query.where(Message.correlation_id == self.correlation_id)
        if self.accepted_after:
            query = query.where(Message.accepted_at >= self.accepted_after)
        if self.accepted_before:
            query = query.where(Message.accepted_at < self.accepted_before)
        return query


@dataclass(frozen=True)
class FeedPage:
    messages: list[Message]
    next_cursor: str
    has_more: bool


def get_message(session: Session, key: str) -> Message:
    message = session.scalar(select(Message).where(Message.key == key))
    if message is None:
        raise NotFound(f"no message with key {key!r}")
    return message


def feed(session: Session, filters: FeedFilter, after: str | None, limit: int) -> FeedPage:
    """Messages in acceptance order after the cursor. An empty page keeps the cursor."""
    after_seq = decode_cursor(after) if after else 0
    query = filters.apply(select(Message).where(Message.seq > after_seq))
    rows = list(session.scalars(query.order_by(Message.seq).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if rows else after_seq
    return FeedPage(rows, encode_cursor(last), has_more)


def message_view(message: Message) -> dict[str, Any]:
    return {
        "key": message.key,
        "accepted_at": message.accepted_at,
        "event": orjson.loads(message.event),
    }
