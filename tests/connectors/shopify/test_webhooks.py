"""Order webhooks: verification, records per topic, out-of-order versions, exact ids."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
import pytest

from connectors.sdk import InboundRequest, MemoryState, NativeRecord, VerificationFailed
from connectors.shopify import ShopifyConfig, ShopifyConnector
from connectors.shopify.testing import (
    ACCESS_TOKEN,
    ROTTERDAM,
    SHOP_DOMAIN,
    VENLO,
    WEBHOOK_SECRET,
    sample_order,
    webhook,
)

T = TypeVar("T")
ORDER_ID = 5678901234567890123


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def shop(state: MemoryState | None = None, **config: Any) -> ShopifyConnector:
    values = {
        "shop_domain": SHOP_DOMAIN,
        "access_token": ACCESS_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
        "fulfillment_location_id": ROTTERDAM,
        **config,
    }
    return ShopifyConnector(ShopifyConfig.model_validate(values), state=state)


def receive(connector: ShopifyConnector, request: InboundRequest) -> list[NativeRecord]:
    """What the hub does with a push: verify, parse, and (once stored) committed()."""
    verified = connector.verify(request)
    assert verified.delivery_id == request.headers["x-shopify-webhook-id"]
    records = list(run(connector.parse(request)))
    run(connector.committed(records, ["accepted"] * len(records), request))
    return records


# -- verify ------------------------------------------------------------------------------


def test_a_signed_current_webhook_is_verified_with_its_webhook_id() -> None:
    request = webhook(
        "orders/create", sample_order(), webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )
    assert shop().verify(request).delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_a_tampered_body_is_refused() -> None:
    request = webhook("orders/create", sample_order())
    tampered = request.body.replace(b'"quantity":24', b'"quantity":240')
    assert tampered != request.body
    with pytest.raises(VerificationFailed, match="does not match"):
        shop().verify(replace(request, body=tampered))


def test_a_webhook_signed_with_another_secret_is_refused() -> None:
    request = webhook("orders/create", sample_order(), secret="shpss_someone-elses-app")
    with pytest.raises(VerificationFailed, match="does not match"):
        shop().verify(request)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("x-shopify-hmac-sha256", "missing X-Shopify-Hmac-Sha256"),
        ("x-shopify-webhook-id", "missing X-Shopify-Webhook-Id"),
        ("x-shopify-triggered-at", "missing X-Shopify-Triggered-At"),
        ("x-shopify-shop-domain", "names shop '(none)'"),
    ],
)
def test_a_missing_header_is_refused(header: str, message: str) -> None:
    request = webhook("orders/create", sample_order())
    headers = {k: v for k, v in request.headers.items() if k != header}
    with pytest.raises(VerificationFailed, match=re.escape(message)):
        shop().verify(replace(request, headers=headers))


def test_a_webhook_of_another_shop_of_the_same_app_is_refused() -> None:
    request = webhook("orders/create", sample_order(), shop="another-store.myshopify.com")
    with pytest.raises(VerificationFailed, match=re.escape("another-store.myshopify.com")):
        shop().verify(request)


def test_a_stale_delivery_is_refused_and_a_retry_within_the_window_is_not() -> None:
    now = datetime.now(UTC)
    retried = webhook("orders/create", sample_order(), triggered_at=now - timedelta(hours=4))
    assert shop().verify(retried).delivery_id  # Shopify's retries keep their first time
    stale = webhook("orders/create", sample_order(), triggered_at=now - timedelta(hours=7))
    with pytest.raises(VerificationFailed, match="stale"):
        shop().verify(stale)
    with pytest.raises(VerificationFailed, match="stale"):
        shop(max_delivery_age_seconds=600).verify(retried)


def test_a_delivery_from_the_future_is_refused_beyond_the_clock_skew() -> None:
    now = datetime.now(UTC)
    ahead = webhook("orders/create", sample_order(), triggered_at=now + timedelta(seconds=60))
    assert shop().verify(ahead).delivery_id
    future = webhook("orders/create", sample_order(), triggered_at=now + timedelta(minutes=10))
    with pytest.raises(VerificationFailed, match="in the future"):
        shop().verify(future)


def test_a_triggered_at_that_is_not_a_time_is_refused() -> None:
    request = webhook("orders/create", sample_order())
    headers = {**request.headers, "x-shopify-triggered-at": "yesterday"}
    with pytest.raises(VerificationFailed, match="not a time"):
        shop().verify(replace(request, headers=headers))


def test_refusals_never_show_the_secret() -> None:
    request = webhook("orders/create", sample_order(), secret="shpss_someone-elses-app")
    with pytest.raises(VerificationFailed) as refused:
        shop().verify(request)
    assert WEBHOOK_SECRET not in str(refused.value)
    assert WEBHOOK_SECRET not in repr(shop())


# -- parse -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "order"),
    [
        ("orders/create", sample_order()),
        ("orders/updated", sample_order(updated_at="2026-03-14T11:00:00+01:00")),
        (
            "orders/cancelled",
            sample_order(
                updated_at="2026-03-14T12:30:11+01:00",
                cancelled_at="2026-03-14T12:30:10+01:00",
                cancel_reason="customer",
            ),
        ),
    ],
)
def test_each_topic_is_one_record_of_its_kind_identified_by_order_and_version(
    topic: str, order: dict[str, Any]
) -> None:
    [record] = run(shop().parse(webhook(topic, order)))
    assert record.kind == topic
    stamp = datetime.fromisoformat(order["updated_at"]).astimezone(UTC)
    assert record.id == f"{ORDER_ID}@{stamp.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    assert record.data["id"] == ORDER_ID
    assert record.data["cancel_reason"] == order["cancel_reason"]


def test_64_bit_ids_stay_exact_integers() -> None:
    body = orjson.dumps(sample_order(order_id=9223372036854775807))
    assert b"9223372036854775807" in body
    [record] = run(shop().parse(webhook("orders/create", body)))
    assert record.data["id"] == 9223372036854775807
    assert record.data["customer"]["id"] == 7390123456789012345
    assert [line["id"] for line in record.data["line_items"]] == [
        13012345678901234,
        13012345678901238,
    ]
    assert all(isinstance(line["variant_id"], int) for line in record.data["line_items"])
    assert record.data["total_price"] == "513.00"  # prices stay the strings Shopify sent


def test_lines_are_placed_at_the_pos_location_else_the_fulfillment_location() -> None:
    [online] = run(shop().parse(webhook("orders/create", sample_order())))
    assert [line["origin_location"] for line in online.data["line_items"]] == [
        {"id": ROTTERDAM},
        {"id": ROTTERDAM},
    ]
    pos_order = {**sample_order(), "source_name": "pos", "location_id": VENLO}
    [counter] = run(shop().parse(webhook("orders/create", pos_order)))
    assert {line["origin_location"]["id"] for line in counter.data["line_items"]} == {VENLO}
    [unplaced] = run(
        shop(fulfillment_location_id=None).parse(webhook("orders/create", sample_order()))
    )
    assert all("origin_location" not in line for line in unplaced.data["line_items"])


def test_an_unreadable_payload_raises_for_the_hub_to_keep() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        run(shop().parse(webhook("orders/create", b"[1, 2]")))
    with pytest.raises(ValueError, match="updated_at"):
        run(shop().parse(webhook("orders/updated", {"id": ORDER_ID, "line_items": []})))
    no_topic = webhook("orders/create", sample_order())
    headers = {k: v for k, v in no_topic.headers.items() if k != "x-shopify-topic"}
    with pytest.raises(ValueError, match="X-Shopify-Topic"):
        run(shop().parse(replace(no_topic, headers=headers)))


def test_another_topic_is_passed_on_as_its_own_kind() -> None:
    product = {"id": 8012345678901, "updated_at": "2026-03-14T10:00:00+01:00", "title": "Beans"}
    [record] = run(shop().parse(webhook("products/update", product)))
    assert (record.kind, record.id) == (
        "products/update",
        "8012345678901@2026-03-14T10:00:00+01:00",
    )


# -- out of order ------------------------------------------------------------------------


def test_an_older_update_arriving_late_is_left_out() -> None:
    state = MemoryState()
    newer = sample_order(updated_at="2026-03-14T11:30:00+01:00", quantities=(20, 12))
    older = sample_order(updated_at="2026-03-14T11:00:00+01:00", quantities=(22, 12))
    assert len(receive(shop(state), webhook("orders/updated", newer))) == 1
    assert state.values[f"order:{ORDER_ID}"] == {"updated_at": "2026-03-14T10:30:00Z", "rank": 0}
    # A second request, another connector instance (another hub process): the same state.
    assert receive(shop(state), webhook("orders/updated", older)) == []
    assert receive(shop(state), webhook("orders/updated", newer, webhook_id="resent")) == []
    assert state.values[f"order:{ORDER_ID}"]["updated_at"] == "2026-03-14T10:30:00Z"
    newest = sample_order(updated_at="2026-03-14T12:00:00+01:00")
    assert len(receive(shop(state), webhook("orders/updated", newest))) == 1


def test_the_same_moment_in_another_offset_is_not_newer() -> None:
    state = MemoryState()
    receive(
        shop(state), webhook("orders/updated", sample_order(updated_at="2026-03-14T11:00:00+01:00"))
    )
    same = sample_order(updated_at="2026-03-14T10:00:00Z")
    assert receive(shop(state), webhook("orders/updated", same)) == []


def test_a_create_after_its_update_is_left_out() -> None:
    state = MemoryState()
    update = sample_order(updated_at="2026-03-14T10:20:00+01:00")
    assert len(receive(shop(state), webhook("orders/updated", update))) == 1
    assert receive(shop(state), webhook("orders/create", sample_order())) == []


def test_a_cancellation_wins_over_an_update_of_the_same_moment() -> None:
    moment = "2026-03-14T12:30:11+01:00"
    cancelled = sample_order(updated_at=moment, cancelled_at="2026-03-14T12:30:10+01:00")
    update = sample_order(updated_at=moment)
    state = MemoryState()
    assert len(receive(shop(state), webhook("orders/updated", update))) == 1
    assert len(receive(shop(state), webhook("orders/cancelled", cancelled))) == 1
    assert receive(shop(state), webhook("orders/updated", update)) == []


def test_updates_of_a_cancelled_order_are_left_out() -> None:
    state = MemoryState()
    later = sample_order(
        updated_at="2026-03-15T09:00:00+01:00", cancelled_at="2026-03-14T12:30:10+01:00"
    )
    assert receive(shop(state), webhook("orders/updated", later)) == []
    assert state.values == {}


def test_parse_only_reads_state_and_committed_remembers_the_newest_of_a_batch() -> None:
    state = MemoryState()
    connector = shop(state)
    first = webhook("orders/updated", sample_order(updated_at="2026-03-14T11:00:00+01:00"))
    [record] = run(connector.parse(first))
    assert state.values == {}  # nothing is remembered before the hub stored the record
    older = NativeRecord("orders/updated", sample_order(updated_at="2026-03-14T10:30:00+01:00"))
    run(connector.committed([record, older], ["accepted", "dead_lettered"], first))
    assert state.values[f"order:{ORDER_ID}"]["updated_at"] == "2026-03-14T10:00:00Z"
    # A version already superseded in state does not move it back.
    run(connector.committed([older], ["accepted"], first))
    assert state.values[f"order:{ORDER_ID}"]["updated_at"] == "2026-03-14T10:00:00Z"
