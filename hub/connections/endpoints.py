"""``/v1/connectors`` (what is installed) and ``/v1/connections`` (configured systems)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, Security
from pydantic import BaseModel

from hub.audit.service import Actor
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.connections.schemas import (
    CheckOut,
    ConnectionCreate,
    ConnectionOut,
    ConnectionPage,
    ConnectionUpdate,
)
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.state import hub_state
from hub.store.sessions import ReadSession, WriteSession

router = APIRouter(tags=["connections"])

Admin = Annotated[Principal, Security(require(Scope.ADMIN))]
Ops = Annotated[Principal, Security(require(Scope.OPS))]
ConnectionRef = Annotated[str, Path(max_length=128, description="Connection id or name.")]


class ConnectorOut(BaseModel):
    slug: str
    manifest: dict[str, Any]
    config_schema: dict[str, Any]
    secret_fields: list[str]


class ConnectorList(BaseModel):
    items: list[ConnectorOut]


def actor(principal: Principal) -> Actor:
    return Actor(principal.client_id, principal.name)


@router.get(
    "/v1/connectors",
    summary="Installed connectors",
    response_model=ConnectorList,
    responses=problems(401, 403),
)
def list_connectors(request: Request, _principal: Ops) -> dict[str, Any]:
    registry = hub_state(request).connectors
    return {
        "items": [
            {
                "slug": slug,
                "manifest": connector.manifest.model_dump(mode="json"),
                "config_schema": connector.config_schema(),
                "secret_fields": sorted(connector.config_model.secret_fields()),
            }
            for slug, connector in registry.connectors.items()
        ]
    }


@router.post(
    "/v1/connections",
    status_code=201,
    summary="Create a connection",
    response_model=ConnectionOut,
    responses=problems(401, 403, 409, 422),
)
def create_connection(
    request: Request,
    body: ConnectionCreate,
    principal: Admin,
    session: WriteSession,
) -> dict[str, Any]:
    service = hub_state(request).connections
    return service.view(service.create(session, actor(principal), body))


@router.get(
    "/v1/connections",
    summary="Connections, by name",
    response_model=ConnectionPage,
    responses=problems(401, 403, 422),
)
def list_connections(
    request: Request,
    _principal: Ops,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    service = hub_state(request).connections
    rows = service.list(session, decode_cursor(after) if after else None, limit)
    return {
        "items": [service.view(c) for c in rows],
        "next_cursor": encode_cursor(rows[-1].name) if len(rows) == limit else None,
    }


@router.get(
    "/v1/connections/{connection}",
    summary="One connection, with its breaker state",
    response_model=ConnectionOut,
    responses=problems(401, 403, 404),
)
def get_connection(
    request: Request,
    connection: ConnectionRef,
    _principal: Ops,
    session: ReadSession,
) -> dict[str, Any]:
    service = hub_state(request).connections
    return service.view(service.get(session, connection))


@router.patch(
    "/v1/connections/{connection}",
    summary="Change a connection",
    response_model=ConnectionOut,
    responses=problems(401, 403, 404, 422),
)
def update_connection(
    request: Request,
    connection: ConnectionRef,
    body: ConnectionUpdate,
    principal: Admin,
    session: WriteSession,
) -> dict[str, Any]:
    service = hub_state(request).connections
    return service.view(service.update(session, actor(principal), connection, body))


@router.delete(
    "/v1/connections/{connection}",
    status_code=204,
    summary="Delete a connection",
    responses=problems(401, 403, 404, 409),
)
def delete_connection(
    request: Request,
    connection: ConnectionRef,
    principal: Admin,
    session: WriteSession,
) -> Response:
    hub_state(request).connections.delete(session, actor(principal), connection)
    return Response(status_code=204)


@router.post(
    "/v1/connections/{connection}/check",
    summary="Check that the connection's system can be reached",
    description="Runs the connector's health check with the stored config. A failed check "
    "is a 200 with `ok: false` and the reason; it changes nothing.",
    response_model=CheckOut,
    responses=problems(401, 403, 404),
)
async def check_connection(
    request: Request,
    connection: ConnectionRef,
    _principal: Ops,
) -> dict[str, Any]:
    state = hub_state(request)
    with state.read_sessions() as session:
        row = state.connections.get(session, connection)
        session.expunge(row)
    result = await state.connections.check(row)
    return {
        "ok": result.ok,
        "detail": result.detail,
        "latency_ms": result.latency_ms,
        "info": dict(result.info),
    }
