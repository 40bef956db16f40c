"""The authentication dependency every protected operation declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.clients.scopes import Scope, grants
from hub.clients.service import KeyVerifier, Principal
from hub.errors import Forbidden, OutsideBinding, Unauthorized
from hub.state import hub_state

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="cdk_…",
    description=(
        "An API key from `crossdock clients create`, sent as `Authorization: Bearer <key>`."
    ),
)


def authenticate(
    keys: KeyVerifier, key: str | None, scope: Scope | None, *, binding_aware: bool = False
) -> Principal:
    """The caller behind ``key``, if it holds ``scope`` (``None``: any valid key).

    Every authenticated request counts against the client's rate limit (429 beyond it).
    A client bound to a connection is refused (403) unless the operation is
    ``binding_aware``, i.e. narrows what it does to that connection, or needs no scope.
    """
    if not key:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    principal = keys.verify(key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if keys.rate_limits is not None:
        keys.rate_limits.admit(principal.client_id, principal.rate_limit)
    if scope is not None and not grants(principal.scopes, scope):
        raise Forbidden(f"this operation needs the {scope.value!r} scope")
    if scope is not None and principal.connection_id is not None and not binding_aware:
        raise OutsideBinding(
            f"this client is bound to connection {principal.connection!r}, and this operation "
            "is not limited to one connection"
        )
    return principal


def require(
    scope: Scope | None, *, binding_aware: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and, if ``scope`` is given, checks it.

    ``None`` means any valid key (reading contracts, for instance). Pass
    ``binding_aware=True`` only where the operation limits what a bound client posts and
    sees to its connection (:mod:`hub.clients.bindings`); elsewhere bound clients get 403.
    """

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        key = credentials.credentials if credentials is not None else None
        return authenticate(hub_state(request).keys, key, scope, binding_aware=binding_aware)

    dependency.__name__ = f"require_{scope.value.replace(':', '_') if scope else 'any'}"
    return dependency
