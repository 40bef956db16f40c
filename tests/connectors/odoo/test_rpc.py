"""The JSON-RPC client against the fake Odoo: login, execute_kw, errors, the server's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import pytest

from connectors.odoo.rpc import (
    OdooClient,
    OdooFault,
    OdooHTTPError,
    OdooLoginRefused,
    OdooProtocolError,
)
from connectors.odoo.testing import API_KEY, LOGIN, PASSWORD, FakeOdoo, Network
from connectors.sdk.testing import PeerResponse

T = TypeVar("T")


def with_client(
    odoo: FakeOdoo, use: Callable[[OdooClient], Awaitable[T]], password: str = PASSWORD
) -> T:
    async def main() -> T:
        async with httpx.AsyncClient() as http:
            return await use(OdooClient(http, odoo.url, odoo.database, LOGIN, password))

    return asyncio.run(main())


def test_one_login_serves_every_call(odoo: FakeOdoo, network: Network) -> None:
    async def use(client: OdooClient) -> list[str]:
        await client.search_read("res.partner", [], ["name"])
        rows = await client.read("product.product", list(network.products.values()), ["name"])
        await client.search_read("stock.warehouse", [("code", "=", "ATL")], ["code"])
        return [row["name"] for row in rows]

    names = with_client(odoo, use)
    assert len(names) == 3
    assert odoo.calls.count(("common", "login")) == 1
    assert [c for c in odoo.calls if c[0] != "common"] == [
        ("res.partner", "search_read"),
        ("product.product", "read"),
        ("stock.warehouse", "search_read"),
    ]


def test_an_api_key_stands_in_for_the_password(odoo: FakeOdoo, network: Network) -> None:
    async def use(client: OdooClient) -> int:
        return await client.uid()

    assert with_client(odoo, use, password=API_KEY) > 0


def test_a_wrong_password_is_a_refused_login_without_the_password(
    odoo: FakeOdoo, network: Network
) -> None:
    async def use(client: OdooClient) -> None:
        await client.search_read("res.partner", [], ["name"])

    with pytest.raises(OdooLoginRefused) as refused:
        with_client(odoo, use, password="not-the-password")
    assert LOGIN in str(refused.value)
    assert "not-the-password" not in str(refused.value)


def test_access_denied_logs_in_again_once(odoo: FakeOdoo, network: Network) -> None:
    odoo.fail_next_call("odoo.exceptions.AccessDenied", "Access Denied")

    async def use(client: OdooClient) -> int:
        return len(await client.search_read("res.partner", [], ["name"]))

    assert with_client(odoo, use) == 3
    assert odoo.calls.count(("common", "login")) == 2
    assert odoo.calls.count(("res.partner", "search_read")) == 2

    odoo.fail_next_call("odoo.exceptions.AccessDenied", "Access Denied")
    odoo.fail_next_call("odoo.exceptions.AccessDenied", "Access Denied")
    with pytest.raises(OdooFault) as denied:
        with_client(odoo, use)
    assert denied.value.name == "odoo.exceptions.AccessDenied"


def test_odoo_errors_come_back_with_their_exception_name(odoo: FakeOdoo, network: Network) -> None:
    async def unknown_method(client: OdooClient) -> None:
        await client.execute("stock.picking", "action_explode_everything", [[1]])

    with pytest.raises(OdooFault) as missing:
        with_client(odoo, unknown_method)
    assert missing.value.name == "builtins.AttributeError"
    assert "action_explode_everything" in missing.value.message

    async def bad_field(client: OdooClient) -> None:
        await client.search_read("purchase.order", [("no_such_field", "=", 1)], ["name"])

    with pytest.raises(OdooFault) as invalid:
        with_client(odoo, bad_field)
    assert invalid.value.name == "builtins.ValueError"


def test_a_wrong_database_is_an_operational_error(odoo: FakeOdoo, network: Network) -> None:
    async def use(client: OdooClient) -> int:
        client.database = "nope"
        return await client.uid()

    with pytest.raises(OdooFault) as fault:
        with_client(odoo, use)
    assert fault.value.name == "psycopg2.OperationalError"
    assert '"nope"' in fault.value.message


def test_http_statuses_and_non_json_rpc_answers(odoo: FakeOdoo, network: Network) -> None:
    async def use(client: OdooClient) -> object:
        return await client.version()

    odoo.peer.script(PeerResponse(503, {"error": "maintenance"}, {"Retry-After": "30"}))
    with pytest.raises(OdooHTTPError) as http_error:
        with_client(odoo, use)
    assert http_error.value.response.status_code == 503

    odoo.peer.script(PeerResponse(200, "<html>proxy error</html>"))
    with pytest.raises(OdooProtocolError):
        with_client(odoo, use)


def test_the_server_clock_comes_from_the_date_header(odoo: FakeOdoo) -> None:
    async def use(client: OdooClient) -> datetime | None:
        assert client.server_time is None
        await client.version()
        return client.server_time

    seen = with_client(odoo, use)
    assert seen is not None
    assert abs(seen - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_client_shows_no_password(odoo: FakeOdoo) -> None:
    async def use(client: OdooClient) -> str:
        return repr(client)

    assert PASSWORD not in with_client(odoo, use)
