"""Reservations into Odoo: a customer delivery per warehouse, reserved as stock allows.

The route's mapping (``odoo-delivery`` in ``mappings/odoo``) turns a ``reservation.requested``
or ``reservation.cancelled`` message into a :class:`DeliveryPayload`. Sending it:

- **deliver** (``reservation.requested``): finds the customer (``res.partner`` by ``ref``),
  the products (``product.product`` by ``default_code``) and the warehouses
  (``stock.warehouse`` by ``code``), then per warehouse either creates the delivery
  (``stock.picking`` of the warehouse's outgoing operation type, ``origin`` the order, one
  move per product) and calls ``action_confirm`` and ``action_assign``, or, when the order
  already has deliveries there, brings their open moves to what the order now asks (less
  what has shipped) and calls ``action_assign`` again. Odoo reserves what stock allows; the
  next poll reports it as ``reservation.confirmed``.
- **cancel** (``reservation.cancelled``): ``action_cancel`` on the customer's open
  deliveries of the order, backorders included; the next poll reports
  ``reservation.cancelled`` and ``backorder.cancelled``.

The order's deliveries are found by ``origin`` (the order) and operation type, every time:
a retried or repeated request finds the delivery it created and changes nothing that is
already right, so none is created twice. The connector notes the reservation in its state
(``order:<order_ref>``): polls use it to report the reservation under the ``reservation_id``
the hub asked for, and a cancelled reservation stays cancelled (a later request for it
changes nothing). It notes the other way too (``reservation:<reservation_id>``: the order
and the customer), for a warehouse's shipment, which names the reservation alone
(:mod:`connectors.odoo.shipments`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.odoo.rpc import OdooClient
from connectors.sdk import ConnectorState
from connectors.sdk.state import MAX_KEY_LENGTH

CLOSED = ("done", "cancel")  # the states of a transfer no longer open


class DeliveryLine(BaseModel):
    """What the order asks of one product at one warehouse, in the product's Odoo unit."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, description="The product's Internal Reference (default_code).")
    warehouse: str = Field(min_length=1, description="The warehouse's short code.")
    quantity: Decimal = Field(ge=0, allow_inf_nan=False, description="The quantity ordered.")


class DeliveryPayload(BaseModel):
    """The native payload of a reservation for Odoo (kind ``odoo/delivery``)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["deliver", "cancel"]
    reservation_id: str = Field(min_length=1)
    order_ref: str = Field(min_length=1, description="The order: the deliveries' origin.")
    customer_ref: str | None = Field(
        default=None, description="The customer's Reference (res.partner ref)."
    )
    lines: list[DeliveryLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _deliverable(self) -> DeliveryPayload:
        if self.action == "deliver" and not self.lines:
            raise ValueError("a delivery needs lines")
        if self.action == "deliver" and not self.customer_ref:
            raise ValueError("a delivery needs the customer_ref of an Odoo customer")
        return self


class DeliveryRefused(Exception):
    """Odoo holds nothing this reservation can be booked on: a permanent failure."""


@dataclass(frozen=True)
class Customer:
    partner: int
    commercial: int


@dataclass(frozen=True)
class Warehouse:
    code: str
    picking_type: int
    source: int
    destination: int


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    uom: int


@dataclass(frozen=True)
class BookedOrder:
    """The order this connection booked a reservation as, and the customer who ordered."""

    order_ref: str
    customer_ref: str


def order_key(order_ref: str) -> str | None:
    """The state key noting the reservation of an order, if the order's name fits in one."""
    key = f"order:{order_ref}"
    return key if len(key) <= MAX_KEY_LENGTH else None


def reservation_key(reservation_id: str) -> str | None:
    """The state key noting the order a reservation was booked as, if the id fits in one."""
    key = f"reservation:{reservation_id}"
    return key if len(key) <= MAX_KEY_LENGTH else None


class DeliveryBooker:
    """Books reservations on one Odoo, one order at a time per process."""

    def __init__(self, client: OdooClient, state: ConnectorState) -> None:
        self._client = client
        self._state = state
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, order_ref: str) -> asyncio.Lock:
        """The lock that books one order's messages one at a time in this process."""
        lock = self._locks.get(order_ref)
        if lock is None:
            lock = self._locks[order_ref] = asyncio.Lock()
        return lock

    async def book(self, payload: DeliveryPayload) -> str:
        """Deliver or cancel; say what was done. Raises :class:`DeliveryRefused` and RPC errors."""
        async with self.lock(payload.order_ref):
            if payload.action == "cancel":
                return await self._cancel(payload)
            return await self._deliver(payload)

    # -- deliver --------------------------------------------------------------------------

    async def _deliver(self, payload: DeliveryPayload) -> str:
        note = await self._note(payload.order_ref)
        if note.get("reservation_id") == payload.reservation_id and note.get("cancelled"):
            return f"reservation {payload.reservation_id} is cancelled: nothing to deliver"
        assert payload.customer_ref is not None  # the payload's validator saw to it
        customer = await self.customer(payload.customer_ref)
        asked: dict[str, dict[str, Decimal]] = {}
        for line in payload.lines:
            per_sku = asked.setdefault(line.warehouse, {})
            per_sku[line.sku] = per_sku.get(line.sku, Decimal(0)) + line.quantity
        warehouses = await self._warehouses(asked)
        products = await self._products({sku for skus in asked.values() for sku in skus})
        existing = await self._client.search_read(
            "stock.picking",
            [
                ("origin", "=", payload.order_ref),
                ("picking_type_id.code", "=", "outgoing"),
                ("partner_id.commercial_partner_id", "=", customer.commercial),
            ],
            ["name", "state", "picking_type_id"],
            order="id asc",
        )
        if existing and all(row["state"] == "cancel" for row in existing):
            await self._remember(payload, cancelled=True)
            return f"order {payload.order_ref} is cancelled in Odoo: nothing to deliver"
        # Noted before anything is written: a poll reading the new delivery knows whose it is.
        await self._remember(payload, cancelled=False)
        done: list[str] = []
        by_type: dict[int, list[dict[str, Any]]] = {}
        for row in existing:
            by_type.setdefault(_id(row["picking_type_id"]), []).append(row)
        for code, wanted in asked.items():
            warehouse = warehouses[code]
            quantities = {products[sku].id: quantity for sku, quantity in wanted.items()}
            pickings = by_type.pop(warehouse.picking_type, [])
            if pickings:
                done.append(
                    await self._change(payload, customer, warehouse, pickings, quantities, products)
                )
            else:
                done.append(await self._create(payload, customer, warehouse, quantities, products))
        # Warehouses the order no longer asks anything of: their open deliveries go.
        gone = [
            row["id"] for rows in by_type.values() for row in rows if row["state"] not in CLOSED
        ]
        if gone:
            await self._client.execute("stock.picking", "action_cancel", [gone])
            done.append(f"cancelled {len(gone)} delivery(ies) of other warehouses")
        return "; ".join(done)

    async def _create(
        self,
        payload: DeliveryPayload,
        customer: Customer,
        warehouse: Warehouse,
        quantities: dict[int, Decimal],
        products: dict[str, Product],
    ) -> str:
        by_id = {product.id: product for product in products.values()}
        moves = [
            [0, 0, _move(by_id[product], quantity, warehouse)]
            for product, quantity in quantities.items()
            if quantity > 0
        ]
        if not moves:
            return f"nothing to deliver from {warehouse.code}"
        picking = await self._client.execute(
            "stock.picking",
            "create",
            [
                {
                    "picking_type_id": warehouse.picking_type,
                    "partner_id": customer.partner,
                    "origin": payload.order_ref,
                    "location_id": warehouse.source,
                    "location_dest_id": warehouse.destination,
                    "move_ids": moves,
                }
            ],
        )
        if not isinstance(picking, int) or isinstance(picking, bool):
            raise DeliveryRefused(f"Odoo's create answered {picking!r}, not a transfer's id")
        await self._client.execute("stock.picking", "action_confirm", [[picking]])
        await self._client.execute("stock.picking", "action_assign", [[picking]])
        return f"delivery {picking} created at {warehouse.code}"

    async def _change(
        self,
        payload: DeliveryPayload,
        customer: Customer,
        warehouse: Warehouse,
        pickings: list[dict[str, Any]],
        quantities: dict[int, Decimal],
        products: dict[str, Product],
    ) -> str:
        """Bring the order's open moves at ``warehouse`` to what it asks, less what shipped."""
        open_pickings = [row for row in pickings if row["state"] not in CLOSED]
        moves = await self._client.search_read(
            "stock.move",
            [("picking_id", "in", [row["id"] for row in pickings])],
            ["picking_id", "product_id", "product_uom_qty", "quantity", "state"],
            order="id asc",
        )
        shipped: dict[int, Decimal] = {}
        open_moves: dict[int, list[dict[str, Any]]] = {}
        for move in moves:
            product = _id(move["product_id"])
            if move["state"] == "done":
                shipped[product] = shipped.get(product, Decimal(0)) + _decimal(move["quantity"])
            elif move["state"] != "cancel":
                open_moves.setdefault(product, []).append(move)
        demands: dict[int, Decimal] = {}
        added: dict[int, Decimal] = {}
        for product in [*quantities, *(p for p in open_moves if p not in quantities)]:
            needed = max(Decimal(0), quantities.get(product, Decimal(0)) - shipped.get(product, 0))
            product_moves = open_moves.get(product, [])
            if not product_moves:
                if needed > 0:
                    added[product] = needed
                continue
            # Earlier moves keep what they can; the last takes the rest, more or less.
            for move in product_moves[:-1]:
                share = min(needed, _decimal(move["product_uom_qty"]))
                demands[move["id"]] = share
                needed -= share
            demands[product_moves[-1]["id"]] = needed
        changed_moves = {
            move["id"]: move
            for product_moves in open_moves.values()
            for move in product_moves
            if move["id"] in demands and demands[move["id"]] != _decimal(move["product_uom_qty"])
        }
        by_demand: dict[Decimal, list[int]] = {}
        for move_id in changed_moves:
            by_demand.setdefault(demands[move_id], []).append(move_id)
        for demand, move_ids in by_demand.items():
            await self._client.execute(
                "stock.move", "write", [move_ids, {"product_uom_qty": float(demand)}]
            )
        changed = {_id(move["picking_id"]) for move in changed_moves.values()}
        by_id = {product.id: product for product in products.values()}
        if added and open_pickings:
            target = open_pickings[-1]["id"]
            commands = [[0, 0, _move(by_id[p], q, warehouse)] for p, q in added.items()]
            await self._client.execute("stock.picking", "write", [[target], {"move_ids": commands}])
            changed.add(target)
        elif added:
            created = await self._create(payload, customer, warehouse, added, products)
            return f"{created} for what the order added"
        # Reserve again where anything changed or is still short (stock may have come).
        short = {
            _id(move["picking_id"])
            for product_moves in open_moves.values()
            for move in product_moves
            if _decimal(move["quantity"]) < _decimal(move["product_uom_qty"])
            or move["state"] == "draft"
        }
        # action_assign confirms a draft first (one whose creation's answer was lost).
        assign = [row["id"] for row in open_pickings if row["id"] in changed | short]
        if assign:
            await self._client.execute("stock.picking", "action_assign", [assign])
        if not changed:
            return f"the deliveries at {warehouse.code} already hold what the order asks"
        return f"changed the deliveries {sorted(changed)} at {warehouse.code}"

    # -- cancel ---------------------------------------------------------------------------

    async def _cancel(self, payload: DeliveryPayload) -> str:
        domain: list[Any] = [
            ("origin", "=", payload.order_ref),
            ("picking_type_id.code", "=", "outgoing"),
            ("state", "not in", list(CLOSED)),
        ]
        if payload.customer_ref:
            customer = await self.customer(payload.customer_ref)
            domain.append(("partner_id.commercial_partner_id", "=", customer.commercial))
        rows = await self._client.search_read("stock.picking", domain, ["name"], order="id asc")
        if rows:
            await self._client.execute("stock.picking", "action_cancel", [[r["id"] for r in rows]])
        await self._remember(payload, cancelled=True)
        if not rows:
            return f"order {payload.order_ref} has no open delivery in Odoo"
        return "cancelled " + ", ".join(row["name"] for row in rows)

    # -- what Odoo knows ------------------------------------------------------------------

    async def _note(self, order_ref: str) -> dict[str, Any]:
        key = order_key(order_ref)
        found = await self._state.get(key) if key else None
        return found if isinstance(found, dict) else {}

    async def _remember(self, payload: DeliveryPayload, *, cancelled: bool) -> None:
        key = order_key(payload.order_ref)
        if key is None:
            return
        await self._state.put(
            key, {"reservation_id": payload.reservation_id, "cancelled": cancelled}
        )
        # The other way round, for what comes back under the reservation's id alone (a
        # warehouse's shipment of it: see connectors.odoo.shipments).
        back = reservation_key(payload.reservation_id)
        if back is not None and payload.customer_ref:
            await self._state.put(
                back, {"order_ref": payload.order_ref, "customer_ref": payload.customer_ref}
            )

    async def booked_order(self, reservation_id: str) -> BookedOrder | None:
        """The order this connection booked ``reservation_id`` as, if it did."""
        key = reservation_key(reservation_id)
        note = await self._state.get(key) if key else None
        if not isinstance(note, dict):
            return None
        order, customer = note.get("order_ref"), note.get("customer_ref")
        if isinstance(order, str) and isinstance(customer, str):
            return BookedOrder(order, customer)
        return None

    async def customer(self, ref: str) -> Customer:
        """The Odoo customer whose Reference is ``ref``; :class:`DeliveryRefused` if none."""
        rows = await self._client.search_read(
            "res.partner", [("ref", "=", ref)], ["name", "commercial_partner_id"], order="id asc"
        )
        if not rows:
            raise DeliveryRefused(f"Odoo knows no customer with the Reference {ref!r}")
        # A company and one of its contacts may share the reference: the company orders.
        companies = [row for row in rows if _id(row["commercial_partner_id"]) == row["id"]]
        chosen = (companies or rows)[0]
        return Customer(chosen["id"], _id(chosen["commercial_partner_id"]) or chosen["id"])

    async def _warehouses(self, codes: Iterable[str]) -> dict[str, Warehouse]:
        wanted = sorted(set(codes))
        rows = await self._client.search_read(
            "stock.warehouse", [("code", "in", wanted)], ["code", "out_type_id"]
        )
        found = {row["code"]: row for row in rows}
        unknown = [code for code in wanted if code not in found]
        if unknown:
            raise DeliveryRefused(f"Odoo has no warehouse with the code {', '.join(unknown)}")
        types = {
            row["id"]: row
            for row in await self._client.read(
                "stock.picking.type",
                sorted({_id(row["out_type_id"]) for row in rows}),
                ["default_location_src_id", "default_location_dest_id"],
            )
        }
        warehouses = {}
        for code, row in found.items():
            kind = types.get(_id(row["out_type_id"]))
            if kind is None or not kind["default_location_src_id"]:
                raise DeliveryRefused(f"warehouse {code} has no delivery operation type in Odoo")
            warehouses[code] = Warehouse(
                code,
                kind["id"],
                _id(kind["default_location_src_id"]),
                _id(kind["default_location_dest_id"]),
            )
        return warehouses

    async def _products(self, skus: Iterable[str]) -> dict[str, Product]:
        wanted = sorted(set(skus))
        rows = await self._client.search_read(
            "product.product",
            [("default_code", "in", wanted)],
            ["default_code", "display_name", "uom_id"],
        )
        found = {
            row["default_code"]: Product(
                row["id"], row["default_code"], row["display_name"], _id(row["uom_id"])
            )
            for row in rows
        }
        unknown = [sku for sku in wanted if sku not in found]
        if unknown:
            raise DeliveryRefused(f"Odoo knows no product with the reference {', '.join(unknown)}")
        return found


def _move(product: Product, quantity: Decimal, warehouse: Warehouse) -> dict[str, Any]:
    return {
        "name": product.name,
        "product_id": product.id,
        "product_uom_qty": float(quantity),
        "product_uom": product.uom,
        "location_id": warehouse.source,
        "location_dest_id": warehouse.destination,
    }


def _id(value: Any) -> int:
    """The id of a many2one as Odoo answers it (``[id, name]``), or of a bare id."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _decimal(value: Any) -> Decimal:
    """An Odoo float as the decimal it was rounded to (its shortest text)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
