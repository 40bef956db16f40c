"""Ingest (check, prepare, group commit) and the message feed.

Ingest never opens a transaction itself: it hands prepared messages to the
:class:`~hub.store.committer.GroupCommitter`, which commits them before any caller
hears "accepted".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.contracts.checker import MessageChecker, Violation, size_violation
from hub.contracts.lifecycle import SUNSET_RULE
from hub.errors import ContractVersionSunset, ContractViolation, IdempotencyConflict, NotFound
from hub.messages.models import Message
from hub.messages.store import MessageStore, Outcome, PreparedMessage, prepare
from hub.pagination import decode_int_cursor, encode_cursor
from hub.store.committer import GroupCommitter


def violation_problem(violations: Sequence[Violation]) -> ContractViolation:
    count = len(violations)
    # A version past its sunset gets its own type: the producer must upgrade, not fix data.
    sunset = any(v.rule == SUNSET_RULE for v in violations)
    return (ContractVersionSunset if sunset else ContractViolation)(
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
    prepared = prepare(event, result.contract, client_id, result.time)
    too_big = size_violation(result.contract, prepared.size)
    if too_big is not None:
        raise violation_problem([too_big])
    return prepared


@dataclass
class BatchItem:
    index: int
    outcome: Outcome | None = None
    problem: dict[str, Any] | None = None


@dataclass
class Ingestor:
    """Check, then store through the group committer: the Check and Accept steps."""

    checker: MessageChecker
    committer: GroupCommitter
    store: MessageStore

    async def ingest(self, event: Any, client_id: str | None) -> Outcome:
        prepared = check(self.checker, event, client_id)
        [outcome] = await self.committer.submit(self.store.write, [prepared])
        if outcome.status == "conflict":
            raise conflict_problem(outcome)
        return outcome

    async def ingest_batch(self, events: list[Any], client_id: str | None) -> list[BatchItem]:
        """Accept every valid event; report each rejected one with its problems."""
        items = [BatchItem(index) for index in range(len(events))]
        prepared: list[PreparedMessage] = []
        prepared_items: list[BatchItem] = []
        for item, event in zip(items, events, strict=True):
            try:
                prepared.append(check(self.checker, event, client_id))
                prepared_items.append(item)
            except ContractViolation as problem:
                item.problem = problem.to_problem()
        if prepared:
            outcomes = await self.committer.submit(self.store.write, prepared)
            for item, outcome in zip(prepared_items, outcomes, strict=True):
                item.outcome = outcome
                if outcome.status == "conflict":
                    item.problem = conflict_problem(outcome).to_problem()
        return items


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
    after_seq = decode_int_cursor(after) if after else 0
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
