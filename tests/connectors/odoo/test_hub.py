"""The odoo connector driven through a real hub: polled purchase orders, reservations and
backorders become canonical messages; routed receipts are booked and validated in Odoo,
routed reservations become deliveries, reserved, backordered, filled or cancelled, and a
warehouse's shipments of them are booked on them.

The hub reads this connector's mappings only (a copy of ``mappings/odoo``, with the hub's
contract version mappings), so the test stands on the files it ships.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from connectors.odoo.testing import (
    LOGIN,
    PASSWORD,
    FakeOdoo,
    MoveLine,
    Network,
    OrderLine,
    receipt_event,
    reservation_event,
    seed_network,
    shipment_event,
)
from tests.conftest import ADMIN_KEY, REPO, hub_settings
from tests.servers import HubServer

SOURCE = "/connections/odoo-erp"


@pytest.fixture
def odoo() -> Iterator[FakeOdoo]:
    fake = FakeOdoo()
    with fake.peer:
        yield fake


@pytest.fixture
def network(odoo: FakeOdoo) -> Network:
    return seed_network(odoo)


@pytest.fixture
def hub(database_url: str, tmp_path: Path) -> Iterator[HubServer]:
    mappings = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings" / "odoo", mappings / "odoo")
    versions = REPO / "mappings" / "versions"
    if versions.is_dir():  # routes convert between contract versions with these
        shutil.copytree(versions, mappings / "versions")
    settings = hub_settings(database_url)
    settings.mappings_path = mappings
    settings.poll_sync_seconds = 0.2
    with HubServer(settings) as server:
        yield server


def connect(client: httpx.Client, odoo: FakeOdoo, **config: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/connections",
        json={
            "name": "odoo-erp",
            "connector": "odoo",
            "config": {
                "url": odoo.url,
                "database": odoo.database,
                "login": LOGIN,
                "password": PASSWORD,
                "page_size": 2,
                "settle_seconds": 0,
                **config,
            },
            "poll_interval_seconds": 1,
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def messages(client: httpx.Client, type_: str) -> list[dict[str, Any]]:
    page = client.get("/v1/messages", params={"source": SOURCE, "type": type_, "limit": 100})
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_purchase_orders_are_polled_page_by_page_once_each(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    gloves, gel = network.product("NTR-GLV-L-CS10"), network.product("SAN-GEL-1GA")
    big = 9007199254740993
    for n in range(5):
        odoo.add_purchase_order(
            network.supplier,
            [OrderLine(gloves, 400, 38.75), OrderLine(gel, 12.345, 0.1, uom="kg")],
            warehouse=network.warehouse,
            id=big + n,
        )
    with hub.client(ADMIN_KEY) as client:
        created = connect(client, odoo)
        assert PASSWORD not in orjson.dumps(created).decode()
        assert created["mappings"]["odoo/purchase.order"] == "odoo-purchase-order"
        check = client.post("/v1/connections/odoo-erp/check").json()
        assert check["ok"] is True, check
        assert "Odoo 17.0" in check["detail"]

        released = wait_for(
            lambda: (m := messages(client, "po_release.released")) and len(m) == 5 and m
        )
        events = sorted(
            (m["event"] for m in released), key=lambda e: e["data"]["extensions"]["odoo_id"]
        )
        assert [e["data"]["extensions"]["odoo_id"] for e in events] == [big + n for n in range(5)]
        assert [e["subject"] for e in events] == [f"P{n:05d}" for n in range(1, 6)]
        first = events[0]
        assert first["source"] == SOURCE
        assert first["id"].startswith(f"odoo:purchase.order:{big}@")
        assert first["data"]["supplier_ref"] == "VEND-ACME-0042"
        assert first["data"]["ship_to"]["code"] == "ATL"
        assert [
            (line["ordered_qty"], line["unit_price"], line["uom"])
            for line in first["data"]["lines"]
        ] == [
            (400, 38.75, "EA"),
            (12.345, 0.1, "KG"),
        ]

        polling = wait_for(
            lambda: (p := client.get("/v1/connections/odoo-erp").json()["polling"])["cursor"] and p
        )
        assert polling["last_error"] is None
        cursor = orjson.loads(polling["cursor"])
        assert sorted(cursor["purchase_orders"]["seen"]) != []
        # Five orders, two per page: three pages at least, never a page read twice.
        reads = [c for c in odoo.calls if c == ("purchase.order", "search_read")]
        assert len(reads) >= 3

        odoo.add_purchase_order(
            network.supplier, [OrderLine(gloves, 1, 1.0)], warehouse=network.warehouse
        )
        wait_for(lambda: len(messages(client, "po_release.released")) == 6)
        time.sleep(2.5)  # a few more polls: nothing comes twice
        again = messages(client, "po_release.released")
        assert len(again) == 6
        assert len({m["event"]["id"] for m in again}) == 6
        assert messages(client, "po_release.changed") == []
        letters = client.get("/v1/deadletters", params={"direction": "inbound"}).json()["items"]
        assert letters == []


def test_a_routed_receipt_is_booked_and_its_backorder_reported(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    gloves, gel = network.product("NTR-GLV-L-CS10"), network.product("SAN-GEL-1GA")
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(gloves, 400, 38.75), OrderLine(gel, 12.5, 12.49, uom="kg")],
        warehouse=network.warehouse,
        name="P04512",
    )
    odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(gloves, 60, 60), MoveLine(gel, 20, 7.5, uom="kg")],
        warehouse=network.warehouse,
        origin="S00871",
    )
    with hub.client(ADMIN_KEY) as client:
        connect(client, odoo)
        route = client.post(
            "/v1/routes",
            json={
                "name": "receipts-to-odoo",
                "connection": "odoo-erp",
                "types": ["receipt.received"],
                "mapping": "odoo-receipt",
            },
        )
        assert route.status_code == 201, route.text
        [order] = wait_for(lambda: messages(client, "po_release.released"))
        assert order["event"]["subject"] == "P04512"
        [reservation] = wait_for(lambda: messages(client, "reservation.confirmed"))
        data = reservation["event"]["data"]
        assert (data["order_ref"], data["customer_ref"], data["status"]) == (
            "S00871",
            "CUST-US-00871",
            "partially_confirmed",
        )
        assert [(line["requested_qty"], line["reserved_qty"]) for line in data["lines"]] == [
            (60, 60),
            (20, 7.5),
        ]

        # The warehouse received 396 of 400 gloves and all the gel.
        posted = client.post(
            "/v1/messages",
            content=orjson.dumps(receipt_event("P04512")),
            headers={"content-type": "application/json"},
        )
        assert posted.status_code == 202, posted.text
        key = posted.json()["key"]
        wait_for(
            lambda: (
                [d["status"] for d in client.get(f"/v1/messages/{key}/deliveries").json()["items"]]
                == ["delivered"]
            )
        )
        original, rest = odoo.rows("stock.picking", origin="P04512")
        assert original["state"] == "done"
        assert [m["quantity"] for m in odoo.rows("stock.move", picking_id=original["id"])] == [
            396,
            12.5,
        ]
        assert rest["backorder_id"] == [original["id"], original["name"]]

        # The next poll reports the backorder the receipt left.
        [backorder] = wait_for(lambda: messages(client, "backorder.created"))
        data = backorder["event"]["data"]
        assert backorder["event"]["subject"] == rest["name"]
        assert (data["order_ref"], data["supply_ref"], data["open_qty"], data["uom"]) == (
            "P04512",
            "P04512",
            4,
            "EA",
        )
        assert [line["item"]["sku"] for line in data["lines"]] == ["NTR-GLV-L-CS10"]

        # Receiving rewrote the purchase order: nothing a supplier needs to hear again.
        time.sleep(2.5)
        assert len(messages(client, "po_release.released")) == 1
        assert messages(client, "po_release.changed") == []
        assert len(messages(client, "backorder.created")) == 1
        assert messages(client, "backorder.updated") == []


SHOP_RESERVATION = "SHOP-5678901234567890123"


def post(client: httpx.Client, event: dict[str, Any]) -> str:
    posted = client.post(
        "/v1/messages", content=orjson.dumps(event), headers={"content-type": "application/json"}
    )
    assert posted.status_code == 202, posted.text
    key: str = posted.json()["key"]
    return key


def delivered(client: httpx.Client, key: str) -> None:
    wait_for(
        lambda: (
            [d["status"] for d in client.get(f"/v1/messages/{key}/deliveries").json()["items"]]
            == ["delivered"]
        )
    )


def route_everything(client: httpx.Client) -> None:
    for name, types, mapping in (
        (
            "reservations-to-odoo",
            ["reservation.requested", "reservation.cancelled"],
            "odoo-delivery",
        ),
        ("receipts-to-odoo", ["receipt.received"], "odoo-receipt"),
    ):
        route = client.post(
            "/v1/routes",
            json={"name": name, "connection": "odoo-erp", "types": types, "mapping": mapping},
        )
        assert route.status_code == 201, route.text


def gloves_received(po_number: str, quantity: float, receipt_id: str) -> dict[str, Any]:
    event = receipt_event(po_number, receipt_id)
    event["data"]["lines"] = [
        {
            "line_no": 1,
            "item": {"sku": "NTR-GLV-L-CS10"},
            "received_qty": quantity,
            "accepted_qty": quantity,
            "rejected_qty": 0,
            "uom": "EA",
        }
    ]
    return event


def test_an_order_reserved_short_is_backordered_then_filled_by_a_receipt(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 6)
    with hub.client(ADMIN_KEY) as client:
        connect(client, odoo)
        route_everything(client)
        order = reservation_event("1001", {"NTR-GLV-L-CS10": 10}, reservation_id=SHOP_RESERVATION)
        delivered(client, post(client, order))
        [delivery] = odoo.pickings("1001", "outgoing")

        # Odoo holds the 6 it has: the reservation is confirmed for 6 of 10.
        [confirmed] = wait_for(lambda: messages(client, "reservation.confirmed"))
        event = confirmed["event"]
        assert (event["subject"], event["data"]["reservation_id"]) == (SHOP_RESERVATION,) * 2
        assert event["data"]["status"] == "partially_confirmed"
        assert event["data"]["extensions"]["odoo_picking"] == delivery["name"]
        assert [(ln["requested_qty"], ln["reserved_qty"]) for ln in event["data"]["lines"]] == [
            (10, 6)
        ]

        # The warehouse ships the 6; the 4 still owed are backordered.
        backorder = odoo.validate(delivery["id"])
        assert backorder is not None
        [created] = wait_for(lambda: messages(client, "backorder.created"))
        data = created["event"]["data"]
        assert (data["order_ref"], data["status"], data["open_qty"], data["filled_qty"]) == (
            "1001",
            "open",
            4,
            0,
        )
        assert data["extensions"]["reservation_id"] == SHOP_RESERVATION
        assert "supply_ref" not in data

        # A purchase order for 4 arrives; booking its receipt reserves the 4 for the customer.
        odoo.add_purchase_order(
            network.supplier,
            [OrderLine(gloves, 4, 38.75)],
            warehouse=network.warehouse,
            name="P00004",
        )
        delivered(client, post(client, gloves_received("P00004", 4, "RCV-ATL-26-01001")))
        [filled] = wait_for(lambda: messages(client, "backorder.filled"))
        data = filled["event"]["data"]
        assert filled["event"]["subject"] == odoo.row("stock.picking", backorder)["name"]
        assert (data["status"], data["open_qty"], data["filled_qty"]) == ("filled", 0, 4)
        assert [(ln["open_qty"], ln["filled_qty"]) for ln in data["lines"]] == [(0, 4)]
        # ... and the stock now held for the backorder is the reservation's, confirmed whole.
        both = wait_for(
            lambda: (m := messages(client, "reservation.confirmed")) and len(m) == 2 and m
        )
        latest = max(both, key=lambda m: m["event"]["time"])["event"]["data"]
        assert (latest["reservation_id"], latest["status"]) == (SHOP_RESERVATION, "confirmed")

        time.sleep(2.5)  # more polls: nothing comes twice
        assert len(messages(client, "backorder.created")) == 1
        assert len(messages(client, "backorder.filled")) == 1
        assert messages(client, "backorder.updated") == []
        assert len(messages(client, "reservation.confirmed")) == 2
        assert client.get("/v1/deadletters").json()["items"] == []


def test_a_cancelled_order_releases_its_delivery_and_cancels_its_backorder(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 6)
    with hub.client(ADMIN_KEY) as client:
        connect(client, odoo)
        route_everything(client)
        requested = reservation_event(
            "1001", {"NTR-GLV-L-CS10": 10}, reservation_id=SHOP_RESERVATION
        )
        delivered(client, post(client, requested))
        wait_for(lambda: messages(client, "reservation.confirmed"))
        [delivery] = odoo.pickings("1001", "outgoing")
        backorder = odoo.validate(delivery["id"], {gloves: 6})
        wait_for(lambda: messages(client, "backorder.created"))

        cancelled = reservation_event(
            "1001", {"NTR-GLV-L-CS10": 10}, event="cancelled", reservation_id=SHOP_RESERVATION
        )
        delivered(client, post(client, cancelled))
        assert odoo.row("stock.picking", backorder or 0)["state"] == "cancel"

        # The release comes back from Odoo: the reservation cancelled, the backorder too.
        [released] = wait_for(lambda: messages(client, "reservation.cancelled"))
        data = released["event"]["data"]
        assert released["event"]["source"] == SOURCE
        assert (data["reservation_id"], data["status"]) == (SHOP_RESERVATION, "cancelled")
        assert [(ln["requested_qty"], ln["reserved_qty"]) for ln in data["lines"]] == [(4, 0)]
        [gone] = wait_for(lambda: messages(client, "backorder.cancelled"))
        data = gone["event"]["data"]
        assert (data["status"], data["open_qty"], data["filled_qty"]) == ("cancelled", 4, 0)
        assert client.get("/v1/deadletters").json()["items"] == []


def test_what_odoo_cannot_book_is_a_dead_letter_that_says_why(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(network.product("NTR-GLV-L-CS10"), 100, 38.75)],
        warehouse=network.warehouse,
        name="P00400",
    )
    with hub.client(ADMIN_KEY) as client:
        connect(client, odoo, receipt_tolerance_percent=10)
        route_everything(client)
        over = gloves_received("P00400", 120, "RCV-ATL-26-00400")
        over["data"]["lines"].append(
            {"line_no": 2, "item": {"sku": "SAN-GEL-1GA"}, "received_qty": 12, "uom": "EA"}
        )
        receipt_key = post(client, over)
        stranger = reservation_event("1002", {"NTR-GLV-L-CS10": 1}, customer_ref="CUST-NOBODY")
        order_key = post(client, stranger)
        letters = wait_for(
            lambda: (
                (
                    items := client.get("/v1/deadletters", params={"direction": "outbound"}).json()[
                        "items"
                    ]
                )
                and len(items) == 2
                and items
            )
        )
        errors = {letter["message_key"]: letter["error"] for letter in letters}
        assert all(letter["reason"] == "permanent" for letter in letters)
        assert errors[receipt_key] == (
            "receipt line 1 (NTR-GLV-L-CS10): 120 received now + 0 before = 120, over the "
            "receiving tolerance of PO P00400: at most 110 (ordered 100 + 10%); "
            "receipt line 2 (SAN-GEL-1GA) is not on PO P00400"
        )
        assert "Odoo knows no customer with the Reference 'CUST-NOBODY'" in errors[order_key]
        [picking] = odoo.pickings("P00400")
        assert picking["state"] == "assigned"
        assert odoo.pickings("1002") == []


def test_a_3pl_short_shipment_is_booked_and_its_rest_backordered_until_cancelled(
    hub: HubServer, odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 10)
    with hub.client(ADMIN_KEY) as client:
        connect(client, odoo)
        route_everything(client)
        route = client.post(
            "/v1/routes",
            json={
                "name": "shipments-to-odoo",
                "connection": "odoo-erp",
                "types": ["transfer.shipped"],
                "mapping": "odoo-shipment",
            },
        )
        assert route.status_code == 201, route.text
        order = reservation_event("1001", {"NTR-GLV-L-CS10": 10}, reservation_id=SHOP_RESERVATION)
        delivered(client, post(client, order))
        [confirmed] = wait_for(lambda: messages(client, "reservation.confirmed"))
        assert confirmed["event"]["data"]["status"] == "confirmed"

        # The 3PL's 945: 8 of the 10 shipped, 2 short. Odoo books 8 and backorders 2.
        shipment = shipment_event(
            SHOP_RESERVATION, {"NTR-GLV-L-CS10": 8}, requested={"NTR-GLV-L-CS10": 10}
        )
        delivered(client, post(client, shipment))
        shipped, rest = odoo.pickings("1001", "outgoing")
        assert shipped["state"] == "done"
        assert [m["quantity"] for m in odoo.rows("stock.move", picking_id=shipped["id"])] == [8]
        [created] = wait_for(lambda: messages(client, "backorder.created"))
        data = created["event"]["data"]
        assert created["event"]["subject"] == rest["name"]
        assert (data["order_ref"], data["status"], data["open_qty"], data["filled_qty"]) == (
            "1001",
            "open",
            2,
            0,
        )
        assert data["extensions"]["reservation_id"] == SHOP_RESERVATION

        # The same 945 read again is the same message: stored once, booked once.
        again = client.post(
            "/v1/messages",
            content=orjson.dumps(shipment),
            headers={"content-type": "application/json"},
        )
        assert (again.status_code, again.json()["duplicate"]) == (200, True)

        # The customer cancels; a late 945 for the 2 finds the backorder cancelled.
        cancelled = reservation_event(
            "1001", {"NTR-GLV-L-CS10": 10}, event="cancelled", reservation_id=SHOP_RESERVATION
        )
        delivered(client, post(client, cancelled))
        [gone] = wait_for(lambda: messages(client, "backorder.cancelled"))
        assert gone["event"]["data"]["backorder_id"] == rest["name"]
        late = shipment_event(SHOP_RESERVATION, {"NTR-GLV-L-CS10": 2}, number=2)
        late_key = post(client, late)
        [letter] = wait_for(
            lambda: client.get("/v1/deadletters", params={"direction": "outbound"}).json()["items"]
        )
        assert (letter["message_key"], letter["reason"]) == (late_key, "permanent")
        assert letter["error"] == (
            f"the delivery of reservation {SHOP_RESERVATION} at warehouse ATL still to ship is "
            f"cancelled in Odoo ({rest['name']}): the shipment cannot be booked"
        )

        time.sleep(2.5)  # more polls: the 2 the 3PL lacked were never held, nor released again
        assert len(messages(client, "reservation.confirmed")) == 1
        assert messages(client, "backorder.filled") == []
        assert len(messages(client, "backorder.created")) == 1
        assert odoo.calls.count(("stock.picking", "button_validate")) == 1
