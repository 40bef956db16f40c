"""``/v1/connectors`` (what is installed) and ``/v1/connections`` (configured systems)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, Security
from pydantic import BaseModel

from hub.audit.service import Actor
from hub.clients.bindings import sees_connection
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import ClientService, Principal
from hub.connections.models import Connection
from hub.connections.schemas import (
    CheckOut,
    ConnectionCreate,
    ConnectionOut,
    ConnectionPage,
    ConnectionUpdate,
)
from hub.connections.service import ConnectionService
from hub.errors import InUse, InvalidParameters, NotFound
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.state import hub_state
from hub.store.sessions import ReadSession, WriteSession

router = APIRouter(tags=["connections"])

Admin = Annotated[Principal, Security(require(Scope.ADMIN))]
# A client bound to a connection sees only that one (and the installed connectors).
Ops = Annotated[Principal, Security(require(Scope.OPS, binding_aware=True))]
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


def _visible(principal: Principal, connection: Connection, ref: str) -> Connection:
    """404, exactly as for an unknown one, for a connection a bound client does not own."""
    if not sees_connection(principal, connection.id):
        raise NotFound(f"no connection {ref!r}")
    return connection


def _site(url: str) -> str:
    """Scheme, host and port of a URL: enough to say what was refused, without any
    credentials or tokens its user info or query may carry."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _check_destinations(service: ConnectionService, connection: Connection) -> None:
    """422 if the connection's URLs reach an address the outbound policy refuses."""
    connector = service.connectors.get(connection.connector)
    if service.outbound is None or connector is None:
        return
    values = {**orjson.loads(connection.config), **service.box.open(connection.secrets)}
    config = connector.config_model.model_validate(values)
    refused = [
        (url, reason)
        for url in config.outbound_urls()
        if (reason := service.outbound.refusal_of_url(url)) is not None
    ]
    if refused:
        violations = [
            {"pointer": "/config", "rule": "outbound-address", "message": f"{_site(u)}: {r}"}
            for u, r in refused
        ]
        raise InvalidParameters(
            "the connection would send where the outbound address policy refuses: "
            + "; ".join(v["message"] for v in violations)
            + " (governance/hub.yaml `outbound`; see docs/security.md)",
            extensions={"violations": violations},
        )


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
    connection = service.create(session, actor(principal), body)
    _check_destinations(service, connection)
    return service.view(connection)


@router.get(
    "/v1/connections",
    summary="Connections, by name",
    response_model=ConnectionPage,
    responses=problems(401, 403, 422),
)
def list_connections(
    request: Request,
    principal: Ops,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    service = hub_state(request).connections
    position = decode_cursor(after) if after else None
    if principal.connection_id is not None:
        own = session.get(Connection, principal.connection_id)
        shown = [own] if own is not None and (position is None or own.name > position) else []
        return {"items": [service.view(c) for c in shown], "next_cursor": None}
    rows = service.list(session, position, limit)
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
    principal: Ops,
    session: ReadSession,
) -> dict[str, Any]:
    service = hub_state(request).connections
    return service.view(_visible(principal, service.get(session, connection), connection))


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
    row = service.update(session, actor(principal), connection, body)
    if body.config is not None:
        _check_destinations(service, row)
    return service.view(row)


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
    service = hub_state(request).connections
    bound = ClientService().bound_to(session, service.get(session, connection).id)
    if bound:
        # Deleting would leave their keys bound to nothing; unbinding them silently would
        # widen what they can reach. Either way a person should decide.
        raise InUse(
            f"connection {connection!r} has clients bound to it: {', '.join(bound)}; "
            "revoke or rebind them first"
        )
    service.delete(session, actor(principal), connection)
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
    principal: Ops,
) -> dict[str, Any]:
    state = hub_state(request)
    with state.read_sessions() as session:
        row = _visible(principal, state.connections.get(session, connection), connection)
        session.expunge(row)
    result = await state.connections.check(row)
    return {
        "ok": result.ok,
        "detail": result.detail,
        "latency_ms": result.latency_ms,
        "info": dict(result.info),
    }
