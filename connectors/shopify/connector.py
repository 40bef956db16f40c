"""Shopify: order webhooks in as reservations, inventory updates out through the Admin API.

Inbound, Shopify pushes ``orders/create``, ``orders/updated`` and ``orders/cancelled`` to
``POST /v1/connections/{id}/inbound``. :meth:`ShopifyConnector.verify` checks the HMAC of
the raw body, the shop and the delivery's age; the hub dedupes on
``X-Shopify-Webhook-Id``. :meth:`ShopifyConnector.parse` turns the order into one record of
the topic's kind, unless the hub has already had this version of the order or a newer one
(Shopify does not deliver in order): such a record is left out, and the request is still
answered 202. The mappings ``shopify-orders-create``, ``shopify-orders-updated`` and
``shopify-orders-cancelled`` make reservation messages of them.

Outbound, a route whose mapping makes an inventory update (``shopify-inventory-from-receipt``,
``shopify-inventory-from-backorder-fill``) changes available quantities: read them, compute,
and set them with ``inventorySetQuantities`` on the condition that nothing changed since the
read (compare-and-set). A lost race is a ``conflict`` the hub retries from scratch. See
docs/connectors/shopify.md.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
from pydantic import ValidationError

from connectors.sdk import (
    CheckResult,
    Connector,
    InboundRequest,
    Manifest,
    NativeRecord,
    OutboundMessage,
    RecordFate,
    SendOutcome,
    VerificationFailed,
    Verified,
)
from connectors.shopify.admin_api import (
    LEVELS_QUERY,
    SET_MUTATION,
    SET_MUTATION_IDEMPOTENT,
    SHOP_QUERY,
    STALE_CODES,
    AdminApiFailure,
    call,
)
from connectors.shopify.config import ShopifyConfig
from connectors.shopify.inventory import (
    MAX_QUANTITY,
    InventoryUpdate,
    LevelChange,
    id_of,
    item_gid,
    level_state_key,
    location_gid,
    merge,
)
from connectors.shopify.webhooks import (
    HMAC,
    ORDER_TOPICS,
    ORDERS_CANCELLED,
    SHOP_DOMAIN,
    TOPIC,
    TRIGGERED_AT,
    WEBHOOK_ID,
    OrderVersion,
    order_state_key,
    parse_instant,
    signature_matches,
    utc_text,
)

INVENTORY_UPDATE = "inventory_update"
"""The native kind of the outbound payload (the target of the inventory mappings)."""


class Refused(Exception):
    """The shop cannot take this update as it is (an unknown item, an unstocked location)."""


class ShopifyConnector(Connector[ShopifyConfig]):
    """One Shopify store: its order webhooks in, inventory updates out."""

    manifest = Manifest(
        slug="shopify",
        name="Shopify",
        version="1.0.0",
        kinds=("ecommerce",),
        sends=("receipt.received", "backorder.filled"),
        receives=("reservation.requested", "reservation.cancelled"),
        mappings={
            "orders/create": "shopify-orders-create",
            "orders/updated": "shopify-orders-updated",
            "orders/cancelled": "shopify-orders-cancelled",
        },
        description="Shopify order webhooks (orders/create, orders/updated, orders/cancelled) "
        "in as reservations; available quantities out through the Admin GraphQL API, with "
        "compare-and-set.",
    )
    config_model = ShopifyConfig
    harness = "connectors.shopify.testing:ShopifyHarness"

    # -- health ---------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """Ask the shop its name: proves the URL, the API version and the token."""
        started = time.perf_counter()
        try:
            data = await call(self.http, self.config, SHOP_QUERY, {})
        except AdminApiFailure as failure:
            outcome = failure.outcome
            if outcome.status_code in (401, 403):
                detail = (
                    f"Shopify answered HTTP {outcome.status_code}: the access token was refused"
                )
            elif outcome.status_code is not None:
                detail = f"Shopify answered HTTP {outcome.status_code}: {outcome.error}"
            else:
                detail = f"cannot reach Shopify: {outcome.error}"
            return CheckResult(ok=False, detail=detail)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        shop = data.get("shop") or {}
        domain = shop.get("myshopifyDomain")
        if domain and domain != self.config.shop_domain:
            return CheckResult(
                ok=False,
                detail=f"the token belongs to {domain}, not {self.config.shop_domain}",
                latency_ms=elapsed,
            )
        return CheckResult(
            ok=True,
            detail=f"connected to {shop.get('name')!s} (Admin API {self.config.api_version})",
            latency_ms=elapsed,
            info={"shop": shop.get("name"), "domain": domain},
        )

    # -- inbound --------------------------------------------------------------------------

    def verify(self, request: InboundRequest) -> Verified:
        """The HMAC of the raw body, the shop it comes from, and its age."""
        offered = request.header(HMAC)
        if not offered:
            raise VerificationFailed("missing X-Shopify-Hmac-Sha256")
        if not signature_matches(
            self.config.webhook_secret.get_secret_value(), request.body, offered
        ):
            raise VerificationFailed("X-Shopify-Hmac-Sha256 does not match the body")
        shop = (request.header(SHOP_DOMAIN) or "").strip().lower()
        if shop != self.config.shop_domain:
            # The client secret is the app's, shared by every shop that installed it.
            raise VerificationFailed(
                f"the webhook names shop {shop[:100] or '(none)'!r}, not {self.config.shop_domain}"
            )
        webhook_id = (request.header(WEBHOOK_ID) or "").strip()
        if not webhook_id:
            raise VerificationFailed("missing X-Shopify-Webhook-Id")
        triggered = request.header(TRIGGERED_AT)
        if not triggered:
            raise VerificationFailed("missing X-Shopify-Triggered-At")
        try:
            triggered_at = parse_instant(triggered)
        except ValueError:
            raise VerificationFailed("X-Shopify-Triggered-At is not a time") from None
        age = (request.received_at - triggered_at).total_seconds()
        if age > self.config.max_delivery_age_seconds:
            raise VerificationFailed(
                f"the delivery is stale: triggered {int(age)} s ago, more than "
                f"{self.config.max_delivery_age_seconds} s"
            )
        if -age > self.config.max_clock_skew_seconds:
            raise VerificationFailed(
                f"X-Shopify-Triggered-At is {int(-age)} s in the future, more than "
                f"{self.config.max_clock_skew_seconds} s"
            )
        return Verified(delivery_id=webhook_id)

    async def parse(self, request: InboundRequest) -> Sequence[NativeRecord]:
        """One record of the topic's kind, or none when the hub already has a newer version.

        An ``orders/create`` or ``orders/updated`` of an order that is already cancelled is
        left out too: the ``orders/cancelled`` webhook carries the cancellation, and an edit
        of a cancelled order must not ask for its stock again.
        """
        topic = (request.header(TOPIC) or "").strip()
        if not topic:
            raise ValueError("the request has no X-Shopify-Topic")
        payload: Any = orjson.loads(request.body)  # orjson: 64-bit ids stay exact integers
        if not isinstance(payload, dict):
            raise ValueError(f"a {topic} payload must be a JSON object")
        if topic not in ORDER_TOPICS:
            # No shipped mapping: the hub keeps it as a dead letter until a connection maps it.
            return [NativeRecord(topic, payload, _record_id(payload))]
        order_id = payload.get("id")
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            raise ValueError(f"a {topic} payload needs an integer id")
        version = OrderVersion.of(topic, payload)
        if topic != ORDERS_CANCELLED and payload.get("cancelled_at"):
            return []
        seen = OrderVersion.from_state(await self.state.get(order_state_key(order_id)))
        if seen is not None and version <= seen:
            return []
        self._place_lines(payload)
        return [NativeRecord(topic, payload, f"{order_id}@{utc_text(version.updated_at)}")]

    def _place_lines(self, order: dict[str, Any]) -> None:
        """Give each line item the location its stock comes from, as ``origin_location``.

        Order webhooks stopped naming it per line in API 2023-04. A POS order names its
        store (``location_id``); an online order takes the configured fulfillment location.
        A line that already has one keeps it.
        """
        where = order.get("location_id") or self.config.fulfillment_location_id
        if where is None:
            return
        for line in order.get("line_items") or []:
            if isinstance(line, dict) and not line.get("origin_location"):
                line["origin_location"] = {"id": where}

    async def committed(
        self, records: Sequence[NativeRecord], fates: Sequence[RecordFate], context: Any
    ) -> None:
        """Remember each order's newest version the hub now holds.

        Dead-lettered records count too: the hub keeps them for replay, and Shopify sends the
        whole order every time, so an older version arriving later adds nothing the newer
        one (once replayed) does not carry.
        """
        newest: dict[str, OrderVersion] = {}
        for record in records:
            if record.kind not in ORDER_TOPICS or not isinstance(record.data, dict):
                continue
            key = order_state_key(record.data["id"])
            version = OrderVersion.of(record.kind, record.data)
            if key not in newest or version > newest[key]:
                newest[key] = version
        for key, version in newest.items():
            seen = OrderVersion.from_state(await self.state.get(key))
            if seen is None or version > seen:
                await self.state.put(key, version.as_state())

    # -- outbound -------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Apply one inventory update: read, compute, compare-and-set."""
        if message.payload is None:
            return SendOutcome.mapping_error(
                "the route has no mapping: a route to Shopify needs one that makes an "
                "inventory_update (shopify-inventory-from-receipt, "
                "shopify-inventory-from-backorder-fill)"
            )
        try:
            update = InventoryUpdate.model_validate(message.payload)
            changes = merge(update)
        except ValidationError as exc:
            return SendOutcome.mapping_error(f"not a valid inventory update: {_summary(exc)}")
        except ValueError as exc:
            return SendOutcome.mapping_error(f"not a valid inventory update: {exc}")
        done_key = f"applied:{message.route}:{message.message_key}"
        inflight_key = f"inflight:{message.route}:{message.message_key}"
        if await self.state.get(done_key) is not None:
            return SendOutcome.ok()  # applied before (the hub lost our answer): never twice
        planned = [c for c in changes if not await self._superseded(c, update.source_time)]
        if not planned:
            await self._remember(update, [], done_key, inflight_key)
            return SendOutcome.ok()
        try:
            current = await self._available(planned)
        except AdminApiFailure as failure:
            return failure.outcome
        except Refused as exc:
            return SendOutcome.rejected(str(exc))
        targets = {
            (c.item_id, c.location_id): c.target(current[c.item_id, c.location_id]) for c in planned
        }
        inflight = await self.state.get(inflight_key)
        if inflight is not None and _landed(inflight, current):
            # The previous attempt's answer was lost, but its quantities are in place.
            await self._remember(update, planned, done_key, inflight_key)
            return SendOutcome.ok()
        too_high = [c.label for c in planned if targets[c.item_id, c.location_id] > MAX_QUANTITY]
        if too_high:
            return SendOutcome.rejected(f"more than {MAX_QUANTITY:,} units: {', '.join(too_high)}")
        moving = [
            c
            for c in planned
            if targets[c.item_id, c.location_id] != current[c.item_id, c.location_id]
        ]
        if not moving:
            await self._remember(update, planned, done_key, inflight_key)
            return SendOutcome.ok()
        await self.state.put(
            inflight_key,
            [[c.item_id, c.location_id, targets[c.item_id, c.location_id]] for c in moving],
        )
        try:
            data = await call(
                self.http,
                self.config,
                *self._set_request(message, update, moving, current, targets),
            )
        except AdminApiFailure as failure:
            return failure.outcome
        result = data.get("inventorySetQuantities") or {}
        user_errors = result.get("userErrors") or []
        if user_errors:
            # inventorySetQuantities is all or nothing: nothing of this attempt landed.
            await self.state.delete(inflight_key)
            text = "; ".join(
                f"{e.get('code')}: {e.get('message')}" for e in user_errors if isinstance(e, dict)
            )
            if any(isinstance(e, dict) and e.get("code") in STALE_CODES for e in user_errors):
                return SendOutcome.conflict(
                    f"a newer change to the same stock won the compare-and-set ({text}); "
                    "the next attempt reads the quantities again"
                )
            return SendOutcome.rejected(f"Shopify refused the inventory update: {text}")
        await self._remember(update, planned, done_key, inflight_key)
        return SendOutcome.ok(200)

    async def _superseded(self, change: LevelChange, source_time: datetime) -> bool:
        """An absolute quantity from before the newest change applied to its level.

        Only quantities ("set to 40") can be stale; a delta ("40 more arrived") is news
        whenever it arrives, and is applied exactly once per message instead.
        """
        if change.quantity is None:
            return False
        last = await self.state.get(level_state_key(change.item_id, change.location_id))
        return isinstance(last, str) and parse_instant(last) > source_time

    async def _available(self, changes: list[LevelChange]) -> dict[tuple[int, int], int]:
        """The current ``available`` of each level: one query per location."""
        by_location: dict[int, list[LevelChange]] = {}
        for change in changes:
            by_location.setdefault(change.location_id, []).append(change)
        found: dict[tuple[int, int], int] = {}
        for location_id, group in by_location.items():
            data = await call(
                self.http,
                self.config,
                LEVELS_QUERY,
                {
                    "ids": [item_gid(c.item_id) for c in group],
                    "locationId": location_gid(location_id),
                },
            )
            nodes = data.get("nodes") or []
            for index, change in enumerate(group):
                node = nodes[index] if index < len(nodes) else None
                if not isinstance(node, dict) or "id" not in node:
                    raise Refused(
                        f"{change.label}: inventory item {change.item_id} is not in this shop "
                        "(see mappings/shopify/tables/inventory-items.csv)"
                    )
                if id_of(node["id"]) != change.item_id:
                    raise Refused(f"{change.label}: Shopify answered for another item")
                level = node.get("inventoryLevel")
                if not isinstance(level, dict):
                    raise Refused(
                        f"{change.label}: the item is not stocked at location {location_id}"
                    )
                available = [
                    q.get("quantity")
                    for q in level.get("quantities") or []
                    if isinstance(q, dict) and q.get("name") == "available"
                ]
                if not available or not isinstance(available[0], int):
                    raise Refused(f"{change.label}: Shopify gave no available quantity")
                found[change.item_id, location_id] = available[0]
        return found

    def _set_request(
        self,
        message: OutboundMessage,
        update: InventoryUpdate,
        moving: list[LevelChange],
        current: dict[tuple[int, int], int],
        targets: dict[tuple[int, int], int],
    ) -> tuple[str, dict[str, Any]]:
        """The inventorySetQuantities call: each target on the condition of what was read."""
        compare = "changeFromQuantity" if self.config.uses_change_from() else "compareQuantity"
        quantities = [
            {
                "inventoryItemId": item_gid(c.item_id),
                "locationId": location_gid(c.location_id),
                "quantity": targets[c.item_id, c.location_id],
                compare: current[c.item_id, c.location_id],
            }
            for c in moving
        ]
        variables: dict[str, Any] = {
            "input": {
                "name": "available",
                "reason": update.reason,
                "referenceDocumentUri": (
                    f"gid://crossdock/{update.document_type}/{quote(update.document_id, safe='')}"
                ),
                "quantities": quantities,
            }
        }
        if not self.config.uses_change_from():
            return SET_MUTATION, variables
        # The key names this exact attempt: the same read gives the same key, so a resent
        # call is applied once; a fresh read after a conflict is a new operation.
        fingerprint = orjson.dumps(
            [message.route, message.message_key, quantities], option=orjson.OPT_SORT_KEYS
        )
        variables["idempotencyKey"] = "crossdock-" + hashlib.sha256(fingerprint).hexdigest()[:48]
        return SET_MUTATION_IDEMPOTENT, variables

    async def _remember(
        self,
        update: InventoryUpdate,
        applied: list[LevelChange],
        done_key: str,
        inflight_key: str,
    ) -> None:
        """After a landed update: each level's newest source time, and the message as done."""
        for change in applied:
            key = level_state_key(change.item_id, change.location_id)
            last = await self.state.get(key)
            if not isinstance(last, str) or parse_instant(last) < update.source_time:
                await self.state.put(key, utc_text(update.source_time))
        await self.state.put(done_key, utc_text(datetime.now(UTC)))
        await self.state.delete(inflight_key)


def _landed(inflight: Any, current: dict[tuple[int, int], int]) -> bool:
    """Whether the quantities an unanswered attempt set are exactly what is there now."""
    if not isinstance(inflight, list) or not inflight:
        return False
    try:
        return all(current.get((int(i), int(loc))) == int(to) for i, loc, to in inflight)
    except (TypeError, ValueError):
        return False


def _record_id(payload: dict[str, Any]) -> str | None:
    """The identity of a record of a topic without a shipped mapping: id and version."""
    record_id = payload.get("id")
    if record_id is None:
        return None
    stamp = payload.get("updated_at")
    return f"{record_id}@{stamp}" if isinstance(stamp, str) else str(record_id)


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = "/".join(str(p) for p in error["loc"])
        parts.append(f"{where or '/'}: {error['msg']}")
    return "; ".join(parts)
