"""The authentication dependency every protected operation declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.clients.scopes import Scope, grants
from hub.clients.service import KeyVerifier, Principal
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


def authenticate(keys: KeyVerifier, key: str | None, scope: Scope | None) -> Principal:
    """The caller behind ``key``, if it holds ``scope`` (``None``: any valid key)."""
    if not key:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    principal = keys.verify(key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if scope is not None and not grants(principal.scopes, scope):
        raise Forbidden(f"this operation needs the {scope.value!r} scope")
    return principal


def require(scope: Scope | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and, if ``scope`` is given, checks it.

    ``None`` means any valid key (reading contracts, for instance).
    """

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        key = credentials.credentials if credentials is not None else None
        return authenticate(hub_state(request).keys, key, scope)

    dependency.__name__ = f"require_{scope.value.replace(':', '_') if scope else 'any'}"
    return dependency
