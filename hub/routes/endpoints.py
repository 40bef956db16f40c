"""``/v1/routes``: subscriptions of connections to message types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from sqlalchemy.orm import Session

from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.connections.endpoints import actor
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.routes.schemas import RouteCreate, RouteOut, RoutePage, RouteUpdate
from hub.state import hub_state
from hub.store.committer import AFTER_COMMIT
from hub.store.sessions import read_session, write_session

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
    request: Request, body: RouteCreate, principal: Admin, session: Session = Depends(write_session)
) -> dict[str, Any]:
    service = hub_state(request).routes
    return service.view(session, service.create(session, actor(principal), body))


@router.get(
    "", summary="Routes, by name", response_model=RoutePage, responses=problems(401, 403, 422)
)
def list_routes(
    request: Request,
    _principal: Ops,
    session: Session = Depends(read_session),
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
    request: Request, route: RouteRef, _principal: Ops, session: Session = Depends(read_session)
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
    session: Session = Depends(write_session),
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
    request: Request, route: RouteRef, principal: Admin, session: Session = Depends(write_session)
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
    request: Request, route: RouteRef, principal: Admin, session: Session = Depends(write_session)
) -> dict[str, Any]:
    state = hub_state(request)
    row = state.routes.set_paused(session, actor(principal), route, False)
    session.info[AFTER_COMMIT].append(state.worker.wake_from_any_thread())
    return state.routes.view(session, row)


@router.delete(
    "/{route}",
    status_code=204,
    summary="Delete a route with nothing left to deliver",
    responses=problems(401, 403, 404, 409),
)
def delete_route(
    request: Request, route: RouteRef, principal: Admin, session: Session = Depends(write_session)
) -> Response:
    hub_state(request).routes.delete(session, actor(principal), route)
    return Response(status_code=204)
