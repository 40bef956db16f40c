"""Inventory updates against the fake Admin API: read, compute, compare-and-set, and every
way an attempt can end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.sdk import MemoryState, OutboundMessage, OutcomeKind, SendOutcome
from connectors.sdk.testing import PeerResponse
from connectors.shopify import ShopifyConfig, ShopifyConnector
from connectors.shopify.testing import (
    ACCESS_TOKEN,
    ESPRESSO_ITEM,
    ROTTERDAM,
    SALT_ITEM,
    SHOP_DOMAIN,
    VENLO,
    WEBHOOK_SECRET,
    FakeShopify,
    inventory_message,
)

CUPS_ITEM = 45012345678904


@pytest.fixture
def store() -> Iterator[FakeShopify]:
    fake = FakeShopify()
    with fake.peer:
        fake.stock(ESPRESSO_ITEM, ROTTERDAM, 10, "FS-COF-ESP-1KG")
        fake.stock(SALT_ITEM, ROTTERDAM, 5, "FS-SALT-SEA-500G")
        fake.stock(CUPS_ITEM, ROTTERDAM, 100, "FS-CUP-PAP-8OZ")
        fake.stock(CUPS_ITEM, VENLO, 50, "FS-CUP-PAP-8OZ")
        yield fake


def config(store: FakeShopify, **extra: Any) -> ShopifyConfig:
    return ShopifyConfig.model_validate(
        {
            "shop_domain": SHOP_DOMAIN,
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "admin_api_url": store.url,
            **extra,
        }
    )


def send(
    store: FakeShopify, message: OutboundMessage, state: MemoryState | None = None, **extra: Any
) -> SendOutcome:
    async def go() -> SendOutcome:
        connector = ShopifyConnector(config(store, **extra), state=state)
        try:
            return await connector.send(message)
        finally:
            await connector.aclose()

    return asyncio.run(go())


def change(item: int = ESPRESSO_ITEM, location: int = ROTTERDAM, **amount: Any) -> dict[str, Any]:
    return {"inventory_item_id": item, "location_id": location, **(amount or {"delta": 24})}


def test_a_receipt_reads_computes_and_sets_with_the_quantity_it_read(store: FakeShopify) -> None:
    message = inventory_message([change(delta=24), change(SALT_ITEM, delta=6)])
    outcome = send(store, message)
    assert outcome.kind is OutcomeKind.DELIVERED, outcome
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 34
    assert store.quantity(SALT_ITEM, ROTTERDAM) == 11
    read, written = list(store.graphql_requests())
    assert read["variables"] == {
        "ids": [
            "gid://shopify/InventoryItem/9007199254740993",
            "gid://shopify/InventoryItem/45012345678905",
        ],
        "locationId": "gid://shopify/Location/65432109876",
    }
    assert written["variables"]["input"] == {
        "name": "available",
        "reason": "received",
        "referenceDocumentUri": "gid://crossdock/Receipt/RCV-RTM-26-00917",
        "quantities": [
            {
                "inventoryItemId": "gid://shopify/InventoryItem/9007199254740993",
                "locationId": "gid://shopify/Location/65432109876",
                "quantity": 34,
                "compareQuantity": 10,
            },
            {
                "inventoryItemId": "gid://shopify/InventoryItem/45012345678905",
                "locationId": "gid://shopify/Location/65432109876",
                "quantity": 11,
                "compareQuantity": 5,
            },
        ],
    }
    assert [r.headers["x-shopify-access-token"] for r in store.peer.requests] == [ACCESS_TOKEN] * 2
    assert {r.path for r in store.peer.requests} == {"/admin/api/2025-01/graphql.json"}


def test_levels_at_two_locations_are_read_per_location_and_set_together(
    store: FakeShopify,
) -> None:
    message = inventory_message(
        [change(CUPS_ITEM, ROTTERDAM, delta=-24), change(CUPS_ITEM, VENLO, delta=-12)],
        reason="reservation_created",
        document_id="BO-2026-001187",
    )
    assert send(store, message).delivered
    assert (store.quantity(CUPS_ITEM, ROTTERDAM), store.quantity(CUPS_ITEM, VENLO)) == (76, 38)
    requests = list(store.graphql_requests())
    assert [r["variables"].get("locationId") for r in requests[:2]] == [
        "gid://shopify/Location/65432109876",
        "gid://shopify/Location/65432109877",
    ]
    [adjustment] = store.adjustments
    assert len(adjustment["quantities"]) == 2


def test_a_lost_compare_and_set_is_a_conflict_and_the_next_attempt_starts_afresh(
    store: FakeShopify,
) -> None:
    state = MemoryState()
    message = inventory_message([change(delta=24)])
    store.change_before_next_set(ESPRESSO_ITEM, ROTTERDAM, 7)  # a sale between read and set
    lost = send(store, message, state)
    assert lost.kind is OutcomeKind.CONFLICT, lost
    assert "COMPARE_QUANTITY_STALE" in (lost.error or "")
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 7  # nothing of the stale write landed
    assert store.adjustments == []
    retried = send(store, message, state)
    assert retried.delivered, retried
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 31  # 7 + 24: the sale is kept


def test_a_message_is_applied_once_even_if_the_hub_sends_it_again(store: FakeShopify) -> None:
    state = MemoryState()
    message = inventory_message([change(delta=24)])
    assert send(store, message, state).delivered
    assert send(store, message, state).delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 34
    assert len(store.adjustments) == 1


def test_an_attempt_whose_answer_was_lost_is_recognised_by_its_quantities(
    store: FakeShopify,
) -> None:
    state = MemoryState()
    message = inventory_message([change(delta=24)])
    # The set lands at Shopify, but the answer never reaches the connector.
    store.peer.script(
        PeerResponse(
            200,
            {"data": {"nodes": [{"id": f"gid://shopify/InventoryItem/{ESPRESSO_ITEM}",
                                 "inventoryLevel": {"quantities": [{"name": "available",
                                                                    "quantity": 10}]}}]}},
        )
    )  # fmt: skip
    store.peer.script(PeerResponse(503, {"errors": "upstream timeout"}))
    store.stock(ESPRESSO_ITEM, ROTTERDAM, 34)  # what the lost call did
    first = send(store, message, state)
    assert (first.kind, first.status_code) == (OutcomeKind.HTTP_ERROR, 503)
    second = send(store, message, state)
    assert second.delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 34  # not 58
    assert store.adjustments == []
    assert not any(key.startswith("inflight:") for key in state.values)


def test_an_absolute_quantity_older_than_the_last_applied_change_is_a_no_op(
    store: FakeShopify,
) -> None:
    state = MemoryState()
    newer = inventory_message(
        [change(quantity=40)], source_time="2026-03-26T18:40:00Z", message_key="msg_count_2"
    )
    older = inventory_message(
        [change(quantity=25)], source_time="2026-03-26T18:30:00Z", message_key="msg_count_1"
    )
    assert send(store, newer, state).delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 40
    outcome = send(store, older, state)
    assert outcome.delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 40
    assert len(store.adjustments) == 1
    assert state.values[f"level:{ESPRESSO_ITEM}:{ROTTERDAM}"] == "2026-03-26T18:40:00Z"


def test_an_older_delta_still_counts(store: FakeShopify) -> None:
    """Two receipts delivered out of order both add their stock: a delta is never stale."""
    state = MemoryState()
    later = inventory_message(
        [change(delta=30)], source_time="2026-03-26T18:40:00Z", message_key="msg_r2"
    )
    earlier = inventory_message(
        [change(delta=20)], source_time="2026-03-26T18:30:00Z", message_key="msg_r1"
    )
    assert send(store, later, state).delivered
    assert send(store, earlier, state).delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 60


def test_deltas_of_one_level_add_up_and_unsold_skus_are_skipped(store: FakeShopify) -> None:
    message = inventory_message(
        [
            change(delta=24),
            change(delta=6),
            # Not sold in the shop: skipped, whatever its unit and amount.
            {"sku": "PKG-TAPE-48-CS", "location_id": ROTTERDAM, "delta": 2.5, "uom": "CS"},
            change(SALT_ITEM, delta=0),
        ]
    )
    assert send(store, message).delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 40
    [adjustment] = store.adjustments
    assert [q["quantity"] for q in adjustment["quantities"]] == [40]


def test_nothing_to_change_sends_nothing(store: FakeShopify) -> None:
    message = inventory_message([{"sku": "PKG-TAPE-48-CS", "location_id": ROTTERDAM, "delta": 2}])
    assert send(store, message).delivered
    assert store.peer.requests == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([change(delta=12.5)], "whole units"),
        ([change(delta=2, uom="KG", shopify_uom="EA")], "counted in EA at Shopify, not KG"),
        ([change(quantity=5), change(quantity=6)], "set twice"),
        ([change(quantity=5), change(delta=6)], "both set and moved"),
        ([change(delta=1, quantity=1)], "exactly one of delta and quantity"),
        ([{**change(), "inventory_item_id": 4.5012345678905e13}], "inventory_item_id"),
    ],
)
def test_a_payload_the_shop_cannot_take_exactly_is_a_mapping_error(
    store: FakeShopify, changes: list[dict[str, Any]], expected: str
) -> None:
    outcome = send(store, inventory_message(changes))
    assert outcome.kind is OutcomeKind.MAPPING_ERROR, outcome
    assert expected in (outcome.error or "")
    assert store.peer.requests == []


def test_a_route_without_a_mapping_is_a_mapping_error(store: FakeShopify) -> None:
    bare = inventory_message([change()])
    outcome = send(store, OutboundMessage(1, "msg_1", 1, "r", bare.event))
    assert outcome.kind is OutcomeKind.MAPPING_ERROR
    assert "shopify-inventory-from-receipt" in (outcome.error or "")


def test_an_unknown_item_or_an_unstocked_location_is_rejected(store: FakeShopify) -> None:
    unknown = send(store, inventory_message([change(45099999999999, delta=1)]))
    assert unknown.kind is OutcomeKind.REJECTED
    assert "45099999999999 is not in this shop" in (unknown.error or "")
    unstocked = send(store, inventory_message([change(SALT_ITEM, VENLO, delta=1)]))
    assert unstocked.kind is OutcomeKind.REJECTED
    assert "not stocked at location 65432109877" in (unstocked.error or "")


def test_user_errors_other_than_a_stale_compare_are_rejections(store: FakeShopify) -> None:
    outcome = send(store, inventory_message([change(SALT_ITEM, delta=-6)]))  # 5 - 6 < 0
    assert outcome.kind is OutcomeKind.REJECTED
    assert "INVALID_QUANTITY_NEGATIVE" in (outcome.error or "")
    assert store.quantity(SALT_ITEM, ROTTERDAM) == 5


def test_graphql_throttling_is_a_429_with_the_time_the_bucket_needs(store: FakeShopify) -> None:
    store.throttle()
    outcome = send(store, inventory_message([change()]))
    assert (outcome.kind, outcome.status_code) == (OutcomeKind.HTTP_ERROR, 429)
    assert outcome.retry_after == 6.0  # (752 requested - 152 available) / 100 per second
    assert "THROTTLED" in (outcome.error or "")
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 10
    store.throttle()  # now the mutation, after a successful read
    state = MemoryState()
    assert send(store, inventory_message([change()]), state).status_code == 429
    assert send(store, inventory_message([change()]), state).delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 34


def test_http_errors_come_back_for_the_hub_to_classify(store: FakeShopify) -> None:
    store.peer.script(
        PeerResponse(429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "2.0"})
    )
    limited = send(store, inventory_message([change()]))
    assert (limited.kind, limited.status_code) == (OutcomeKind.HTTP_ERROR, 429)
    refused = send(store, inventory_message([change()]), access_token="shpat_revoked")
    assert (refused.kind, refused.status_code) == (OutcomeKind.HTTP_ERROR, 401)
    assert ACCESS_TOKEN not in repr(refused)


def test_an_internal_graphql_error_is_transient_and_access_denied_permanent(
    store: FakeShopify,
) -> None:
    def graphql_error(code: str) -> PeerResponse:
        return PeerResponse(200, {"errors": [{"message": code, "extensions": {"code": code}}]})

    store.peer.script(graphql_error("INTERNAL_SERVER_ERROR"))
    failed = send(store, inventory_message([change()]))
    assert (failed.kind, failed.status_code) == (OutcomeKind.HTTP_ERROR, 200)
    store.peer.script(graphql_error("ACCESS_DENIED"))
    denied = send(store, inventory_message([change()]))
    assert denied.kind is OutcomeKind.REJECTED
    assert "ACCESS_DENIED" in (denied.error or "")


def test_from_2026_04_the_set_uses_change_from_with_an_idempotency_key(
    store: FakeShopify,
) -> None:
    state = MemoryState()
    store.change_before_next_set(ESPRESSO_ITEM, ROTTERDAM, 7)
    lost = send(store, inventory_message([change()]), state, api_version="2026-04")
    assert lost.kind is OutcomeKind.CONFLICT
    assert "CHANGE_FROM_QUANTITY_STALE" in (lost.error or "")
    assert send(store, inventory_message([change()]), state, api_version="2026-04").delivered
    assert store.quantity(ESPRESSO_ITEM, ROTTERDAM) == 31
    sets = [r for r in store.graphql_requests() if "inventorySetQuantities" in r["query"]]
    assert "@idempotent(key: $idempotencyKey)" in sets[0]["query"]
    assert [
        q["changeFromQuantity"] for s in sets for q in s["variables"]["input"]["quantities"]
    ] == [
        10,
        7,
    ]
    keys = [s["variables"]["idempotencyKey"] for s in sets]
    assert keys[0] != keys[1]  # a fresh read is a new operation
    assert {r.path for r in store.peer.requests} == {"/admin/api/2026-04/graphql.json"}


def check(store: FakeShopify, **extra: Any) -> Any:
    async def go() -> Any:
        connector = ShopifyConnector(config(store, **extra))
        try:
            return await connector.check()
        finally:
            await connector.aclose()

    return asyncio.run(go())


def test_check_asks_the_shop_its_name(store: FakeShopify) -> None:
    result = check(store)
    assert result.ok, result.detail
    assert result.detail == "connected to Fine Foods EU (Admin API 2025-01)"
    assert result.info == {"shop": "Fine Foods EU", "domain": SHOP_DOMAIN}
    refused = check(store, access_token="shpat_wrong")
    assert not refused.ok
    assert "HTTP 401" in refused.detail
    other = check(store, shop_domain="another-store.myshopify.com")
    assert not other.ok
    assert "belongs to fine-foods-eu.myshopify.com" in other.detail
