"""A fake Shopify on loopback, webhooks exactly as Shopify sends them, and the harness.

:class:`FakeShopify` serves ``POST /admin/api/<version>/graphql.json`` for one shop: the
three GraphQL documents the connector sends (``shop``, the inventory-level ``nodes`` query
and ``inventorySetQuantities``), with Shopify's auth, answers, ``userErrors``, query cost
and throttling. Quantities live in memory and tests change them underneath the connector
to stage a lost compare-and-set. :func:`webhook` builds a signed delivery with Shopify's
headers, for ``verify``/``parse`` and for pushing into a real hub.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from connectors.sdk import InboundRequest, OutboundMessage
from connectors.sdk.testing import (
    ConformanceHarness,
    FakeHTTPPeer,
    PeerRequest,
    PeerResponse,
    closed_port_url,
)
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.inventory import id_of, item_gid, location_gid
from connectors.shopify.webhooks import signature

SHOP_DOMAIN = "fine-foods-eu.myshopify.com"
SHOP_NAME = "Fine Foods EU"
ACCESS_TOKEN = "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"
WEBHOOK_SECRET = "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"
API_VERSION = "2025-01"

# The shop of mappings/shopify/tables: its warehouses and one item id past 2**53.
ROTTERDAM = 65432109876
VENLO = 65432109877
ESPRESSO_ITEM = 9007199254740993  # 2**53 + 1: a float would make it ...992
SALT_ITEM = 45012345678905

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
SET_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)


def shopify_time(moment: datetime) -> str:
    """A time as Shopify writes it in payloads: seconds, with the shop's offset."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def sample_order(
    order_id: int = 5678901234567890123,
    *,
    updated_at: str = "2026-03-14T10:15:04+01:00",
    cancelled_at: str | None = None,
    cancel_reason: str | None = None,
    quantities: tuple[int, int] = (24, 12),
) -> dict[str, Any]:
    """An order as a 2025-01 order webhook carries it: 64-bit ids, prices as strings, line
    items with sku, quantity and variant_id, and no location per line."""
    espresso, salt = quantities
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": 580111,
        "cancel_reason": cancel_reason,
        "cancelled_at": cancelled_at,
        "confirmation_number": "QK3HT8WZM",
        "confirmed": True,
        "contact_email": "inkoop@bistro-dehaven.example",
        "created_at": "2026-03-14T10:15:02+01:00",
        "currency": "EUR",
        "current_total_price": "513.00",
        "financial_status": "voided" if cancelled_at else "paid",
        "fulfillment_status": None,
        "location_id": None,
        "name": "#EU-100734",
        "note_attributes": [{"name": "Delivery date", "value": "17/03/2026"}],
        "order_number": 100734,
        "processed_at": "2026-03-14T10:15:01+01:00",
        "source_name": "web",
        "subtotal_price": "513.00",
        "tags": "horeca",
        "test": False,
        "total_price": "513.00",
        "total_weight": 30000,
        "updated_at": updated_at,
        "customer": {
            "id": 7390123456789012345,
            "admin_graphql_api_id": "gid://shopify/Customer/7390123456789012345",
        },
        "shipping_lines": [
            {"id": 4401234567890, "code": "Standard", "price": "0.00", "title": "Standard"}
        ],
        "line_items": [
            {
                "id": 13012345678901234,
                "admin_graphql_api_id": "gid://shopify/LineItem/13012345678901234",
                "current_quantity": 0 if cancelled_at else espresso,
                "fulfillable_quantity": 0 if cancelled_at else espresso,
                "grams": 1000,
                "name": "Espresso beans - 1 kg",
                "price": "18.90",
                "product_id": 8012345678901,
                "quantity": espresso,
                "requires_shipping": True,
                "sku": "fs-cof-esp-1kg",
                "title": "Espresso beans",
                "variant_id": 46012345678901,
                "variant_title": "1 kg",
                "vendor": "Fine Foods",
            },
            {
                "id": 13012345678901238,
                "admin_graphql_api_id": "gid://shopify/LineItem/13012345678901238",
                "current_quantity": 0 if cancelled_at else salt,
                "fulfillable_quantity": 0 if cancelled_at else salt,
                "grams": 500,
                "name": "Sea salt flakes - 500 g",
                "price": "4.95",
                "product_id": 8012345678905,
                "quantity": salt,
                "requires_shipping": True,
                "sku": "FS-SALT-SEA-500G",
                "title": "Sea salt flakes",
                "variant_id": 46012345678905,
                "variant_title": "500 g",
                "vendor": "Fine Foods",
            },
        ],
    }


def webhook(
    topic: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    shop: str = SHOP_DOMAIN,
    triggered_at: datetime | None = None,
    webhook_id: str | None = None,
) -> InboundRequest:
    """The request Shopify sends for ``topic``: compact JSON, HMAC and delivery headers."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    moment = triggered_at or datetime.now(UTC)
    # Shopify writes nanoseconds: 2026-03-14T09:15:04.877041743Z
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "743Z"
    return InboundRequest(
        body=body,
        headers={
            "content-type": "application/json",
            "x-shopify-topic": topic,
            "x-shopify-hmac-sha256": signature(secret, body),
            "x-shopify-shop-domain": shop,
            "x-shopify-api-version": API_VERSION,
            "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
            "x-shopify-event-id": str(uuid.uuid4()),
            "x-shopify-triggered-at": stamp,
        },
        received_at=datetime.now(UTC),
    )


def _cost(requested: int, available: float) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested if available >= requested else None,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": available,
                "restoreRate": 100.0,
            },
        }
    }


class FakeShopify:
    """One shop's Admin GraphQL API on 127.0.0.1, with inventory held in memory."""

    def __init__(self, token: str = ACCESS_TOKEN, shop_domain: str = SHOP_DOMAIN) -> None:
        self.token = token
        self.shop_domain = shop_domain
        self.items: dict[int, str] = {}  # inventory item id → SKU
        self.locations: set[int] = {ROTTERDAM, VENLO}
        self.available: dict[tuple[int, int], int] = {}  # only stocked levels
        self.adjustments: list[dict[str, Any]] = []  # each applied inventorySetQuantities input
        self.idempotency: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self._underneath: list[tuple[int, int, int]] = []
        self._throttled = 0
        self._lock = threading.Lock()
        self.peer = FakeHTTPPeer(self._handle)

    # -- what tests set up and look at ----------------------------------------------------

    @property
    def url(self) -> str:
        """The Admin API base URL (``admin_api_url`` of a connection to this shop)."""
        return self.peer.url

    def stock(self, item_id: int, location_id: int, available: int, sku: str = "") -> None:
        """Stock an item at a location with this available quantity."""
        with self._lock:
            self.items.setdefault(item_id, sku)
            self.locations.add(location_id)
            self.available[item_id, location_id] = available

    def quantity(self, item_id: int, location_id: int) -> int:
        """The available quantity of a stocked level now."""
        with self._lock:
            return self.available[item_id, location_id]

    def change_before_next_set(self, item_id: int, location_id: int, available: int) -> None:
        """Another app moves this level between the connector's read and its set: the next
        inventorySetQuantities finds a different quantity than the one it compares with."""
        with self._lock:
            self._underneath.append((item_id, location_id, available))

    def throttle(self, calls: int = 1) -> None:
        """Answer the next ``calls`` GraphQL requests with THROTTLED, as an empty bucket does."""
        with self._lock:
            self._throttled += calls

    def graphql_requests(self) -> Iterator[dict[str, Any]]:
        """The GraphQL documents received so far (``query`` and ``variables``), in order."""
        for request in self.peer.requests:
            if request.path.endswith("/graphql.json"):
                yield request.json()

    # -- the API --------------------------------------------------------------------------

    def _handle(self, request: PeerRequest) -> PeerResponse:
        parts = request.path.strip("/").split("/")
        if (
            request.method != "POST"
            or len(parts) != 4
            or parts[:2] != ["admin", "api"]
            or parts[3] != "graphql.json"
        ):
            return PeerResponse(404, {"errors": "Not Found"})
        version = parts[2]
        headers = {"x-shopify-api-version": version, "x-request-id": str(uuid.uuid4())}
        if request.headers.get("x-shopify-access-token") != self.token:
            return PeerResponse(401, {"errors": INVALID_TOKEN}, headers)
        try:
            document = request.json()
            query, variables = document["query"], document.get("variables") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return PeerResponse(400, {"errors": {"query": "Required parameter missing"}}, headers)
        with self._lock:
            if self._throttled:
                self._throttled -= 1
                return PeerResponse(
                    200,
                    {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": _cost(752, 152.0),
                    },
                    headers,
                )
            if "inventorySetQuantities(" in query:
                body = self._set_quantities(version, query, variables)
            elif "nodes(ids:" in query:
                body = self._levels(variables)
            elif "shop {" in query:
                body = {
                    "data": {"shop": {"name": SHOP_NAME, "myshopifyDomain": self.shop_domain}},
                    "extensions": _cost(1, 1999.0),
                }
            else:
                body = {
                    "errors": [
                        {
                            "message": "This fake shop serves only what the connector asks",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                }
        return PeerResponse(200, body, headers)

    def _levels(self, variables: dict[str, Any]) -> dict[str, Any]:
        location = id_of(variables["locationId"])
        nodes: list[dict[str, Any] | None] = []
        for gid in variables["ids"]:
            item = id_of(gid)
            if item not in self.items:
                nodes.append(None)
                continue
            level = self.available.get((item, location))
            nodes.append(
                {
                    "id": item_gid(item),
                    "sku": self.items[item],
                    "inventoryLevel": None
                    if level is None
                    else {"quantities": [{"name": "available", "quantity": level}]},
                }
            )
        return {"data": {"nodes": nodes}, "extensions": _cost(2 + 2 * len(nodes), 1990.0)}

    def _set_quantities(
        self, version: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        change_from = version == "unstable" or version >= "2026-04"
        key = variables.get("idempotencyKey")
        fingerprint = orjson.dumps(variables.get("input"), option=orjson.OPT_SORT_KEYS)
        if change_from:
            if "@idempotent" not in query or not isinstance(key, str) or not key:
                return {
                    "errors": [
                        {
                            "message": "The @idempotent directive is required for this mutation.",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                }
            if key in self.idempotency:
                seen, answer = self.idempotency[key]
                if seen == fingerprint:
                    return deepcopy(answer)  # the same operation again: its first answer
                return self._user_errors(
                    [
                        (
                            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                            None,
                            "The same idempotency key cannot be used with different "
                            "operation parameters.",
                        )
                    ]
                )
        for item, location, value in self._underneath:
            self.available[item, location] = value
        self._underneath.clear()
        answer = self._apply(variables.get("input") or {}, change_from)
        if change_from and isinstance(key, str):
            self.idempotency[key] = (fingerprint, deepcopy(answer))
        return answer

    @staticmethod
    def _user_errors(errors: list[tuple[str, list[str] | None, str]]) -> dict[str, Any]:
        return {
            "data": {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": [
                        {"code": code, "field": field, "message": message}
                        for code, field, message in errors
                    ],
                }
            },
            "extensions": _cost(10, 1980.0),
        }

    def _apply(self, given: dict[str, Any], change_from: bool) -> dict[str, Any]:
        """Check every quantity, then set all of them or none (Shopify's semantics)."""
        compare_field = "changeFromQuantity" if change_from else "compareQuantity"
        errors: list[tuple[str, list[str] | None, str]] = []
        if given.get("name") != "available":
            errors.append(("INVALID_NAME", ["input", "name"], "The quantity name is invalid."))
        if given.get("reason") not in SET_REASONS:
            errors.append(("INVALID_REASON", ["input", "reason"], "The reason is invalid."))
        reference = given.get("referenceDocumentUri")
        if reference is not None and (not isinstance(reference, str) or ":" not in reference):
            errors.append(
                (
                    "INVALID_REFERENCE_DOCUMENT",
                    ["input", "referenceDocumentUri"],
                    "The reference document URI is invalid.",
                )
            )
        planned: list[tuple[int, int, int, int]] = []
        seen: set[tuple[int, int]] = set()
        for n, entry in enumerate(given.get("quantities") or []):
            field = ["input", "quantities", str(n)]
            item, location = id_of(entry["inventoryItemId"]), id_of(entry["locationId"])
            value = entry.get("quantity")
            if item not in self.items:
                errors.append(("INVALID_INVENTORY_ITEM", field, "The inventory item is invalid."))
                continue
            if location not in self.locations:
                errors.append(("INVALID_LOCATION", field, "The location is invalid."))
                continue
            if (item, location) not in self.available:
                errors.append(
                    (
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                        field,
                        "The specified inventory item is not stocked at the location.",
                    )
                )
                continue
            if (item, location) in seen:
                errors.append(
                    (
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        field,
                        "The combination of inventoryItemId and locationId must be unique.",
                    )
                )
                continue
            seen.add((item, location))
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(("INVALID_QUANTITY", [*field, "quantity"], "Not an integer."))
                continue
            if value < 0:
                errors.append(
                    (
                        "INVALID_QUANTITY_NEGATIVE",
                        [*field, "quantity"],
                        "The quantity can't be negative.",
                    )
                )
                continue
            if value > 1_000_000_000:
                errors.append(
                    (
                        "INVALID_QUANTITY_TOO_HIGH",
                        [*field, "quantity"],
                        "The total quantity can't be higher than 1,000,000,000.",
                    )
                )
                continue
            current = self.available[item, location]
            if compare_field not in entry and not given.get("ignoreCompareQuantity"):
                errors.append(
                    (
                        "COMPARE_QUANTITY_REQUIRED",
                        [*field, compare_field],
                        f"The {compare_field} argument must be given to each quantity.",
                    )
                )
                continue
            expected = entry.get(compare_field)
            if expected is not None and expected != current:
                code = "CHANGE_FROM_QUANTITY_STALE" if change_from else "COMPARE_QUANTITY_STALE"
                errors.append(
                    (
                        code,
                        [*field, compare_field],
                        f"The specified {compare_field} does not match the persisted value.",
                    )
                )
                continue
            planned.append((item, location, current, value))
        if errors:
            return self._user_errors(errors)
        changes = []
        for item, location, before, after in planned:
            self.available[item, location] = after
            for name in ("available", "on_hand"):
                changes.append(
                    {
                        "name": name,
                        "delta": after - before,
                        "quantityAfterChange": after if name == "available" else None,
                        "item": {"id": item_gid(item)},
                        "location": {"id": location_gid(location)},
                    }
                )
        self.adjustments.append(deepcopy(given))
        return {
            "data": {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": {
                        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "reason": given.get("reason"),
                        "referenceDocumentUri": reference,
                        "changes": changes,
                    },
                    "userErrors": [],
                }
            },
            "extensions": _cost(10, 1980.0),
        }


def inventory_message(
    changes: list[dict[str, Any]],
    *,
    source_time: str = "2026-03-26T18:37:00Z",
    message_key: str = "msg_01JSHOPIFYRECEIPT000001",
    document_id: str = "RCV-RTM-26-00917",
    reason: str = "received",
    delivery_id: int = 42,
    attempt: int = 1,
) -> OutboundMessage:
    """A delivery to the shop: a receipt.received event with the inventory update its route's
    mapping (``shopify-inventory-from-receipt``) makes of it."""
    event = {
        "specversion": "1.0",
        "id": f"evt-{document_id}",
        "source": "/connections/rotterdam-wms",
        "type": "receipt.received",
        "dataschema": "urn:crossdock:contract:receipt:1.0",
        "subject": document_id,
        "time": source_time,
        "data": {"receipt_id": document_id, "location": {"code": "WH-RTM"}, "lines": []},
    }
    return OutboundMessage(
        delivery_id=delivery_id,
        message_key=message_key,
        attempt=attempt,
        route="shop-inventory",
        event=event,
        payload={
            "document_type": "Receipt",
            "document_id": document_id,
            "reason": reason,
            "source_time": source_time,
            "changes": changes,
        },
    )


class ShopifyHarness(ConformanceHarness):
    """The fake shop with two stocked items, and order webhooks signed as Shopify signs them."""

    connector = ShopifyConnector
    expected_kinds = ("orders/create",)

    def __init__(self) -> None:
        self.shop = FakeShopify()

    def start(self) -> None:
        self.shop.peer.start()
        self.shop.stock(ESPRESSO_ITEM, ROTTERDAM, 10, "FS-COF-ESP-1KG")
        self.shop.stock(SALT_ITEM, ROTTERDAM, 0, "FS-SALT-SEA-500G")

    def stop(self) -> None:
        self.shop.peer.stop()

    def config(self) -> dict[str, Any]:
        return {
            "shop_domain": SHOP_DOMAIN,
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_version": API_VERSION,
            "admin_api_url": self.shop.url,
            "fulfillment_location_id": ROTTERDAM,
        }

    def unreachable_config(self) -> dict[str, Any]:
        return {**self.config(), "admin_api_url": closed_port_url()}

    def sample_message(self) -> OutboundMessage:
        return inventory_message(
            [
                {"sku": "FS-COF-ESP-1KG", "inventory_item_id": ESPRESSO_ITEM,
                 "location_id": ROTTERDAM, "delta": 24, "uom": "EA", "shopify_uom": "EA"},
                {"sku": "FS-SALT-SEA-500G", "inventory_item_id": SALT_ITEM,
                 "location_id": ROTTERDAM, "delta": 6, "uom": "EA", "shopify_uom": "EA"},
            ]
        )  # fmt: skip

    def assert_delivered(self, message: OutboundMessage) -> None:
        assert self.shop.quantity(ESPRESSO_ITEM, ROTTERDAM) == 34
        assert self.shop.quantity(SALT_ITEM, ROTTERDAM) == 6
        [adjustment] = self.shop.adjustments
        assert adjustment["reason"] == "received"
        assert adjustment["referenceDocumentUri"] == "gid://crossdock/Receipt/RCV-RTM-26-00917"

    def fail_next_send(self, status: int, headers: dict[str, str]) -> None:
        self.shop.peer.script(PeerResponse(status, {"errors": "scripted failure"}, headers))

    def inbound_request(self) -> InboundRequest:
        return webhook("orders/create", sample_order())

    def stale_request(self) -> InboundRequest:
        return webhook(
            "orders/create", sample_order(), triggered_at=datetime.now(UTC) - timedelta(days=2)
        )
