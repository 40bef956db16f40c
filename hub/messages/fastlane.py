"""The fast lane for ``POST /v1/messages`` and ``/v1/messages/batch``: ingest in plain ASGI.

Ingest is what producers call most. Under FastAPI it paid for routing over every route,
dependency resolution, ``Request`` objects and the middleware stack: for one message,
several times the cost of the work itself (see ``benchmarks/README.md``). This middleware
answers exactly those two operations itself, before any of that, through the same functions
the documented FastAPI operations in :mod:`hub.messages.endpoints` use (authentication,
content type, JSON, :class:`~hub.messages.service.Ingestor`, :func:`batch_answer`), so both
answer identically; every other request passes through untouched.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.clients.bindings import check_source, source_refusal
from hub.clients.scopes import Scope as ApiScope
from hub.clients.security import authenticate
from hub.clients.service import Principal
from hub.contracts.lifecycle import Deprecation, deprecation_headers, header_pairs
from hub.errors import (
    PROBLEM_MEDIA_TYPE,
    InvalidParameters,
    MalformedRequest,
    PayloadTooLarge,
    ProblemError,
)
from hub.messages.service import BatchItem, Ingestor
from hub.messages.store import Outcome
from hub.requests import check_media_type, parse_json
from hub.state import HubState
from hub.usage.models import ActorKind, Role

logger = logging.getLogger(__name__)
PATH = "/v1/messages"
BATCH_PATH = "/v1/messages/batch"
EVENT_TYPES = ("application/cloudevents+json", "application/json")
BATCH_TYPES = ("application/cloudevents-batch+json", "application/json")
_JSON = b"application/json"


def _unexpected(exc: Exception) -> ProblemError:
    logger.exception("unexpected error", exc_info=exc)
    return ProblemError("an unexpected error occurred; it has been logged")


def acceptance(
    outcome: Outcome, deprecation: Deprecation | None = None
) -> tuple[int, dict[str, Any]]:
    duplicate = outcome.status == "duplicate"
    body: dict[str, Any] = {
        "key": outcome.key,
        "accepted_at": outcome.accepted_at,
        "duplicate": duplicate,
    }
    if deprecation is not None:
        body["warnings"] = [deprecation.warning()]
    return (200 if duplicate else 202), body


class IngestFastLane:
    def __init__(self, app: ASGIApp, state: Callable[[], HubState | None]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state() if scope["type"] == "http" else None
        path = scope["path"] if state is not None else None
        if state is None or path not in (PATH, BATCH_PATH) or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization = content_type = None
        declared_length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                declared_length = int(value)
        try:
            status, body, headers = await self._accept(
                state, path == BATCH_PATH, authorization, content_type, declared_length, receive
            )
        except Exception as exc:
            error = exc if isinstance(exc, ProblemError) else _unexpected(exc)
            status, body = error.status, error.to_problem(instance=path)
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            media = PROBLEM_MEDIA_TYPE.encode()
        else:
            media = _JSON
        payload = orjson.dumps(body, option=orjson.OPT_UTC_Z)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(payload)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _accept(
        self,
        state: HubState,
        batch: bool,
        authorization: str | None,
        content_type: str | None,
        declared_length: int,
        receive: Receive,
    ) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        key = None
        if authorization and authorization[:7].lower() == "bearer ":
            key = authorization[7:].strip()
        principal = authenticate(state.keys, key, ApiScope.MESSAGES_WRITE, binding_aware=True)
        check_media_type(content_type, BATCH_TYPES if batch else EVENT_TYPES)
        limit = state.settings.max_request_bytes
        if declared_length > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                raise MalformedRequest("the request ended before its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        event = parse_json(b"".join(chunks))
        if batch:
            body, named = await batch_answer(state, principal, event)
            return 200, body, [(k.lower().encode(), v.encode()) for k, v in named.items()]
        check_source(principal, event)
        outcome = await state.ingestor.ingest(event, principal.client_id)
        deprecation = state.usage.record_dataschema(
            event["dataschema"], Role.PRODUCER, ActorKind.CLIENT, principal.client_id
        )
        status, body = acceptance(outcome, deprecation)
        headers = [(b"location", f"{PATH}/{outcome.key}".encode())]
        if deprecation is not None:
            headers += header_pairs([deprecation])
        return status, body, headers


async def batch_answer(
    state: HubState, principal: Principal, events: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """``POST /v1/messages/batch``: the answer's body and headers for a parsed body."""
    if not isinstance(events, list):
        raise InvalidParameters(
            "a batch is a JSON array of CloudEvents",
            extensions={
                "violations": [{"pointer": "", "rule": "batch", "message": "not an array"}]
            },
        )
    limit = state.settings.max_batch_items
    if len(events) > limit:
        raise PayloadTooLarge(f"a batch holds at most {limit} events; got {len(events)}")
    items = await _ingest_batch_as(state.ingestor, principal, events)
    results: list[dict[str, Any]] = []
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "conflict": 0}
    # Usage is counted once per contract version of the batch, not once per event.
    produced = Counter(
        events[item.index]["dataschema"]
        for item in items
        if item.outcome is not None and item.outcome.status != "conflict"
    )
    deprecated: dict[str, Deprecation] = {}
    for dataschema, produced_count in produced.items():
        found = state.usage.record_dataschema(
            dataschema, Role.PRODUCER, ActorKind.CLIENT, principal.client_id, produced_count
        )
        if found is not None:
            deprecated[dataschema] = found
    for item in items:
        entry: dict[str, Any] = {"index": item.index}
        if item.outcome is not None:
            entry["status"] = item.outcome.status
            entry["key"] = item.outcome.key
            entry["accepted_at"] = item.outcome.accepted_at
            deprecation = deprecated.get(events[item.index]["dataschema"])
            if deprecation is not None and item.outcome.status != "conflict":
                entry["warnings"] = [deprecation.warning()]
        else:
            entry["status"] = "rejected"
        if item.problem is not None:
            entry["problem"] = item.problem
        counts[entry["status"]] += 1
        results.append(entry)
    body = {
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"] + counts["conflict"],
        "results": results,
    }
    return body, deprecation_headers(deprecated.values())


async def _ingest_batch_as(
    ingestor: Ingestor, principal: Principal, events: list[Any]
) -> list[BatchItem]:
    """The batch's items; a bound client's events of another source are rejected one by one
    (403 problem in their result), the others ingested as usual."""
    refusals = {i: r for i, e in enumerate(events) if (r := source_refusal(principal, e))}
    if not refusals:
        return await ingestor.ingest_batch(events, principal.client_id)
    allowed = [i for i in range(len(events)) if i not in refusals]
    ingested = await ingestor.ingest_batch([events[i] for i in allowed], principal.client_id)
    items = [BatchItem(i, problem=r.to_problem()) for i, r in refusals.items()]
    for index, item in zip(allowed, ingested, strict=True):
        item.index = index
        items.append(item)
    return sorted(items, key=lambda item: item.index)
