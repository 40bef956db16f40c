"""``/v1/messages``: the governed ingest API and the message feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, Security

from hub.clients.bindings import check_source, own_source, sees_source
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.contracts.checker import load_envelope_schema
from hub.contracts.lifecycle import deprecation_headers
from hub.errors import NotFound
from hub.messages import service
from hub.messages.fastlane import BATCH_TYPES, EVENT_TYPES, acceptance, batch_answer
from hub.messages.schemas import Acceptance, BatchResult, MessagePage, StoredMessage
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
    # Answered by hub.messages.fastlane at run time, like post_message.
    state = hub_state(request)
    events = await read_json(request, BATCH_TYPES)
    body, headers = await batch_answer(state, principal, events)
    return FastJSONResponse(body, headers=headers)


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
