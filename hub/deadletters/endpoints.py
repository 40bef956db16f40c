"""``/v1/deadletters``: triage, edit, replay (one or in bulk) and discard."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Security
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audit.service import record
from hub.clients.bindings import sees_connection
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.connections.endpoints import actor
from hub.deadletters.schemas import (
    DeadLetterDetail,
    DeadLetterEdit,
    DeadLetterFilter,
    DeadLetterOut,
    DeadLetterPage,
    Discard,
    JobOut,
    ReplayRequest,
    SignatureGroups,
)
from hub.deadletters.service import filtered, inbound_payload, view
from hub.deliveries.schemas import attempt_view
from hub.deliveries.wakeup import notify
from hub.errors import NotFound, OutsideBinding
from hub.jobs import service as jobs
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.responses import FastJSONResponse
from hub.state import hub_state
from hub.store.committer import AFTER_COMMIT
from hub.store.sessions import ReadSession, WriteSession
from hub.timestamps import QueryTime

router = APIRouter(prefix="/v1/deadletters", tags=["dead letters"])

# A client bound to a connection sees and acts on that connection's dead letters only.
Ops = Annotated[Principal, Security(require(Scope.OPS, binding_aware=True))]
# Ids begin with "dlq_": then no id is ever "groups" or "replays", the operations beside it.
LetterId = Annotated[str, Path(max_length=64, pattern="^dlq_")]
JobId = Annotated[str, Path(max_length=64)]


def filters(
    status: Annotated[Literal["open", "replayed", "discarded"] | None, Query()] = "open",
    direction: Annotated[Literal["outbound", "inbound"] | None, Query()] = None,
    route: Annotated[str | None, Query(max_length=128, description="Route id or name.")] = None,
    connection: Annotated[str | None, Query(max_length=128)] = None,
    type: Annotated[str | None, Query(max_length=128, description="Type or `family.*`.")] = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[QueryTime | None, Query(description="With a UTC offset.")] = None,
    until: Annotated[QueryTime | None, Query(description="With a UTC offset.")] = None,
) -> DeadLetterFilter:
    return DeadLetterFilter(
        status=status,
        direction=direction,
        route=route,
        connection=connection,
        type=type,
        reason=reason,
        signature=signature,
        since=since,
        until=until,
    )


Filters = Annotated[DeadLetterFilter, Depends(filters)]

F = TypeVar("F", bound=DeadLetterFilter)


def _narrowed(principal: Principal, chosen: F) -> F | None:
    """The filter limited to a bound client's connection; ``None`` if it asked for another
    (whether that one exists or not: the answer must not tell)."""
    if principal.connection_id is None:
        return chosen
    if chosen.connection not in (None, principal.connection_id, principal.connection):
        return None
    return chosen.model_copy(update={"connection": principal.connection_id})


def _visible(request: Request, session: Session, principal: Principal, letter_id: str) -> None:
    """404, exactly as for an unknown id, for a dead letter of another connection."""
    letter = hub_state(request).deadletters.get(session, letter_id)
    if not sees_connection(principal, letter.connection_id):
        raise NotFound(f"no dead letter {letter_id!r}")


@router.get(
    "",
    summary="Dead letters, oldest first",
    response_model=DeadLetterPage,
    responses=problems(401, 403, 422),
)
def list_dead_letters(
    request: Request,
    principal: Ops,
    chosen: Filters,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    service = hub_state(request).deadletters
    cursor = decode_cursor(after) if after else None
    narrowed = _narrowed(principal, chosen)
    rows = service.page(session, narrowed, cursor, limit) if narrowed is not None else []
    return {
        "items": [view(r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].id) if len(rows) == limit else None,
    }


@router.get(
    "/groups",
    summary="Dead letters counted by cause signature",
    response_model=SignatureGroups,
    responses=problems(401, 403, 422),
)
def group_dead_letters(
    request: Request, principal: Ops, chosen: Filters, session: ReadSession
) -> dict[str, Any]:
    narrowed = _narrowed(principal, chosen)
    if narrowed is None:
        return {"items": []}
    return {"items": hub_state(request).deadletters.groups(session, narrowed)}


@router.post(
    "/replays",
    status_code=202,
    summary="Replay every dead letter matching a filter",
    response_model=JobOut,
    responses=problems(401, 403, 422),
)
def start_replay(
    request: Request, body: ReplayRequest, principal: Ops, session: WriteSession
) -> FastJSONResponse:
    state = hub_state(request)
    narrowed = _narrowed(principal, body)
    if narrowed is None:
        raise OutsideBinding(
            f"this client is bound to connection {principal.connection!r}: "
            "it may replay only that connection's dead letters"
        )
    body = narrowed
    total = (
        session.scalar(select(func.count()).select_from(filtered(session, body).subquery())) or 0
    )
    job = jobs.create(
        session, "replay", body.model_dump(mode="json"), min(total, body.limit), principal.name
    )
    record(
        session,
        actor(principal),
        "deadletter.bulk_replay",
        "job",
        job.id,
        after=body.model_dump(mode="json"),
        detail=f"{job.total} dead letters",
    )
    session.info[AFTER_COMMIT].append(state.jobs.kick)
    return FastJSONResponse(
        jobs.view(job), status_code=202, headers={"Location": f"/v1/deadletters/replays/{job.id}"}
    )


@router.get(
    "/replays/{job_id}",
    summary="Progress of a bulk replay",
    response_model=JobOut,
    responses=problems(401, 403, 404),
)
def get_replay(job_id: JobId, principal: Ops, session: ReadSession) -> dict[str, Any]:
    job = jobs.view(jobs.get(session, job_id, "replay"))
    if principal.connection_id is not None and (
        job["params"].get("connection") != principal.connection_id
    ):
        raise NotFound(f"no replay job {job_id!r}")  # as if it did not exist
    return job


@router.get(
    "/{letter_id}",
    summary="One dead letter with every attempt",
    response_model=DeadLetterDetail,
    responses=problems(401, 403, 404),
)
def get_dead_letter(
    request: Request, letter_id: LetterId, principal: Ops, session: ReadSession
) -> dict[str, Any]:
    service = hub_state(request).deadletters
    _visible(request, session, principal, letter_id)
    letter = service.get(session, letter_id)
    return {
        **view(letter),
        "event": service.event_of(session, letter),
        "history": [attempt_view(a) for a in service.history(session, letter)],
        "inbound": inbound_payload(letter),
    }


@router.patch(
    "/{letter_id}",
    summary="Edit the data a replay will send (checked, diff audited)",
    response_model=DeadLetterOut,
    responses=problems(401, 403, 404, 409, 422),
)
def edit_dead_letter(
    request: Request,
    letter_id: LetterId,
    body: DeadLetterEdit,
    principal: Ops,
    session: WriteSession,
) -> dict[str, Any]:
    _visible(request, session, principal, letter_id)
    return view(
        hub_state(request).deadletters.edit(session, actor(principal), letter_id, body.data)
    )


@router.post(
    "/{letter_id}/replay",
    summary="Put the delivery back in its queue",
    response_model=DeadLetterOut,
    responses=problems(401, 403, 404, 409),
)
def replay_dead_letter(
    request: Request, letter_id: LetterId, principal: Ops, session: WriteSession
) -> dict[str, Any]:
    state = hub_state(request)
    _visible(request, session, principal, letter_id)
    letter = state.deadletters.replay(session, actor(principal), letter_id)
    notify(session, [state.worker.wake_from_any_thread()])
    return view(letter)


@router.post(
    "/{letter_id}/discard",
    summary="Give up on a dead letter, with a reason",
    response_model=DeadLetterOut,
    responses=problems(401, 403, 404, 409, 422),
)
def discard_dead_letter(
    request: Request,
    letter_id: LetterId,
    body: Discard,
    principal: Ops,
    session: WriteSession,
) -> dict[str, Any]:
    state = hub_state(request)
    _visible(request, session, principal, letter_id)
    letter = state.deadletters.discard(session, actor(principal), letter_id, body.reason)
    notify(session, [state.worker.wake_from_any_thread()])
    return view(letter)
