"""``/v1/contracts/{family}/usage``: who produces and consumes which version, and when last."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Security

from hub.clients.scopes import Scope
from hub.clients.security import require
from hub.clients.service import Principal
from hub.errors import NotFound
from hub.openapi import problems
from hub.state import hub_state
from hub.store.sessions import ReadSession
from hub.usage.schemas import FamilyUsage
from hub.usage.service import family_usage

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])

# Unlike the contracts themselves, usage names every client and connection: an ops view,
# never a partner's (bound clients are refused).
Ops = Annotated[Principal, Security(require(Scope.OPS))]


@router.get(
    "/{family}/usage",
    summary="Who produces and consumes each version of a family, and when last",
    description=(
        "Per version: the API clients and connections that produced its messages (posted "
        "them, or sent them inbound) and consumed them (read them from the feed, or had them "
        "delivered), with first and last time seen and a count. Hub processes flush what "
        "they saw every `CROSSDOCK_USAGE_FLUSH_SECONDS` (default 5), so the answer may be "
        "that far behind. What an owner checks before retiring a version."
    ),
    response_model=FamilyUsage,
    responses=problems(401, 403, 404, 422),
)
def get_usage(
    request: Request,
    family: Annotated[str, Path(max_length=64)],
    _principal: Ops,
    session: ReadSession,
    version: Annotated[
        str | None, Query(max_length=16, description="Only this version, e.g. `1.0`.")
    ] = None,
) -> dict[str, Any]:
    known = hub_state(request).registry.families.get(family)
    if known is None:
        raise NotFound(f"no contract family {family!r}")
    if version is not None and version not in known.versions:
        raise NotFound(f"{family} has no version {version!r}")
    return family_usage(session, known, version)
