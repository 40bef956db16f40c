"""The inbound pipeline: verify, dedupe, parse, map, check, accept.

Nothing verified is ever dropped. A request that fails verification is refused (401) and
leaves no trace; once it is verified, every record either becomes an accepted message or
an inbound dead letter holding the raw request, so that it can be replayed once its
mapping (or its contract, or the connector) is fixed.

The same pipeline serves pushed requests (``POST /v1/connections/{id}/inbound``), polled
pages (:mod:`hub.inbound.polling`) and replays of inbound dead letters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.sdk import (
    CANONICAL,
    Connector,
    InboundRequest,
    NativeRecord,
    VerificationFailed,
)
from hub.connections.models import Connection
from hub.connections.service import ConnectionService
from hub.contracts.checker import MessageChecker, Violation, size_violation
from hub.deadletters.models import DeadLetter
from hub.deliveries.store import signature_of
from hub.errors import NotFound, ProblemError
from hub.inbound.models import InboundReceipt
from hub.mappings import MappingError, MappingRegistry
from hub.messages.store import MessageStore, Outcome, PreparedMessage, pg_message_lock, prepare
from hub.store.committer import GroupCommitter
from hub.store.identifiers import new_id
from hub.store.named import find
from hub.timestamps import utcnow
from hub.usage.models import ActorKind, Role
from hub.usage.service import UsageRecorder

logger = logging.getLogger(__name__)

CONNECTION_CACHE_SECONDS = 1.0

# Headers a dead letter keeps: enough to parse the request again, never credentials.
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class VerificationRefused(ProblemError):
    status = 401
    slug = "inbound-verification-failed"
    title = "The inbound request could not be verified"


class InboundNotSupported(ProblemError):
    status = 404
    slug = "inbound-not-supported"
    title = "This connection does not take inbound requests"


class Unmappable(Exception):
    """A record with no way to a canonical message: no mapping, or not an object."""


class ReplayFailed(ProblemError):
    status = 422
    slug = "replay-failed"
    title = "The dead letter still cannot be turned into a valid message"


@dataclass(frozen=True)
class Failure:
    """Why a verified record did not become a message."""

    reason: str  # parse_failed | mapping_failed | contract_violation | idempotency_conflict
    error_class: str
    error: str
    message_type: str | None = None
    violations: list[dict[str, str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": self.reason, "error": self.error}
        if self.violations:
            body["violations"] = self.violations
        return body


@dataclass
class RecordOutcome:
    """One record on its way through the pipeline: a message to store, or a failure."""

    record: NativeRecord | None
    prepared: PreparedMessage | None = None
    failure: Failure | None = None


@dataclass
class InboundWrite:
    """Everything one verified request (or polled page) stores, in one transaction."""

    connection: Connection
    delivery_id: str | None
    request: InboundRequest | None
    outcomes: list[RecordOutcome]
    cursor: tuple[str | None, str] | None = None  # (next cursor, poll owner) for polled pages
    answer: dict[str, Any] = field(default_factory=dict)


def inbound_source(connection_name: str) -> str:
    """The CloudEvents ``source`` of messages made from a connection's records."""
    return f"/connections/{connection_name}"


class InboundPipeline:
    """Turns verified native records into accepted messages or inbound dead letters."""

    def __init__(
        self,
        *,
        checker: MessageChecker,
        mappings: MappingRegistry,
        connections: ConnectionService,
        committer: GroupCommitter,
        store: MessageStore,
        usage: UsageRecorder | None = None,
    ) -> None:
        self.checker = checker
        self.mappings = mappings
        self.connections = connections
        self.committer = committer
        self.store = store
        self.usage = usage
        self._live: dict[str, tuple[datetime, Connector]] = {}  # type: ignore[type-arg]
        self._connections: dict[str, tuple[Connection, float]] = {}

    # -- connections and their connectors -------------------------------------------------

    def connection(self, sessions: sessionmaker[Session], ref: str) -> Connection:
        """The connection ``ref`` (id or name), read at most once a second per reference.

        A pushed request costs a database read otherwise; a changed config or secret
        reaches inbound verification within a second.
        """
        now = time.monotonic()
        cached = self._connections.get(ref)
        if cached is not None and now - cached[1] < CONNECTION_CACHE_SECONDS:
            return cached[0]
        with sessions() as session:
            row = find(session, Connection, ref)
            if row is None:
                raise NotFound(f"no connection {ref!r}")
            session.expunge(row)
        if len(self._connections) > 10_000:
            self._connections.clear()  # names that come and go must not grow it forever
        self._connections[ref] = (row, now)
        return row

    def connector_for(self, connection: Connection) -> Connector:  # type: ignore[type-arg]
        """The connection's connector, rebuilt when the connection changed."""
        cached = self._live.get(connection.id)
        if cached is not None and cached[0] == connection.updated_at:
            return cached[1]
        connector = self.connections.instantiate(connection)
        self._live[connection.id] = (connection.updated_at, connector)
        if cached is not None:
            _close_later(cached[1])
        return connector

    async def aclose(self) -> None:
        for _, connector in self._live.values():
            await connector.aclose()
        self._live.clear()

    # -- pushed requests ------------------------------------------------------------------

    async def receive(
        self, connection: Connection, request: InboundRequest
    ) -> tuple[dict[str, Any], bool]:
        """Handle one pushed request; answer ``(body, duplicate)``."""
        connector = self.connector_for(connection)
        if not connector.manifest.receives:
            raise InboundNotSupported(
                f"the {connection.connector} connector of {connection.name!r} does not receive"
            )
        try:
            verified = connector.verify(request)
        except VerificationFailed as exc:
            raise VerificationRefused(str(exc) or "verification failed") from None
        write = InboundWrite(connection, verified.delivery_id, request, [])
        records: list[NativeRecord] = []
        try:
            records = list(await connector.parse(request))
        except Exception as exc:
            write.outcomes.append(RecordOutcome(None, failure=_parse_failure(exc)))
        else:
            self.mappings.refresh_if_due()
            write.outcomes = [
                self.canonical(connection, r, i, write) for i, r in enumerate(records)
            ]
        [answer] = await self.committer.submit(self.write, [write])
        duplicate = bool(answer.get("duplicate"))
        if records and not duplicate:
            fates = [item["status"] for item in answer["items"]]
            try:
                await connector.committed(records, fates, request)
            except Exception:
                logger.exception(
                    "connector failed after stored records", extra={"connection_id": connection.id}
                )
        return answer, duplicate

    # -- records → canonical messages -----------------------------------------------------

    def canonical(
        self, connection: Connection, record: NativeRecord, index: int, write: InboundWrite
    ) -> RecordOutcome:
        """Map and check one record. Never raises: a failure is an outcome."""
        try:
            event = self.event_of(connection, record, index, write.delivery_id)
        except MappingError as exc:
            return RecordOutcome(
                record, failure=Failure("mapping_failed", "mapping_error", str(exc))
            )
        except Unmappable as exc:
            return RecordOutcome(record, failure=Failure("mapping_failed", "no_mapping", str(exc)))
        result = self.checker.check(event)
        violations: tuple[Violation, ...] = result.violations
        if result.ok and result.contract is not None:
            prepared = prepare(event, result.contract, None, result.time)
            too_big = size_violation(result.contract, prepared.size)
            if too_big is None:
                return RecordOutcome(record, prepared=prepared)
            violations = (too_big,)
        found = [v.as_dict() for v in violations]
        summary = "; ".join(f"{v['pointer'] or '/'}: {v['message']}" for v in found[:3])
        return RecordOutcome(
            record,
            failure=Failure(
                "contract_violation",
                "contract_violation",
                f"{len(found)} violation(s): {summary}",
                message_type=event.get("type") if isinstance(event.get("type"), str) else None,
                violations=found,
            ),
        )

    def mapping_name(self, connection: Connection, kind: str) -> str | None:
        """The mapping for a record kind: the connection's choice, else the connector's."""
        chosen: dict[str, str] = orjson.loads(connection.mappings or "{}")
        if kind in chosen:
            return chosen[kind]
        connector = self.connections.connectors.get(connection.connector)
        if connector is not None:
            return connector.manifest.mappings.get(kind)
        return None

    def event_of(
        self,
        connection: Connection,
        record: NativeRecord,
        index: int,
        delivery_id: str | None,
    ) -> dict[str, Any]:
        """The canonical CloudEvent of a record: mapped, then completed with envelope fields."""
        name = self.mapping_name(connection, record.kind)
        if name is None:
            if record.kind != CANONICAL:
                raise Unmappable(
                    f"no mapping for record kind {record.kind!r}: set one with "
                    f'PATCH /v1/connections/{connection.name} {{"mappings": {{...}}}}'
                )
            if not isinstance(record.data, dict):
                raise Unmappable("a canonical record must be a JSON object")
            return dict(record.data)
        try:
            mapping = self.mappings.get(name)
        except KeyError:
            raise Unmappable(
                f"mapping {name!r} (for kind {record.kind!r}) does not exist"
            ) from None
        mapped = mapping.apply(record.data)
        event: dict[str, Any] = {
            "specversion": "1.0",
            "source": inbound_source(connection.name),
            "datacontenttype": "application/json",
        }
        contract, version = mapping.target.get("contract"), mapping.target.get("version")
        if contract and version:
            event["dataschema"] = f"urn:crossdock:contract:{contract}:{version}"
        event.update(mapped)
        if "id" not in event:
            if record.id is not None:
                event["id"] = f"{record.kind}:{record.id}"
            elif delivery_id is not None:
                event["id"] = f"{delivery_id}:{index}"
            else:
                event["id"] = new_id("evt")
        return event

    # -- the one write --------------------------------------------------------------------

    def write(self, session: Session, writes: Sequence[InboundWrite]) -> list[dict[str, Any]]:
        """The group-commit operation: receipts, messages, dead letters, cursors, together.

        Batched across every request in the commit: one look-up of earlier receipts, one
        insert of all new messages, one insert of the new receipts.
        """
        if session.get_bind().dialect.name == "postgresql":
            # The message lock (taken again, re-entrantly, by the message store): under it
            # no other process can record the same delivery between look-up and insert.
            session.execute(select(pg_message_lock()))
        earlier = _earlier_answers(session, writes)
        first_of: dict[tuple[str, str], InboundWrite] = {}
        fresh: list[InboundWrite] = []
        for write in writes:
            key = (write.connection.id, write.delivery_id or "")
            if write.delivery_id is None or (key not in earlier and key not in first_of):
                fresh.append(write)
                if write.delivery_id is not None:
                    first_of[key] = write
        prepared = [o.prepared for w in fresh for o in w.outcomes if o.prepared is not None]
        stored = iter(self.store.write(session, prepared))
        now = utcnow()
        receipts: list[dict[str, Any]] = []
        for write in fresh:
            write.answer = self._answer(session, write, stored, now)
            if write.delivery_id is not None:
                receipts.append(
                    {
                        "connection_id": write.connection.id,
                        "delivery_id": write.delivery_id,
                        "received_at": now,
                        "result": orjson.dumps(write.answer).decode(),
                    }
                )
            if write.cursor is not None:
                next_cursor, owner = write.cursor
                session.execute(
                    update(Connection)
                    .where(Connection.id == write.connection.id)
                    .where(Connection.poll_lease_owner == owner)
                    .values(poll_cursor=next_cursor)
                )
        if receipts:
            session.execute(insert(InboundReceipt), receipts)
        answers: list[dict[str, Any]] = []
        for write in writes:
            key = (write.connection.id, write.delivery_id or "")
            if write.delivery_id is not None and key in earlier:
                answers.append({**earlier[key], "duplicate": True})
            elif write.delivery_id is not None and first_of[key] is not write:
                answers.append({**first_of[key].answer, "duplicate": True})
            else:
                answers.append(write.answer)
        return answers

    def _answer(
        self, session: Session, write: InboundWrite, stored: Iterator[Outcome], now: datetime
    ) -> dict[str, Any]:
        """Each record's fate; records that did not become messages become dead letters."""
        items: list[dict[str, Any]] = []
        for index, outcome in enumerate(write.outcomes):
            item: dict[str, Any] = {"index": index}
            if outcome.prepared is not None:
                result = next(stored)
                if result.status == "conflict":
                    outcome.failure = Failure(
                        "idempotency_conflict",
                        "idempotency_conflict",
                        f"message id {outcome.prepared.event_id!r} was accepted before with "
                        f"different content (message {result.key})",
                        message_type=outcome.prepared.type,
                    )
                else:
                    item.update(status=result.status, message_key=result.key)
                    if self.usage is not None:
                        deprecation = self.usage.record(
                            outcome.prepared.family,
                            outcome.prepared.contract_version,
                            Role.PRODUCER,
                            ActorKind.CONNECTION,
                            write.connection.id,
                        )
                        if deprecation is not None:
                            item["warnings"] = [deprecation.warning()]
            if outcome.failure is not None:
                letter = self._dead_letter(write, outcome, now)
                session.add(letter)
                item.update(
                    status="dead_lettered", dead_letter_id=letter.id, **outcome.failure.as_dict()
                )
            items.append(item)
        return {
            "delivery_id": write.delivery_id,
            "duplicate": False,
            "received": len(items),
            "accepted": sum(1 for i in items if i["status"] == "accepted"),
            "dead_lettered": sum(1 for i in items if i["status"] == "dead_lettered"),
            "items": items,
        }

    def _dead_letter(
        self, write: InboundWrite, outcome: RecordOutcome, now: datetime
    ) -> DeadLetter:
        failure = outcome.failure
        assert failure is not None
        record = outcome.record
        request = write.request
        return DeadLetter(
            id=new_id("dlq"),
            direction="inbound",
            status="open",
            connection_id=write.connection.id,
            message_type=failure.message_type,
            reason=failure.reason,
            error_class=failure.error_class,
            signature=signature_of(failure.error_class, None, write.connection.id, failure.error),
            error=failure.error,
            attempts=1,
            created_at=now,
            raw_body=request.body if request is not None else None,
            raw_headers=orjson.dumps(
                {k: v for k, v in request.headers.items() if k not in _DROPPED_HEADERS}
            ).decode()
            if request is not None
            else None,
            source_delivery_id=write.delivery_id,
            record=orjson.dumps(
                {"kind": record.kind, "id": record.id, "data": record.data}
            ).decode()
            if record is not None
            else None,
        )

    # -- replaying inbound dead letters ---------------------------------------------------

    def replay(self, session: Session, letter: DeadLetter) -> list[str]:
        """Run a dead letter through the pipeline again; store its messages; their keys.

        Raises :class:`ReplayFailed` (nothing stored) when it still does not go through.
        """
        connection = session.get(Connection, letter.connection_id)
        if connection is None:
            raise NotFound(f"connection {letter.connection_id} of this dead letter is gone")
        self.mappings.refresh_if_due(0)
        write = InboundWrite(connection, letter.source_delivery_id, None, [])
        if letter.record is not None:
            raw = orjson.loads(letter.record)
            records = [NativeRecord(raw["kind"], raw["data"], raw["id"])]
        else:
            records = self._parse_again(connection, self.stored_request(letter))
        write.outcomes = [self.canonical(connection, r, i, write) for i, r in enumerate(records)]
        failures = [o.failure for o in write.outcomes if o.failure is not None]
        if failures:
            raise ReplayFailed(
                failures[0].error,
                extensions={"failures": [f.as_dict() for f in failures]},
            )
        prepared = [o.prepared for o in write.outcomes if o.prepared is not None]
        outcomes = self.store.write(session, prepared)
        conflicts = [o for o in outcomes if o.status == "conflict"]
        if conflicts:
            raise ReplayFailed(
                f"message {conflicts[0].key} was accepted before with different content"
            )
        return [o.key for o in outcomes]

    def _parse_again(self, connection: Connection, request: InboundRequest) -> list[NativeRecord]:
        """Parse a kept request again, from a thread without an event loop (a replay)."""
        connector = self.connections.instantiate(connection)

        async def parse() -> list[NativeRecord]:
            try:
                return list(await connector.parse(request))
            finally:
                await connector.aclose()

        try:
            return asyncio.run(parse())
        except Exception as exc:
            raise ReplayFailed(f"the payload still does not parse: {exc}") from None

    @staticmethod
    def stored_request(letter: DeadLetter) -> InboundRequest:
        headers: dict[str, str] = orjson.loads(letter.raw_headers) if letter.raw_headers else {}
        return InboundRequest(body=letter.raw_body or b"", headers=headers)


def _parse_failure(exc: Exception) -> Failure:
    return Failure("parse_failed", "parse_error", f"{type(exc).__name__}: {exc}"[:500])


def _earlier_answers(
    session: Session, writes: Sequence[InboundWrite]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The answers already given to deliveries among ``writes``, by (connection, delivery)."""
    wanted: dict[str, set[str]] = {}
    for write in writes:
        if write.delivery_id is not None:
            wanted.setdefault(write.connection.id, set()).add(write.delivery_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for connection_id, delivery_ids in wanted.items():
        rows = session.execute(
            select(InboundReceipt.delivery_id, InboundReceipt.result).where(
                InboundReceipt.connection_id == connection_id,
                InboundReceipt.delivery_id.in_(sorted(delivery_ids)),
            )
        )
        for delivery_id, result in rows:
            found[(connection_id, delivery_id)] = orjson.loads(result)
    return found


def _close_later(connector: Connector) -> None:  # type: ignore[type-arg]
    """Close a replaced connector without blocking the request that replaced it."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop (a CLI thread): it holds no open client worth closing
    task = loop.create_task(connector.aclose())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()
