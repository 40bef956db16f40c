"""``/v1/routes``: subscriptions of connections to message types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, Security
from sqlalchemy import func, select

from hub.audit.service import record
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.connections.endpoints import actor
from hub.deadletters.schemas import JobOut
from hub.deliveries.wakeup import notify
from hub.jobs import service as jobs
from hub.messages.models import Message
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.responses import FastJSONResponse
from hub.routes.schemas import BackfillRequest, RouteCreate, RouteOut, RoutePage, RouteUpdate
from hub.state import hub_state
from hub.store.committer import AFTER_COMMIT
from hub.store.sessions import ReadSession, WriteSession

router = APIRouter(prefix="/v1/routes", tags=["routes"])

Admin = Annotated[Principal, Security(require(Scope.ADMIN))]
Ops = Annotated[Principal, Security(require(Scope.OPS))]
RouteRef = Annotated[str, Path(max_length=128, description="Route id or name.")]


@router.post(
    "",
    status_code=201,
    summary="Create a route",
    response_model=RouteOut,
    responses=problems(401, 403, 409, 422),
)
def create_route(
    request: Request, body: RouteCreate, principal: Admin, session: WriteSession
) -> dict[str, Any]:
    service = hub_state(request).routes
    return service.view(session, service.create(session, actor(principal), body))


@router.get(
    "", summary="Routes, by name", response_model=RoutePage, responses=problems(401, 403, 422)
)
def list_routes(
    request: Request,
    _principal: Ops,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    service = hub_state(request).routes
    rows = service.list(session, decode_cursor(after) if after else None, limit)
    return {
        "items": [service.view(session, r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].name) if len(rows) == limit else None,
    }


@router.get(
    "/{route}", summary="One route", response_model=RouteOut, responses=problems(401, 403, 404)
)
def get_route(
    request: Request, route: RouteRef, _principal: Ops, session: ReadSession
) -> dict[str, Any]:
    service = hub_state(request).routes
    return service.view(session, service.get(session, route))


@router.patch(
    "/{route}",
    summary="Change a route",
    response_model=RouteOut,
    responses=problems(401, 403, 404, 422),
)
def update_route(
    request: Request,
    route: RouteRef,
    body: RouteUpdate,
    principal: Admin,
    session: WriteSession,
) -> dict[str, Any]:
    service = hub_state(request).routes
    return service.view(session, service.update(session, actor(principal), route, body))


@router.post(
    "/{route}/pause",
    summary="Pause a route: deliveries wait, nothing is lost",
    response_model=RouteOut,
    responses=problems(401, 403, 404),
)
def pause_route(
    request: Request, route: RouteRef, principal: Admin, session: WriteSession
) -> dict[str, Any]:
    service = hub_state(request).routes
    return service.view(session, service.set_paused(session, actor(principal), route, True))


@router.post(
    "/{route}/resume",
    summary="Resume a paused route",
    response_model=RouteOut,
    responses=problems(401, 403, 404),
)
def resume_route(
    request: Request, route: RouteRef, principal: Admin, session: WriteSession
) -> dict[str, Any]:
    state = hub_state(request)
    row = state.routes.set_paused(session, actor(principal), route, False)
    notify(session, [state.worker.wake_from_any_thread()])
    return state.routes.view(session, row)


@router.delete(
    "/{route}",
    status_code=204,
    summary="Delete a route with nothing left to deliver",
    responses=problems(401, 403, 404, 409),
)
def delete_route(
    request: Request, route: RouteRef, principal: Admin, session: WriteSession
) -> Response:
    hub_state(request).routes.delete(session, actor(principal), route)
    return Response(status_code=204)


@router.post(
    "/{route}/backfill",
    status_code=202,
    summary="Queue past messages for this route",
    response_model=JobOut,
    responses=problems(401, 403, 404, 422),
)
def backfill_route(
    request: Request,
    route: RouteRef,
    body: BackfillRequest,
    principal: Admin,
    session: WriteSession,
) -> FastJSONResponse:
    state = hub_state(request)
    row = state.routes.get(session, route)
    params = {
        "route_id": row.id,
        "since": body.since.isoformat(),
        "until": body.until.isoformat() if body.until else None,
    }
    query = select(func.count()).select_from(Message).where(Message.accepted_at >= body.since)
    if body.until:
        query = query.where(Message.accepted_at < body.until)
    job = jobs.create(session, "backfill", params, session.scalar(query) or 0, principal.name)
    record(
        session, actor(principal), "route.backfill", "route", row.id, after=params, detail=job.id
    )
    session.info[AFTER_COMMIT].append(state.jobs.kick)
    return FastJSONResponse(
        jobs.view(job),
        status_code=202,
        headers={"Location": f"/v1/routes/{row.id}/backfills/{job.id}"},
    )


@router.get(
    "/{route}/backfills/{job_id}",
    summary="Progress of a backfill",
    response_model=JobOut,
    responses=problems(401, 403, 404),
)
def get_backfill(
    route: RouteRef,
    job_id: Annotated[str, Path(max_length=64)],
    _principal: Ops,
    session: ReadSession,
) -> dict[str, Any]:
    return jobs.view(jobs.get(session, job_id, "backfill"))
