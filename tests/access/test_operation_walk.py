"""Every operation of the live OpenAPI document, walked without a key, with keys lacking
its scope, with the scope, and with a client bound to a connection.

Nothing is listed per operation except the exceptions: operations that are public on
purpose (with the reason) and those any valid key may call. Every other operation, present
or future, must answer 401 without a key and 403 to every key lacking its scope; an operation
someone adds without authentication fails here until it gets a scope or a reason.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts

from tests.access.peers import create_client, webhook_connection
from tests.conftest import ADMIN_KEY
from tests.servers import HubServer

PUBLIC = {
    ("GET", "/health"): "liveness probes and load balancers call it without credentials",
    ("GET", "/metrics"): "Prometheus scrapes it without credentials (DESIGN.md)",
    ("POST", "/v1/connections/{connection}/inbound"): (
        "the connector verifies the sender's own signature instead of an API key"
    ),
}
PUBLIC_UNDOCUMENTED = {
    "/openapi.json": "the API description itself",
    "/docs": "the interactive documentation page",
    "/docs/oauth2-redirect": "part of the interactive documentation page",
    "/redoc": "the reference documentation page",
}
ANY_KEY = {
    ("GET", "/v1/contracts"): "contracts are the published shared language",
    ("GET", "/v1/contracts/{family}"): "idem",
    ("GET", "/v1/contracts/{family}/versions/{version}"): "idem",
    ("POST", "/v1/contracts/{family}/compatibility"): "a read-only verdict on a candidate",
}
# Operations that narrow what a client bound to a connection posts and sees; every other
# scoped operation must refuse such a client.
BINDING_AWARE = {
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages/batch"),
    ("GET", "/v1/messages"),
    ("GET", "/v1/messages/{key}"),
    ("GET", "/v1/messages/{key}/deliveries"),
    ("GET", "/v1/connectors"),
    ("GET", "/v1/connections"),
    ("GET", "/v1/connections/{connection}"),
    ("POST", "/v1/connections/{connection}/check"),
    ("GET", "/v1/deadletters"),
    ("GET", "/v1/deadletters/groups"),
    ("POST", "/v1/deadletters/replays"),
    ("GET", "/v1/deadletters/replays/{job_id}"),
    ("GET", "/v1/deadletters/{letter_id}"),
    ("PATCH", "/v1/deadletters/{letter_id}"),
    ("POST", "/v1/deadletters/{letter_id}/replay"),
    ("POST", "/v1/deadletters/{letter_id}/discard"),
}
# What the README documents; an operation not listed here still gets the generic checks.
DOCUMENTED_SCOPE = {
    ("POST", "/v1/messages"): "messages:write",
    ("POST", "/v1/messages/batch"): "messages:write",
    ("GET", "/v1/messages"): "messages:read",
    ("GET", "/v1/messages/{key}"): "messages:read",
    ("GET", "/v1/messages/{key}/deliveries"): "messages:read",
    ("GET", "/v1/connectors"): "ops",
    ("POST", "/v1/connections"): "admin",
    ("GET", "/v1/connections"): "ops",
    ("GET", "/v1/connections/{connection}"): "ops",
    ("PATCH", "/v1/connections/{connection}"): "admin",
    ("DELETE", "/v1/connections/{connection}"): "admin",
    ("POST", "/v1/connections/{connection}/check"): "ops",
    ("POST", "/v1/routes"): "admin",
    ("GET", "/v1/routes"): "ops",
    ("GET", "/v1/deadletters"): "ops",
    ("GET", "/v1/audit"): "ops",
    ("POST", "/v1/clients"): "admin",
    ("GET", "/v1/clients"): "admin",
    ("PATCH", "/v1/clients/{client}"): "admin",
    ("POST", "/v1/clients/{client}/revoke"): "admin",
}
SINGLE_SCOPES = ("messages:write", "messages:read", "ops")
# Harmless values: nothing by these names exists, so no call changes anything.
PATH_VALUES = {
    "key": "msg_doesnotexist",
    "family": "reservation",
    "version": "1.0",
    "connection": "walk-nothing",
    "route": "walk-nothing",
    "client": "walk-nothing",
    "job_id": "job_doesnotexist",
    "letter_id": "dl_doesnotexist",
}
UNAUTHORIZED = "urn:crossdock:problem:unauthorized"
FORBIDDEN = "urn:crossdock:problem:forbidden"
OUTSIDE_BINDING = "urn:crossdock:problem:outside-binding"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def call(client: httpx.Client, method: str, path: str, operation: dict[str, Any]) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)
    if "requestBody" in operation:
        return client.request(
            method, url, content=b"{}", headers={"Content-Type": "application/json"}
        )
    return client.request(method, url)


def problem_type(response: httpx.Response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        kind: str = response.json()["type"]
        return kind
    return None


def walk(hub: HubServer, only: str | None = None) -> list[str]:
    """The access gaps of every operation of the live document (or of the path ``only``)."""
    with hub.client(ADMIN_KEY) as admin:
        assert webhook_connection(admin, "walk-bound-conn").status_code == 201
        keys = {
            scope: create_client(admin, f"walk-{scope.replace(':', '-')}", scope)
            for scope in SINGLE_SCOPES
        }
        keys["admin"] = ADMIN_KEY
        bound_key = create_client(admin, "walk-bound", *SINGLE_SCOPES, connection="walk-bound-conn")
        document = admin.get("/openapi.json").json()
    walked = [op for op in operations(document) if only is None or op[1] == only]
    gaps: list[str] = []
    with hub.client() as anonymous, hub.client(bound_key) as bound:
        clients = {scope: hub.client(key) for scope, key in keys.items()}
        try:
            for method, path, operation in walked:
                gaps += _check(method, path, operation, anonymous, clients, bound)
        finally:
            for client in clients.values():
                client.close()
    return gaps


def test_no_operation_is_open_without_a_key_or_without_its_scope(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as admin:
        assert len(operations(admin.get("/openapi.json").json())) >= 40
    gaps = walk(hub)
    assert not gaps, "access gaps:\n" + "\n".join(gaps)


def _check(
    method: str,
    path: str,
    operation: dict[str, Any],
    anonymous: httpx.Client,
    clients: dict[str, httpx.Client],
    bound: httpx.Client,
) -> list[str]:
    op = (method, path)
    name = f"{method} {path}"
    documented_security = operation.get("security")
    without_key = call(anonymous, method, path, operation)
    if op in PUBLIC:
        if documented_security:
            return [f"{name} is public ({PUBLIC[op]}) but documents an API key"]
        if problem_type(without_key) == UNAUTHORIZED:
            return [f"{name} is listed as public but asks for an API key"]
        return []
    found: list[str] = []
    if documented_security != [{"ApiKey": []}]:
        found.append(f"{name} does not document the API key requirement")
    if without_key.status_code != 401 or problem_type(without_key) != UNAUTHORIZED:
        found.append(f"{name} answers {without_key.status_code} without a key (want 401)")
    answers = {scope: call(client, method, path, operation) for scope, client in clients.items()}
    if answers["admin"].status_code in (401, 403):
        found.append(f"{name} refuses the admin key ({answers['admin'].status_code})")
    allowed = {s for s in SINGLE_SCOPES if answers[s].status_code not in (401, 403)}
    for scope in set(SINGLE_SCOPES) - allowed:
        if answers[scope].status_code != 403 or problem_type(answers[scope]) != FORBIDDEN:
            found.append(f"{name} answers {answers[scope].status_code} to a {scope} key")
    if op in ANY_KEY:
        if allowed != set(SINGLE_SCOPES):
            found.append(f"{name} should take any key; refuses {set(SINGLE_SCOPES) - allowed}")
        return found
    # A scoped operation: exactly one scope opens it (or only admin), and it is the
    # documented one when the README documents it.
    if len(allowed) > 1:
        found.append(f"{name} is open to several scopes: {sorted(allowed)}")
    if op in DOCUMENTED_SCOPE:
        expected = DOCUMENTED_SCOPE[op]
        if allowed != ({expected} if expected != "admin" else set()):
            found.append(f"{name} is open to {sorted(allowed) or ['admin']}, not {expected}")
    if allowed:
        as_bound = call(bound, method, path, operation)
        if op in BINDING_AWARE:
            if as_bound.status_code in (401, 403) and problem_type(as_bound) != OUTSIDE_BINDING:
                found.append(f"{name} refuses a bound client with the scope")
        elif as_bound.status_code != 403 or problem_type(as_bound) != OUTSIDE_BINDING:
            found.append(
                f"{name} answers {as_bound.status_code} to a bound client, but does not narrow "
                "what it does to the client's connection"
            )
    return found


def test_every_route_of_the_app_is_in_the_walk_or_public_on_purpose(hub: HubServer) -> None:
    """A route left out of the OpenAPI document would escape the walk above."""
    with hub.client(ADMIN_KEY) as admin:
        document = admin.get("/openapi.json").json()
    documented = {(method, path) for method, path, _ in operations(document)}
    contexts = list(iter_route_contexts(hub.app.routes))
    assert len(contexts) >= len(documented)
    for context in contexts:
        if context.path_format in PUBLIC_UNDOCUMENTED:
            continue
        for method in context.methods or {"*"}:
            assert (method, context.path_format) in documented, (
                f"{method} {context.path_format} is neither walked nor public on purpose"
            )
    with hub.client() as anonymous:
        for path in PUBLIC_UNDOCUMENTED:
            if path != "/docs/oauth2-redirect":
                assert anonymous.get(path).status_code == 200, path


def test_the_walk_would_catch_an_operation_without_authentication(hub: HubServer) -> None:
    """The walk's own failure mode: an operation added without a key requirement."""

    @hub.app.get("/v1/walk-probe")
    def probe() -> dict[str, str]:  # an operation someone forgot to protect
        return {"secret": "data"}

    hub.app.openapi_schema = None
    try:
        gaps = walk(hub, only="/v1/walk-probe")
        assert any("answers 200 without a key" in gap for gap in gaps), gaps
        assert any("does not document" in gap for gap in gaps), gaps
    finally:
        hub.app.router.routes[:] = [
            r for r in hub.app.router.routes if getattr(r, "path", "") != "/v1/walk-probe"
        ]
        hub.app.openapi_schema = None
