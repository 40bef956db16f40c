"""``/v1/messages``: the governed ingest API and the message feed."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, Security

from hub.clients.bindings import check_source, own_source, sees_source, source_refusal
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.contracts.checker import load_envelope_schema
from hub.contracts.lifecycle import Deprecation, deprecation_headers
from hub.errors import InvalidParameters, NotFound, PayloadTooLarge
from hub.messages import service
from hub.messages.fastlane import EVENT_TYPES, acceptance
from hub.messages.schemas import Acceptance, BatchResult, MessagePage, StoredMessage
from hub.messages.service import BatchItem, Ingestor
from hub.openapi import problems
from hub.pagination import decode_int_cursor, encode_cursor
from hub.requests import read_json
from hub.responses import FastJSONResponse
from hub.state import hub_state
from hub.store.sessions import ReadSession
from hub.timestamps import QueryTime
from hub.usage.models import ActorKind, Role
from hub.usage.service import read_by_client

router = APIRouter(prefix="/v1/messages", tags=["messages"])

BATCH_TYPES = ("application/cloudevents-batch+json", "application/json")

_ENVELOPE = load_envelope_schema()
_EVENT_BODY = {
    "required": True,
    "content": {kind: {"schema": _ENVELOPE} for kind in EVENT_TYPES},
}
_BATCH_BODY = {
    "required": True,
    "content": {
        kind: {"schema": {"type": "array", "items": _ENVELOPE, "maxItems": 1000}}
        for kind in BATCH_TYPES
    },
}

# Both narrow a client bound to a connection to that connection's source.
Writer = Annotated[Principal, Security(require(Scope.MESSAGES_WRITE, binding_aware=True))]
Reader = Annotated[Principal, Security(require(Scope.MESSAGES_READ, binding_aware=True))]


@router.post(
    "",
    status_code=202,
    summary="Submit one canonical message",
    description=(
        "Checks one CloudEvent against the contract version its `dataschema` names and "
        "stores it. Answers 202 only after the message is committed. `source` + `id` is the "
        "idempotency key: the same event again answers 200 with `duplicate: true` and the "
        "original acceptance; the same key with different content answers 409."
    ),
    responses={
        202: {"model": Acceptance, "description": "Accepted and stored."},
        200: {"model": Acceptance, "description": "Accepted before (duplicate)."},
        **problems(400, 401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra={"requestBody": _EVENT_BODY},
)
async def post_message(request: Request, principal: Writer) -> FastJSONResponse:
    # At run time hub.messages.fastlane answers this operation before FastAPI sees it, with
    # the same functions; this declaration documents it and serves if the lane is off.
    state = hub_state(request)
    event = await read_json(request, EVENT_TYPES)
    check_source(principal, event)
    outcome = await state.ingestor.ingest(event, principal.client_id)
    deprecation = state.usage.record_dataschema(
        event["dataschema"], Role.PRODUCER, ActorKind.CLIENT, principal.client_id
    )
    status, body = acceptance(outcome, deprecation)
    headers = {"Location": f"/v1/messages/{outcome.key}"}
    headers.update(deprecation_headers([deprecation] if deprecation else []))
    return FastJSONResponse(body, status_code=status, headers=headers)


@router.post(
    "/batch",
    summary="Submit up to 1,000 canonical messages",
    description=(
        "Each event is checked and stored on its own merits: valid events are accepted even "
        "when others in the same batch are rejected. The answer has one result per event, "
        "in order, with `index` pointing back into the submitted array. All accepted events "
        "of one call are committed together before the answer."
    ),
    response_model=BatchResult,
    responses=problems(400, 401, 403, 413, 415, 422, 503),
    openapi_extra={"requestBody": _BATCH_BODY},
)
async def post_batch(request: Request, principal: Writer) -> FastJSONResponse:
    state = hub_state(request)
    events = await read_json(request, BATCH_TYPES)
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
    return FastJSONResponse(
        {
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"] + counts["conflict"],
            "results": results,
        },
        headers=deprecation_headers(deprecated.values()),
    )


@router.get(
    "/{key}",
    summary="One stored message",
    response_model=StoredMessage,
    response_model_exclude_unset=True,  # `warnings` only for a deprecated version
    responses=problems(401, 403, 404),
)
def get_message(
    request: Request, response: Response, key: str, principal: Reader, session: ReadSession
) -> dict[str, Any]:
    message = service.get_message(session, key)
    if not sees_source(principal, message.source):
        raise NotFound(f"no message with key {key!r}")  # as if it did not exist
    view = service.message_view(message)
    usage = hub_state(request).usage
    response.headers.update(read_by_client(usage, principal.client_id, [message], [view]))
    return view


@router.get(
    "",
    summary="The message feed, in acceptance order",
    description=(
        "A cursor-paginated feed. Keep the `next_cursor` of each page and pass it back as "
        "`after`: every message accepted after it comes exactly once, in acceptance order. "
        "An empty page returns the same cursor, so polling with it is safe."
    ),
    response_model=MessagePage,
    response_model_exclude_unset=True,  # `warnings` only for a deprecated version
    responses=problems(401, 403, 422),
)
def list_messages(
    request: Request,
    response: Response,
    principal: Reader,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor` from an earlier page.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[
        str | None, Query(description="An event type, or `family.*`.", max_length=128)
    ] = None,
    subject: Annotated[str | None, Query(max_length=256)] = None,
    source: Annotated[str | None, Query(max_length=512)] = None,
    correlation_id: Annotated[str | None, Query(max_length=256)] = None,
    accepted_after: Annotated[
        QueryTime | None, Query(description="Inclusive, with a UTC offset.")
    ] = None,
    accepted_before: Annotated[
        QueryTime | None, Query(description="Exclusive, with a UTC offset.")
    ] = None,
) -> dict[str, Any]:
    bound_source = own_source(principal)
    if bound_source is not None and source not in (None, bound_source):
        # A bound client asking for another source sees what is there for it: nothing.
        cursor = encode_cursor(decode_int_cursor(after) if after else 0)
        return {"items": [], "next_cursor": cursor, "has_more": False}
    filters = service.FeedFilter(
        type=type,
        subject=subject,
        source=bound_source or source,
        correlation_id=correlation_id,
        accepted_after=accepted_after,
        accepted_before=accepted_before,
    )
    page = service.feed(session, filters, after, limit)
    views = [service.message_view(m) for m in page.messages]
    usage = hub_state(request).usage
    response.headers.update(read_by_client(usage, principal.client_id, page.messages, views))
    return {
        "items": views,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
    }


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
