"""``/v1/messages/{key}/deliveries``: where a message went, every attempt and its timing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Security

from hub.clients.bindings import sees_connection, sees_source
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.deliveries.schemas import DeliveryList, delivery_view
from hub.deliveries.store import deliveries_of
from hub.errors import NotFound
from hub.messages.service import get_message
from hub.openapi import problems
from hub.store.sessions import ReadSession

router = APIRouter(prefix="/v1/messages", tags=["deliveries"])

# A client bound to a connection sees only the deliveries to it.
Reader = Annotated[Principal, Security(require(Scope.MESSAGES_READ, binding_aware=True))]


@router.get(
    "/{key}/deliveries",
    summary="A message's deliveries, with every attempt",
    response_model=DeliveryList,
    responses=problems(401, 403, 404),
)
def list_deliveries(key: str, principal: Reader, session: ReadSession) -> dict[str, Any]:
    message = get_message(session, key)  # 404 for an unknown message, not an empty list
    deliveries = [
        (d, route, attempts)
        for d, route, attempts in deliveries_of(session, key)
        if sees_connection(principal, d.connection_id)
    ]
    if not deliveries and not sees_source(principal, message.source):
        # Neither from nor to the bound client's connection: as if it did not exist.
        raise NotFound(f"no message with key {key!r}")
    return {"items": [delivery_view(d, route, attempts) for d, route, attempts in deliveries]}
