"""The Shopify connector driven through a real hub: signed webhooks pushed to the inbound
endpoint become reservation messages, and receipts routed to the shop move its stock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from connectors.sdk import InboundRequest
from connectors.shopify.testing import (
    ACCESS_TOKEN,
    ESPRESSO_ITEM,
    ROTTERDAM,
    SALT_ITEM,
    SHOP_DOMAIN,
    WEBHOOK_SECRET,
    FakeShopify,
    sample_order,
    webhook,
)
from tests.conftest import ADMIN_KEY, hub_settings
from tests.deliveries.test_delivery_api import post_event
from tests.servers import HubServer

T = TypeVar("T")
ORDER_ID = 5678901234567890123
CUPS_ITEM = 45012345678904
SOURCE = "/connections/fine-foods-eu"


@pytest.fixture
def shop_hub(database_url: str) -> Iterator[HubServer]:
    with HubServer(hub_settings(database_url)) as server:
        yield server


@pytest.fixture
def store() -> Iterator[FakeShopify]:
    fake = FakeShopify()
    with fake.peer:
        fake.stock(ESPRESSO_ITEM, ROTTERDAM, 10, "FS-COF-ESP-1KG")
        fake.stock(SALT_ITEM, ROTTERDAM, 5, "FS-SALT-SEA-500G")
        fake.stock(CUPS_ITEM, ROTTERDAM, 100, "FS-CUP-PAP-8OZ")
        yield fake


@pytest.fixture
def client(shop_hub: HubServer, store: FakeShopify) -> Iterator[httpx.Client]:
    with shop_hub.client(ADMIN_KEY) as client:
        created = client.post(
            "/v1/connections",
            json={
                "name": "fine-foods-eu",
                "connector": "shopify",
                "config": {
                    "shop_domain": SHOP_DOMAIN,
                    "access_token": ACCESS_TOKEN,
                    "webhook_secret": WEBHOOK_SECRET,
                    "admin_api_url": store.url,
                    "fulfillment_location_id": ROTTERDAM,
                },
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["secrets_set"] == ["access_token", "webhook_secret"]
        yield client


def wait_for(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def push(client: httpx.Client, request: InboundRequest) -> httpx.Response:
    return client.post(
        "/v1/connections/fine-foods-eu/inbound", content=request.body, headers=dict(request.headers)
    )


def messages(client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/messages", params={"source": SOURCE}).json()[
        "items"
    ]
    return items


def test_the_connection_checks_against_the_shop(client: httpx.Client) -> None:
    check = client.post("/v1/connections/fine-foods-eu/check").json()
    assert check["ok"] is True, check
    assert check["detail"] == "connected to Fine Foods EU (Admin API 2025-01)"
    listed = client.get("/v1/connections/fine-foods-eu").json()
    assert ACCESS_TOKEN not in orjson.dumps(listed).decode()
    assert listed["mappings"] == {
        "orders/create": "shopify-orders-create",
        "orders/updated": "shopify-orders-updated",
        "orders/cancelled": "shopify-orders-cancelled",
    }


def test_a_signed_order_becomes_a_valid_reservation_request(client: httpx.Client) -> None:
    request = webhook("orders/create", sample_order())
    tampered = push(client, replace(request, body=request.body.replace(b"24", b"42")))
    assert tampered.status_code == 401
    assert messages(client) == []

    response = push(client, request)
    assert response.status_code == 202, response.text
    [item] = response.json()["items"]
    assert item["status"] == "accepted", item
    raw = client.get(f"/v1/messages/{item['message_key']}").content
    assert b'"shopify_order_id":5678901234567890123' in raw  # the 64-bit id, as a number
    event = orjson.loads(raw)["event"]
    assert event["source"] == SOURCE
    assert event["type"] == "reservation.requested"
    assert event["id"] == f"shopify-orders-create-{ORDER_ID}"
    assert event["subject"] == f"SHOP-{ORDER_ID}"
    data = event["data"]
    assert (data["order_ref"], data["status"], data["channel"]) == (
        "EU-100734",
        "requested",
        "ecommerce",
    )
    assert [
        (line["item"]["sku"], line["location"]["code"], line["requested_qty"], line["uom"])
        for line in data["lines"]
    ] == [("FS-COF-ESP-1KG", "WH-RTM", 24, "EA"), ("FS-SALT-SEA-500G", "WH-RTM", 12, "EA")]

    # Shopify retrying the same delivery: the first answer again, nothing new.
    again = push(client, request)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(messages(client)) == 1


def test_a_cancelled_order_becomes_a_reservation_cancellation(client: httpx.Client) -> None:
    assert push(client, webhook("orders/create", sample_order())).status_code == 202
    cancelled = sample_order(
        updated_at="2026-03-14T12:30:11+01:00",
        cancelled_at="2026-03-14T12:30:10+01:00",
        cancel_reason="customer",
    )
    response = push(client, webhook("orders/cancelled", cancelled))
    assert response.status_code == 202
    [item] = response.json()["items"]
    assert item["status"] == "accepted", item
    event = client.get(f"/v1/messages/{item['message_key']}").json()["event"]
    assert event["type"] == "reservation.cancelled"
    assert event["id"] == f"shopify-orders-cancelled-{ORDER_ID}@2026-03-14T11:30:11Z"
    assert event["time"] == "2026-03-14T11:30:10Z"
    assert event["data"]["status"] == "cancelled"
    assert event["data"]["extensions"]["cancel_reason"] == "customer"
    assert [line["requested_qty"] for line in event["data"]["lines"]] == [24, 12]
    # The update Shopify sends with the cancellation, arriving after it, is ignored.
    late = push(client, webhook("orders/updated", {**cancelled, "cancelled_at": None}))
    assert late.status_code == 202
    assert late.json()["received"] == 0
    assert sorted(m["event"]["type"] for m in messages(client)) == [
        "reservation.cancelled",
        "reservation.requested",
    ]


def test_an_out_of_order_update_is_ignored_by_its_timestamp(client: httpx.Client) -> None:
    newer = sample_order(updated_at="2026-03-14T11:30:00+01:00", quantities=(20, 12))
    older = sample_order(updated_at="2026-03-14T11:00:00+01:00", quantities=(22, 12))
    first = push(client, webhook("orders/updated", newer))
    assert first.json()["accepted"] == 1, first.text
    late = push(client, webhook("orders/updated", older))
    assert late.status_code == 202
    assert late.json() | {"delivery_id": None} == {
        "delivery_id": None,
        "duplicate": False,
        "received": 0,
        "accepted": 0,
        "dead_lettered": 0,
        "items": [],
    }
    [stored] = messages(client)
    assert stored["event"]["data"]["lines"][0]["requested_qty"] == 20
    assert stored["event"]["time"] == "2026-03-14T10:30:00Z"
    assert client.get("/v1/deadletters", params={"direction": "inbound"}).json()["items"] == []

    newest = sample_order(updated_at="2026-03-14T12:00:00+01:00", quantities=(18, 12))
    assert push(client, webhook("orders/updated", newest)).json()["accepted"] == 1
    assert [m["event"]["data"]["lines"][0]["requested_qty"] for m in messages(client)] == [20, 18]


RECEIPT = {
    "specversion": "1.0",
    "id": "rcv-rtm-26-00917",
    "source": "/connections/rotterdam-wms",
    "type": "receipt.received",
    "dataschema": "urn:crossdock:contract:receipt:1.0",
    "subject": "RCV-RTM-26-00917",
    "time": "2026-03-26T18:37:00Z",
    "data": {
        "receipt_id": "RCV-RTM-26-00917",
        "location": {"code": "WH-RTM"},
        "lines": [
            {
                "line_no": 1,
                "item": {"sku": "FS-COF-ESP-1KG"},
                "received_qty": 400,
                "accepted_qty": 396,
                "rejected_qty": 4,
                "uom": "EA",
            },
            {"line_no": 2, "item": {"sku": "FS-SALT-SEA-500G"}, "received_qty": 10, "uom": "EA"},
            {"line_no": 3, "item": {"sku": "PKG-TAPE-48-CS"}, "received_qty": 2, "uom": "CS"},
        ],
    },
}

BACKORDER_FILLED = {
    "specversion": "1.0",
    "id": "bo-2026-001187-filled",
    "source": "/connections/odoo-erp",
    "type": "backorder.filled",
    "dataschema": "urn:crossdock:contract:backorder:1.0",
    "subject": "BO-2026-001187",
    "time": "2026-03-27T09:14:02Z",
    "data": {
        "backorder_id": "BO-2026-001187",
        "order_ref": "SO-2026-004512",
        "status": "filled",
        "open_qty": 0,
        "filled_qty": 24,
        "uom": "CS",
        "lines": [
            {
                "line_no": 1,
                "item": {"sku": "FS-CUP-PAP-8OZ"},
                "location": {"code": "WH-RTM"},
                "open_qty": 0,
                "filled_qty": 24,
                "uom": "CS",
            }
        ],
    },
}


def route(client: httpx.Client, name: str, types: list[str], mapping: str) -> None:
    created = client.post(
        "/v1/routes",
        json={
            "name": name,
            "connection": "fine-foods-eu",
            "types": types,
            "mapping": mapping,
            "retry": {"initial_delay": 0.1, "multiplier": 1.0, "jitter": 0, "max_attempts": 5},
        },
    )
    assert created.status_code == 201, created.text


def delivered(client: httpx.Client, key: str) -> dict[str, Any] | None:
    [delivery] = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
    return delivery if delivery["status"] == "delivered" else None


def test_receipts_and_backorder_fills_routed_to_the_shop_move_its_stock(
    client: httpx.Client, store: FakeShopify
) -> None:
    route(client, "shop-receipts", ["receipt.received"], "shopify-inventory-from-receipt")
    route(client, "shop-backorders", ["backorder.filled"], "shopify-inventory-from-backorder-fill")
    receipt = post_event(client, RECEIPT)
    fill = post_event(client, BACKORDER_FILLED)
    wait_for(lambda: delivered(client, receipt))
    wait_for(lambda: delivered(client, fill))
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 10 + 396
    assert store.quantity(SALT_ITEM, ROTTERDAM) == 5 + 10
    assert store.quantity(CUPS_ITEM, ROTTERDAM) == 100 - 24
    references = sorted(a["referenceDocumentUri"] for a in store.adjustments)
    assert references == [
        "gid://crossdock/Backorder/BO-2026-001187",
        "gid://crossdock/Receipt/RCV-RTM-26-00917",
    ]


def test_a_lost_compare_and_set_is_retried_by_the_hub_and_ends_delivered(
    client: httpx.Client, store: FakeShopify
) -> None:
    route(client, "shop-receipts", ["receipt.received"], "shopify-inventory-from-receipt")
    store.change_before_next_set(ESPRESSO_ITEM, ROTTERDAM, 3)  # an order between read and set
    key = post_event(client, RECEIPT)
    delivery = wait_for(lambda: delivered(client, key))
    assert [(a["outcome"], a["classification"]) for a in delivery["history"]] == [
        ("conflict", "transient"),
        ("delivered", "success"),
    ]
    assert "COMPARE_QUANTITY_STALE" in delivery["history"][0]["error"]
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 3 + 396  # the order is not overwritten
    assert store.quantity(SALT_ITEM, ROTTERDAM) == 15
    assert len(store.adjustments) == 1
