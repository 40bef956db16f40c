"""``/v1/audit``: the append-only log of every administrative and ops action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Security
from pydantic import AwareDatetime, BaseModel

from hub.audit.service import AuditFilter, page, view
from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.errors import InvalidParameters
from hub.openapi import problems
from hub.pagination import decode_int_cursor, encode_cursor
from hub.store.sessions import ReadSession
from hub.timestamps import QueryTime

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Ops = Annotated[Principal, Security(require(Scope.OPS))]


class AuditOut(BaseModel):
    id: int
    at: AwareDatetime
    actor: dict[str, str | None]
    action: str
    target: dict[str, str]
    before: Any
    after: Any
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str


def _invalid(parameter: str, rule: str, message: str) -> InvalidParameters:
    violation = {"pointer": f"/query/{parameter}", "rule": rule, "message": message}
    return InvalidParameters(f"{parameter}: {message}", extensions={"violations": [violation]})


@router.get(
    "",
    summary="The audit log, oldest first",
    description="Every change made through the API or the command line, and what the hub "
    "did on its own (policy and mapping loads, the end of bulk jobs), with who, when, the "
    "target, before and after. `next_cursor` is always given: pass it back as `after` to "
    "read on, or later to see only what was appended since. Filters combine (AND).",
    response_model=AuditPage,
    responses=problems(401, 403, 422),
)
def list_audit(
    _principal: Ops,
    session: ReadSession,
    after: Annotated[str | None, Query(description="A `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            description="An action (`deadletter.edit`) or a prefix ending in `.*` "
            "(`deadletter.*`, `client.*`).",
        ),
    ] = None,
    target_type: Annotated[
        str | None,
        Query(max_length=32, description="`client`, `connection`, `route`, …"),
    ] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[
        str | None,
        Query(max_length=128, description="A client's name or id; `cli`, `system`."),
    ] = None,
    since: Annotated[
        QueryTime | None, Query(description="From this time (inclusive), with offset.")
    ] = None,
    until: Annotated[
        QueryTime | None, Query(description="Before this time (exclusive), with offset.")
    ] = None,
) -> dict[str, Any]:
    if since is not None and until is not None and since >= until:
        raise _invalid("until", "time-range", "must be after since")
    after_id = decode_int_cursor(after) if after else 0
    entries = page(
        session, AuditFilter(action, target_type, target_id, actor, since, until), after_id, limit
    )
    return {
        "items": [view(e) for e in entries],
        "next_cursor": encode_cursor(entries[-1].id if entries else after_id),
    }
