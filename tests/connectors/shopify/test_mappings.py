"""The Shopify mappings: their vectors, valid messages, and the connector's records and
payloads going through them exactly (64-bit ids, decimals)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.shopify import InventoryUpdate, ShopifyConfig, ShopifyConnector
from connectors.shopify.testing import (
    ACCESS_TOKEN,
    ESPRESSO_ITEM,
    ROTTERDAM,
    SHOP_DOMAIN,
    WEBHOOK_SECRET,
    sample_order,
    webhook,
)
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import Mapping, MappingRegistry, TestVector
from hub.mappings.vectors import run_vector
from tests.conftest import REPO

MAPPINGS = MappingRegistry.load(REPO / "mappings")
CHECKER = MessageChecker(ContractRegistry.load(REPO / "contracts", REPO / "governance"))
SHOPIFY = [m for m in MAPPINGS if m.path.parent.name == "shopify"]
VECTORS = [(m, v) for m in SHOPIFY for v in m.tests]


def _id(value: object) -> str:
    return value.name if isinstance(value, Mapping | TestVector) else str(value)


def test_every_kind_and_route_has_its_mapping() -> None:
    names = {m.name for m in SHOPIFY}
    assert set(ShopifyConnector.manifest.mappings.values()) <= names
    assert {"shopify-inventory-from-receipt", "shopify-inventory-from-backorder-fill"} <= names
    for kind, name in ShopifyConnector.manifest.mappings.items():
        assert MAPPINGS.get(name).source == {"connector": "shopify", "kind": kind}


@pytest.mark.parametrize(("mapping", "vector"), VECTORS, ids=_id)
def test_every_vector_passes(mapping: Mapping, vector: TestVector) -> None:
    result = run_vector(mapping, vector)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("mapping", "vector"),
    [(m, v) for m, v in VECTORS if v.error is None],
    ids=_id,
)
def test_outputs_are_valid_messages_or_payloads_the_connector_takes(
    mapping: Mapping, vector: TestVector
) -> None:
    output = mapping.apply(vector.input)
    if "contract" in mapping.target:
        result = CHECKER.check({"source": "/connections/fine-foods-eu", **output})
        assert result.ok, result.violations
        assert result.contract is not None
        assert result.contract.family == mapping.target["contract"]
    else:
        assert mapping.target == {"connector": "shopify", "kind": "inventory_update"}
        # Without the fractional Parmigiano line (refused, never rounded), the connector
        # takes the payload as it is.
        output["changes"] = [c for c in output["changes"] if c["delta"] == int(c["delta"])]
        InventoryUpdate.model_validate(output)


def _records(topic: str, order: dict[str, Any]) -> list[Any]:
    config = ShopifyConfig(
        shop_domain=SHOP_DOMAIN,
        access_token=ACCESS_TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        fulfillment_location_id=ROTTERDAM,
    )
    return list(asyncio.run(ShopifyConnector(config).parse(webhook(topic, order))))


@pytest.mark.parametrize(
    ("topic", "order", "event_type"),
    [
        ("orders/create", sample_order(order_id=9223372036854775807), "reservation.requested"),
        (
            "orders/updated",
            sample_order(order_id=9223372036854775807, updated_at="2026-03-14T11:00:00+01:00"),
            "reservation.requested",
        ),
        (
            "orders/cancelled",
            sample_order(
                order_id=9223372036854775807,
                updated_at="2026-03-14T12:30:11+01:00",
                cancelled_at="2026-03-14T12:30:10+01:00",
                cancel_reason="inventory",
            ),
            "reservation.cancelled",
        ),
    ],
)
def test_a_real_webhook_parsed_and_mapped_is_a_valid_message_with_exact_ids(
    topic: str, order: dict[str, Any], event_type: str
) -> None:
    [record] = _records(topic, order)
    event = MAPPINGS.get(ShopifyConnector.manifest.mappings[topic]).apply(record.data)
    assert event["type"] == event_type
    assert event["subject"] == "SHOP-9223372036854775807"
    assert event["data"]["extensions"]["shopify_order_id"] == 9223372036854775807
    assert event["data"]["customer_ref"] == "SHOPIFY-7390123456789012345"
    assert [line["location"]["code"] for line in event["data"]["lines"]] == ["WH-RTM", "WH-RTM"]
    assert [line["requested_qty"] for line in event["data"]["lines"]] == [24, 12]
    result = CHECKER.check({"source": "/connections/fine-foods-eu", **event})
    assert result.ok, result.violations


def test_the_receipt_payload_keeps_the_item_id_past_2_to_the_53() -> None:
    payload = MAPPINGS.get("shopify-inventory-from-receipt").apply(
        {
            "time": "2026-03-26T18:37:00Z",
            "data": {
                "receipt_id": "RCV-1",
                "location": {"code": "WH-RTM"},
                "lines": [{"line_no": 1, "item": {"sku": "FS-COF-ESP-1KG"}, "received_qty": 3}],
            },
        }
    )
    [change] = InventoryUpdate.model_validate(payload).changes
    assert change.inventory_item_id == ESPRESSO_ITEM == 2**53 + 1
    assert change.location_id == ROTTERDAM
