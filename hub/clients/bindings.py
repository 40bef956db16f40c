"""Clients bound to a connection: what they may post, and what they may see.

A client bound to connection ``acme-wms`` speaks for that system alone. It may only post
messages whose ``source`` is ``/connections/acme-wms``, and it sees only that connection's
messages (by source), the deliveries to it and its dead letters. Lists are filtered; a single
object of another connection answers exactly as if it did not exist (404, same detail), so a
bound key cannot even learn what exists elsewhere.

Operations that cannot be narrowed to one connection (routes, audit, admin) refuse bound
clients with 403: see :func:`hub.clients.security.require`.
"""

from __future__ import annotations

from typing import Any

from hub.clients.service import Principal
from hub.errors import OutsideBinding

CONNECTION_SOURCE_PREFIX = "/connections/"


def connection_source(connection: str) -> str:
    """The CloudEvents ``source`` of messages from a connection (``/connections/<name>``)."""
    return CONNECTION_SOURCE_PREFIX + connection


def own_source(principal: Principal) -> str | None:
    """The only ``source`` a bound client may post and read; ``None`` for unbound clients."""
    return connection_source(principal.connection) if principal.connection else None


def source_refusal(principal: Principal, event: Any) -> OutsideBinding | None:
    """Why a bound client may not post ``event``, if it may not.

    Only a ``source`` that is present and different is refused here: an event without one,
    or not an object at all, fails its contract check with the usual 422.
    """
    expected = own_source(principal)
    if expected is None or not isinstance(event, dict) or "source" not in event:
        return None
    if event["source"] == expected:
        return None
    return OutsideBinding(
        f"this client is bound to connection {principal.connection!r}: "
        f"it may only post messages whose source is {expected!r}",
        extensions={"expected_source": expected},
    )


def check_source(principal: Principal, event: Any) -> None:
    """Raise the 403 problem of :func:`source_refusal`, if any."""
    refusal = source_refusal(principal, event)
    if refusal is not None:
        raise refusal


def sees_connection(principal: Principal, connection_id: str | None) -> bool:
    """Whether the client may see an object that belongs to ``connection_id``."""
    return principal.connection_id is None or principal.connection_id == connection_id


def sees_source(principal: Principal, source: str | None) -> bool:
    """Whether the client may see a message with this ``source``."""
    expected = own_source(principal)
    return expected is None or source == expected
