"""The fake Odoo answers like Odoo where the connector (and later scenarios) rely on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from connectors.odoo.rpc import OdooClient, OdooFault
from connectors.odoo.testing import LOGIN, PASSWORD, FakeOdoo, MoveLine, Network, OrderLine

T = TypeVar("T")


def rpc(odoo: FakeOdoo, use: Callable[[OdooClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with httpx.AsyncClient() as http:
            return await use(OdooClient(http, odoo.url, odoo.database, LOGIN, PASSWORD))

    return asyncio.run(main())


def test_domains_combine_with_prefix_operators_and_follow_relations(
    odoo: FakeOdoo, network: Network
) -> None:
    for qty in (1, 2, 3):
        odoo.add_purchase_order(
            network.supplier,
            [OrderLine(network.product("NTR-GLV-L-CS10"), qty)],
            warehouse=network.warehouse,
            name=f"P-{qty}",
            state="purchase" if qty < 3 else "draft",
        )

    async def use(client: OdooClient) -> list[list[str]]:
        found = []
        for domain in (
            [("state", "=", "purchase")],
            ["!", ("state", "=", "purchase")],
            ["|", ("name", "=", "P-1"), ("name", "=", "P-3")],
            [("picking_type_id.warehouse_id.code", "in", ["ATL"]), ("name", "!=", "P-2")],
            [("partner_id.ref", "=", "NOPE")],
        ):
            rows = await client.search_read("purchase.order", domain, ["name"], order="name desc")
            found.append([row["name"] for row in rows])
        return found

    assert rpc(odoo, use) == [["P-2", "P-1"], ["P-3"], ["P-3", "P-1"], ["P-3", "P-1"], []]


def test_reads_answer_like_odoo(odoo: FakeOdoo, network: Network) -> None:
    picking = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(network.product("SAN-GEL-1GA"), 3, 1)],
        warehouse=network.warehouse,
    )

    async def use(client: OdooClient) -> dict[str, Any]:
        [row] = await client.read(
            "stock.picking", [picking], ["name", "origin", "partner_id", "state"]
        )
        return row

    row = rpc(odoo, use)
    assert row == {
        "id": picking,
        "name": "ATL/OUT/00001",
        "origin": False,
        "partner_id": [network.customer, "Peachtree Clinics, Dana Whitfield"],
        "state": "assigned",
    }


def test_validation_asks_about_backorders_unless_told(odoo: FakeOdoo, network: Network) -> None:
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(network.product("SAN-GEL-1GA"), 10)],
        warehouse=network.warehouse,
        name="P-1",
    )
    [picking] = odoo.rows("stock.picking", origin="P-1")
    [move] = odoo.rows("stock.move", picking_id=picking["id"])

    async def use(client: OdooClient) -> Any:
        await client.execute("stock.move", "write", [[move["id"]], {"quantity": 0.0}])
        with pytest.raises(OdooFault, match="no quantities"):
            await client.execute("stock.picking", "button_validate", [[picking["id"]]])
        await client.execute("stock.move", "write", [[move["id"]], {"quantity": 4.0}])
        return await client.execute("stock.picking", "button_validate", [[picking["id"]]])

    wizard = rpc(odoo, use)
    assert wizard["res_model"] == "stock.backorder.confirmation"
    assert odoo.row("stock.picking", picking["id"])["state"] == "assigned"


def test_unknown_calls_and_paths_are_refused(odoo: FakeOdoo, network: Network) -> None:
    async def use(client: OdooClient) -> None:
        await client.search_read("no.such.model", [], ["name"])

    with pytest.raises(OdooFault) as fault:
        rpc(odoo, use)
    assert fault.value.name == "builtins.KeyError"
    assert httpx.get(f"{odoo.url}/jsonrpc").status_code == 405
    assert httpx.post(f"{odoo.url}/xmlrpc/2/object", content=b"<x/>").status_code == 404
    assert httpx.post(f"{odoo.url}/jsonrpc", content=b"{").status_code == 400


def test_a_malformed_call_is_an_error_answer_not_a_dropped_connection(
    odoo: FakeOdoo, network: Network
) -> None:
    async def use(client: OdooClient) -> None:
        await client.call("common", "login", odoo.database)  # login and password missing

    with pytest.raises(OdooFault) as fault:
        rpc(odoo, use)
    assert fault.value.name == "builtins.ValueError"


def test_create_confirm_assign_and_cancel_answer_like_odoo(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 5)
    out_type = odoo.picking_type(network.warehouse, "outgoing")
    [stock] = odoo.rows("stock.location", complete_name="ATL/Stock")
    [customers] = odoo.rows("stock.location", usage="customer")
    move = {
        "name": "[NTR-GLV-L-CS10] Gloves",
        "product_id": gloves,
        "product_uom_qty": 8,
        "location_id": stock["id"],
        "location_dest_id": customers["id"],
    }

    async def use(client: OdooClient) -> list[Any]:
        answers: list[Any] = []
        one = await client.execute(
            "stock.picking",
            "create",
            [{"picking_type_id": out_type, "origin": "1001", "move_ids": [[0, 0, move]]}],
        )
        answers.append(one)
        answers.append(
            await client.execute("stock.picking", "create", [[{"picking_type_id": out_type}]])
        )
        [row] = await client.read("stock.picking", [one], ["state", "location_id"])
        answers.append(row)
        answers.append(await client.execute("stock.picking", "action_confirm", [[one]]))
        answers.append(await client.execute("stock.picking", "action_assign", [[one]]))
        for call in (
            ("stock.picking", "create", [{"origin": "no type"}]),
            ("stock.picking", "create", [{"picking_type_id": out_type, "colour": "red"}]),
            (
                "stock.picking",
                "create",
                [{"picking_type_id": out_type, "move_ids": [[0, 0, {"product_id": gloves}]]}],
            ),
            ("stock.picking", "action_assign", [answers[1]]),  # no moves
        ):
            with pytest.raises(OdooFault) as fault:
                await client.execute(*call)
            answers.append(fault.value.name)
        return answers

    created, several, row, confirmed, assigned, *faults = rpc(odoo, use)
    assert isinstance(created, int) and several == [created + 1]
    assert row == {"id": created, "state": "draft", "location_id": [stock["id"], "ATL/Stock"]}
    assert (confirmed, assigned) == (True, True)
    assert faults == [
        "odoo.exceptions.ValidationError",
        "builtins.ValueError",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
    ]
    [reserved] = odoo.rows("stock.move", picking_id=created)
    assert (reserved["state"], reserved["quantity"]) == ("partially_available", 5)
    assert odoo.row("stock.picking", created)["state"] == "assigned"

    # A demand lowered below what is reserved unreserves the move, as Odoo does.
    async def lower(client: OdooClient) -> None:
        await client.execute("stock.move", "write", [[reserved["id"]], {"product_uom_qty": 3}])

    rpc(odoo, lower)
    after = odoo.row("stock.move", reserved["id"])
    assert (after["product_uom_qty"], after["quantity"], after["state"]) == (3, 0, "confirmed")

    async def cancel(client: OdooClient) -> Any:
        return await client.execute("stock.picking", "action_cancel", [[created]])

    assert rpc(odoo, cancel) is True
    assert odoo.row("stock.picking", created)["state"] == "cancel"
    assert [(m["state"], m["quantity"]) for m in odoo.rows("stock.move", picking_id=created)] == [
        ("cancel", 0)
    ]


def test_stock_received_goes_to_waiting_deliveries_oldest_first(
    odoo: FakeOdoo, network: Network
) -> None:
    gel = network.product("SAN-GEL-1GA")
    first = odoo.add_picking(
        "outgoing", network.customer, [MoveLine(gel, 4)], warehouse=network.warehouse
    )
    second = odoo.add_picking(
        "outgoing", network.customer, [MoveLine(gel, 4)], warehouse=network.warehouse
    )
    odoo.add_purchase_order(
        network.supplier, [OrderLine(gel, 6)], warehouse=network.warehouse, name="P-GEL"
    )
    [receipt] = odoo.pickings("P-GEL")
    assert odoo.validate(receipt["id"]) is None  # all 6 received
    assert odoo.on_hand(gel, network.warehouse) == 6
    reserved = [
        (
            odoo.row("stock.picking", p)["state"],
            odoo.rows("stock.move", picking_id=p)[0]["quantity"],
        )
        for p in (first, second)
    ]
    assert reserved == [("assigned", 4), ("assigned", 2)]

    # The first ships; more stock counted in waits for the scheduler.
    assert odoo.validate(first) is None
    odoo.set_stock(gel, network.warehouse, 10)
    assert odoo.rows("stock.move", picking_id=second)[0]["quantity"] == 2
    odoo.run_scheduler()
    assert odoo.rows("stock.move", picking_id=second)[0]["quantity"] == 4

    async def cancel(client: OdooClient) -> Any:
        return await client.execute("stock.picking", "action_cancel", [[first]])

    with pytest.raises(OdooFault, match="set to 'Done'"):
        rpc(odoo, cancel)
