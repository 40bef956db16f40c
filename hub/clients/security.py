"""The authentication dependency every protected operation declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.clients.scopes import Scope, grants
from hub.clients.service import Principal
from hub.errors import Forbidden, Unauthorized
from hub.state import hub_state

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="cdk_…",
    description=(
        "An API key from `crossdock clients create`, sent as `Authorization: Bearer <key>`."
    ),
)


def require(scope: Scope | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and, if ``scope`` is given, checks it.

    ``None`` means any valid key (reading contracts, for instance).
    """

    async def authenticate(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        if credentials is None:
            raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
        principal = hub_state(request).keys.verify(credentials.credentials)
        if principal is None:
            raise Unauthorized("the API key is unknown or revoked")
        if scope is not None and not grants(principal.scopes, scope):
            raise Forbidden(f"this operation needs the {scope.value!r} scope")
        return principal

    authenticate.__name__ = f"require_{scope.value.replace(':', '_') if scope else 'any'}"
    return authenticate
