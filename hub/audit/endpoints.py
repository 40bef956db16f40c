"""``/v1/audit``: the append-only log of every administrative and ops action."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Security
from pydantic import BaseModel

from hub.audit.service import AuditFilter, page, view
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.openapi import problems
from hub.pagination import decode_int_cursor, encode_cursor
from hub.store.sessions import ReadSession

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Ops = Annotated[Principal, Security(require(Scope.OPS))]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: dict[str, str | None]
    action: str
    target: dict[str, str]
    before: Any
    after: Any
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str


@router.get(
    "",
    summary="The audit log, oldest first",
    response_model=AuditPage,
    responses=problems(401, 403, 422),
)
def list_audit(
    _principal: Ops,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. `deadletter.edit`.")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=128, description="Client name.")] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> dict[str, Any]:
    after_id = decode_int_cursor(after) if after else 0
    entries = page(
        session, AuditFilter(action, target_type, target_id, actor, since, until), after_id, limit
    )
    return {
        "items": [view(e) for e in entries],
        "next_cursor": encode_cursor(entries[-1].id if entries else after_id),
    }
