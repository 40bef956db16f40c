"""``/v1/clients``: API clients, their scopes, bindings and rate limits (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Security
from sqlalchemy.orm import Session

from hub.audit.service import record
from hub.clients.schemas import ClientCreate, ClientIssued, ClientOut, ClientPage, ClientUpdate
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import UNCHANGED, ClientService, Principal
from hub.connections.endpoints import actor
from hub.openapi import problems
from hub.pagination import decode_cursor, encode_cursor
from hub.responses import FastJSONResponse
from hub.state import hub_state
from hub.store.committer import AFTER_COMMIT
from hub.store.sessions import ReadSession, WriteSession

router = APIRouter(prefix="/v1/clients", tags=["clients"])

Admin = Annotated[Principal, Security(require(Scope.ADMIN))]
ClientRef = Annotated[str, Path(max_length=128, description="Client id or name.")]
service = ClientService()


def _forget_keys_after_commit(request: Request, session: Session) -> None:
    # This process stops trusting cached verdicts at once; others within the auth cache time.
    session.info[AFTER_COMMIT].append(hub_state(request).keys.forget)


@router.post(
    "",
    status_code=201,
    summary="Create a client and its key",
    description="The key is in this answer only; the hub keeps a keyed hash of it.",
    response_model=ClientIssued,
    responses=problems(401, 403, 409, 422),
)
def create_client(
    request: Request, body: ClientCreate, principal: Admin, session: WriteSession
) -> FastJSONResponse:
    issued = service.create(
        session,
        name=body.name,
        scopes=[scope.value for scope in body.scopes],
        connection=body.connection,
        rate_limit=body.rate_limit,
    )
    view = service.view(session, issued.client)
    record(session, actor(principal), "client.create", "client", issued.client.id, after=view)
    return FastJSONResponse(
        {**view, "key": issued.key},
        status_code=201,
        headers={"Location": f"/v1/clients/{issued.client.id}"},
    )


@router.get(
    "",
    summary="Clients, by name (never their keys)",
    response_model=ClientPage,
    responses=problems(401, 403, 422),
)
def list_clients(
    _principal: Admin,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = service.page(session, decode_cursor(after) if after else None, limit)
    return {
        "items": [service.view(session, c) for c in rows],
        "next_cursor": encode_cursor(rows[-1].name) if len(rows) == limit else None,
    }


@router.get(
    "/{client}",
    summary="One client",
    response_model=ClientOut,
    responses=problems(401, 403, 404),
)
def get_client(client: ClientRef, _principal: Admin, session: ReadSession) -> dict[str, Any]:
    return service.view(session, service.get(session, client))


@router.patch(
    "/{client}",
    summary="Change a client's scopes, binding or rate limit",
    description="Only the fields given change. `connection: null` unbinds the client; "
    "`rate_limit: null` gives it the hub's default again. Other hub processes apply the "
    "change within `CROSSDOCK_AUTH_CACHE_SECONDS`.",
    response_model=ClientOut,
    responses=problems(401, 403, 404, 422),
)
def update_client(
    request: Request,
    client: ClientRef,
    body: ClientUpdate,
    principal: Admin,
    session: WriteSession,
) -> dict[str, Any]:
    given = body.model_fields_set
    before = service.view(session, service.get(session, client))
    row = service.update(
        session,
        client,
        scopes=[s.value for s in body.scopes] if body.scopes is not None else None,
        connection=body.connection if "connection" in given else UNCHANGED,
        rate_limit=body.rate_limit if "rate_limit" in given else UNCHANGED,
    )
    after = service.view(session, row)
    record(session, actor(principal), "client.update", "client", row.id, before=before, after=after)
    _forget_keys_after_commit(request, session)
    return after


@router.post(
    "/{client}/revoke",
    summary="Revoke a client's key",
    description="The key stops working in this process at once, in others within "
    "`CROSSDOCK_AUTH_CACHE_SECONDS`. Revoking twice changes nothing.",
    response_model=ClientOut,
    responses=problems(401, 403, 404),
)
def revoke_client(
    request: Request, client: ClientRef, principal: Admin, session: WriteSession
) -> dict[str, Any]:
    before = service.view(session, service.get(session, client))
    row = service.revoke(session, client)
    after = service.view(session, row)
    if before != after:
        record(
            session, actor(principal), "client.revoke", "client", row.id, before=before, after=after
        )
    _forget_keys_after_commit(request, session)
    return after
