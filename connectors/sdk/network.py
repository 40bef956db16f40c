"""Outbound HTTP that only reaches addresses the hub's policy allows.

A connection's URL is chosen by whoever configures it. Without a check, a webhook pointed at
``169.254.169.254`` or at the hub's own database would make the hub a proxy into its private
network (server-side request forgery). Checking the host name's text is not enough: a name
can resolve to a private address, and resolve differently between the check and the connect
(DNS rebinding). So the check sits where the connection is made: the host is resolved once,
every address is judged, and the socket is opened to the very address that was judged. Each
redirect hop is a new connection and is checked the same way.

The hub gives each connector an :data:`AddressGuard` (see ``Connector.address_guard``); the
connector's :attr:`Connector.http` client then refuses what the guard refuses with
:class:`OutboundAddressRefused`, which :meth:`SendOutcome.from_exception` turns into a
permanent ``rejected`` outcome. Outside the hub (a connector's own tests) there is no guard.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

AddressGuard = Callable[[str], str | None]
"""Judges one IP address: ``None`` if it may be connected to, else the reason it may not."""


class OutboundAddressRefused(httpx.TransportError):
    """The destination resolves to an address the hub's outbound policy refuses.

    Nothing was sent. It is an :class:`httpx.TransportError`, so a connector that catches
    ``httpx.HTTPError`` hands it to :meth:`SendOutcome.from_exception`, which makes it a
    permanent outcome: retrying would be refused again.
    """


async def resolve(host: str, port: int) -> list[str]:
    """Every IP address ``host`` resolves to (an IP address resolves to itself), in order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def refusal(guard: AddressGuard, host: str, port: int, addresses: Iterable[str]) -> str | None:
    """Why ``host`` may not be reached, if any of its addresses is refused.

    One refused address refuses the host: a name that resolves to a public and a private
    address is suspicious, and which one a later connection gets is not ours to choose.
    """
    for address in addresses:
        reason = guard(address)
        if reason is not None:
            return (
                f"refused to connect to {host}:{port}: {reason} "
                "(the hub's outbound address policy; see docs/security.md)"
            )
    return None


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that judges every address before it connects to it."""

    def __init__(
        self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        reason = refusal(self._guard, host, port, addresses)
        if reason is not None:
            raise OutboundAddressRefused(reason)
        failure: Exception | None = None
        for address in addresses:
            # The judged address itself, never the name again: a second lookup could answer
            # differently. TLS still verifies the certificate against the URL's host name.
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} resolves to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundAddressRefused(
            f"refused to connect to the unix socket {path}: the outbound address policy "
            "allows network addresses only"
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with connections made through :class:`GuardedNetworkBackend`.

    Proxies from the environment are ignored (``trust_env`` off): through a proxy, the
    address that matters would be the proxy's, and the real destination would go unchecked.
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(guard),
        )


def guarded_client(
    guard: AddressGuard | None, *, timeout: float, follow_redirects: bool = False
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every connection is judged by ``guard`` (if given)."""
    if guard is None:
        return httpx.AsyncClient(timeout=timeout, follow_redirects=follow_redirects)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=follow_redirects,
        transport=GuardedTransport(guard),
        trust_env=False,
    )
