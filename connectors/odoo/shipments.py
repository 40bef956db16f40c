"""Shipments into Odoo: what a warehouse shipped of a reservation, booked on its delivery.

A 3PL or a WMS confirms what left the warehouse for a customer order: the x12 connector
reads a 945 as ``transfer.shipped``, whose ``transfer_id`` is the depositor order number of
the 940 that asked for it, the reservation's id. The route's mapping (``odoo-shipment`` in
``mappings/odoo``) turns it into a :class:`ShipmentPayload` (kind ``odoo/delivery``,
``action: ship``). Sending it:

1. finds the reservation's order: the one this connection booked the reservation as (the
   note ``reservation:<id>`` that :mod:`connectors.odoo.deliveries` keeps), else the outgoing
   transfer named as the reservation (a reservation Odoo made itself is reported under its
   transfer's name, see the ``odoo-reservation`` mapping) and the order it belongs to;
2. finds the order's open delivery: outgoing, of that customer, at the warehouse the goods
   left (when the payload names one), neither done nor cancelled; the oldest Ready one;
3. checks the shipment against it and refuses it whole, booking nothing, for a product
   Odoo does not know or the delivery does not hold, or more of a product than the
   delivery holds (reserved) for the order: the warehouse was asked to ship what Odoo
   reserved, no more;
4. sets each move's ``quantity`` to what shipped of its product and validates the delivery,
   the rest left on a backorder (:mod:`connectors.odoo.booking`, as receipts are booked);
5. releases what the warehouse held for the order but did not ship: Odoo reserves a
   delivery's backorder at once, and would reserve the units the warehouse just reported
   it could not ship (and a poll would release them to the warehouse again). The
   backorder keeps any other stock Odoo holds for it; it waits for stock, and the next
   poll reports it as ``backorder.created``.

A shipment is booked once: the booking is noted under ``shipment:<message key>``; a retry
after a lost answer finds the delivery done and answers success (finishing step 5 if it
had not run). A reservation whose deliveries are all done (shipped in full, or validated in
Odoo by hand) is success with nothing to do; one whose delivery still to ship was cancelled,
or that Odoo has no delivery of, is refused for good.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.odoo.booking import (
    TransferBooking,
    TransferRefused,
    odoo_decimal,
    product_id,
    quantity_text,
    spread,
)
from connectors.odoo.deliveries import CLOSED, DeliveryBooker
from connectors.odoo.rpc import OdooClient
from connectors.sdk import ConnectorState


class ShipmentLine(BaseModel):
    """What shipped of one product, in the product's Odoo unit."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, description="The product's Internal Reference (default_code).")
    quantity: Decimal = Field(ge=0, allow_inf_nan=False, description="The quantity shipped.")
    line_no: int | None = Field(
        default=None, ge=1, description="The shipment's line number, named when it is refused."
    )


class ShipmentPayload(BaseModel):
    """A warehouse's shipment of a reservation, for Odoo (kind ``odoo/delivery``)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["ship"]
    reservation_id: str = Field(min_length=1, description="The reservation shipped.")
    warehouse: str | None = Field(
        default=None,
        min_length=1,
        description="The Odoo warehouse's short code the goods left; none: any.",
    )
    lines: list[ShipmentLine] = Field(min_length=1)


class ShipmentRefused(TransferRefused):
    """Odoo holds nothing this shipment can be booked on: a permanent failure."""


class ShipmentBooker:
    """Books shipments on one Odoo, one order at a time per process (with its reservations)."""

    def __init__(
        self, client: OdooClient, state: ConnectorState, deliveries: DeliveryBooker
    ) -> None:
        self._client = client
        self._state = state
        self._deliveries = deliveries

    async def book(self, shipment: ShipmentPayload, message_key: str) -> str:
        """Book ``shipment``; say what was done. Raises :class:`ShipmentRefused`,
        :class:`~connectors.odoo.deliveries.DeliveryRefused` and RPC errors."""
        domain, order = await self._order_domain(shipment.reservation_id)
        # The order's reservations and shipments change the same deliveries: one at a time.
        async with self._deliveries.lock(order):
            return await self._book(shipment, message_key, domain)

    async def _book(self, shipment: ShipmentPayload, message_key: str, domain: list[Any]) -> str:
        booking = TransferBooking(self._client, self._state, f"shipment:{message_key}")
        recalled = await booking.recall()
        if recalled.booked is not None:
            return f"already booked on {recalled.booked}"
        if recalled.validated is not None:
            await self._release(recalled.validated, _short(recalled.remembered))
            await booking.finish()
            return f"already booked on {recalled.validated['name']}"
        picking = recalled.open or await self._open_delivery(shipment, domain)
        if picking is None:
            return f"reservation {shipment.reservation_id} has shipped in full: nothing to book"
        moves = await self._client.search_read(
            "stock.move",
            [("picking_id", "=", picking["id"]), ("state", "not in", list(CLOSED))],
            ["product_id", "product_uom_qty", "quantity"],
            order="sequence asc, id asc",
        )
        # What the delivery held before this booking lowered it: a retry's note knows.
        held = _held(moves)
        if recalled.open is not None and "held" in recalled.remembered:
            held = {int(p): Decimal(q) for p, q in recalled.remembered["held"].items()}
        shipped = await self._shipped(shipment, picking, moves, held)
        quantities = {move["id"]: Decimal(0) for move in moves}
        for product, quantity in shipped.items():
            # Each move ships what it holds; the last one the rest (within what it holds).
            of_product = [move for move in moves if product_id(move) == product]
            quantities.update(spread(of_product, quantity, "quantity"))
        short = {p: held[p] - shipped.get(p, Decimal(0)) for p in held}
        await booking.validate(
            picking,
            quantities,
            backorder=True,
            remember={
                "held": {str(p): str(q) for p, q in held.items()},
                "short": {str(p): str(q) for p, q in short.items() if q > 0},
            },
        )
        await self._release(picking, {p: q for p, q in short.items() if q > 0})
        await booking.finish()
        return f"booked on {picking['name']}"

    # -- which delivery -------------------------------------------------------------------

    async def _order_domain(self, reservation_id: str) -> tuple[list[Any], str]:
        """The domain of the reservation's deliveries, and the order (for its lock)."""
        outgoing = ("picking_type_id.code", "=", "outgoing")
        booked = await self._deliveries.booked_order(reservation_id)
        if booked is not None:
            customer = await self._deliveries.customer(booked.customer_ref)
            return [
                ("origin", "=", booked.order_ref),
                outgoing,
                ("partner_id.commercial_partner_id", "=", customer.commercial),
            ], booked.order_ref
        rows = await self._client.search_read(
            "stock.picking",
            [("name", "=", reservation_id), outgoing],
            ["name", "origin", "partner_id"],
        )
        if not rows:
            raise ShipmentRefused(
                f"Odoo knows no reservation {reservation_id!r}: this connection booked no "
                "order for it, and no delivery has that name"
            )
        picking = rows[0]
        if not picking["origin"]:
            return [("id", "=", picking["id"])], reservation_id
        domain: list[Any] = [("origin", "=", picking["origin"]), outgoing]
        partner = picking["partner_id"]
        if isinstance(partner, list) and partner:
            [found] = await self._client.read(
                "res.partner", [partner[0]], ["commercial_partner_id"]
            )
            commercial = found["commercial_partner_id"]
            if isinstance(commercial, list) and commercial:
                domain.append(("partner_id.commercial_partner_id", "=", commercial[0]))
        return domain, str(picking["origin"])

    async def _open_delivery(
        self, shipment: ShipmentPayload, domain: list[Any]
    ) -> dict[str, Any] | None:
        """The delivery to book on; ``None`` when everything has shipped."""
        where = ""
        if shipment.warehouse is not None:
            domain = [*domain, ("picking_type_id.warehouse_id.code", "=", shipment.warehouse)]
            where = f" at warehouse {shipment.warehouse}"
        rows = await self._client.search_read(
            "stock.picking", domain, ["name", "state"], order="id asc"
        )
        reservation = f"reservation {shipment.reservation_id}"
        if not rows:
            raise ShipmentRefused(f"Odoo has no delivery of {reservation}{where}")
        still_open = [row for row in rows if row["state"] not in CLOSED]
        if still_open:
            ready = [row for row in still_open if row["state"] == "assigned"]
            return (ready or still_open)[0]
        cancelled = [row["name"] for row in rows if row["state"] == "cancel"]
        if cancelled:
            raise ShipmentRefused(
                f"the delivery of {reservation}{where} still to ship is cancelled in Odoo "
                f"({', '.join(cancelled)}): the shipment cannot be booked"
            )
        return None

    # -- what shipped ---------------------------------------------------------------------

    async def _shipped(
        self,
        shipment: ShipmentPayload,
        picking: dict[str, Any],
        moves: list[dict[str, Any]],
        held: dict[int, Decimal],
    ) -> dict[int, Decimal]:
        """What shipped per product id; every problem refused in one :class:`ShipmentRefused`."""
        wanted: dict[str, Decimal] = {}
        for line in shipment.lines:
            wanted[line.sku] = wanted.get(line.sku, Decimal(0)) + line.quantity
        # A line of nothing shipped books nothing, whether Odoo knows its product or not.
        wanted = {sku: quantity for sku, quantity in wanted.items() if quantity > 0}
        if not wanted:
            raise ShipmentRefused(
                f"the shipment of reservation {shipment.reservation_id} ships nothing: "
                f"nothing to book on {picking['name']}"
            )
        products = await self._client.search_read(
            "product.product", [("default_code", "in", sorted(wanted))], ["default_code"]
        )
        id_of = {row["default_code"]: row["id"] for row in products}
        on_delivery = {product_id(move) for move in moves}
        problems = []
        unknown = sorted(set(wanted) - set(id_of))
        if unknown:
            problems.append(f"Odoo knows no product with the reference {', '.join(unknown)}")
        for sku, quantity in wanted.items():
            if sku not in id_of:
                continue
            where = _shipment_lines(shipment, sku)
            if id_of[sku] not in on_delivery:
                problems.append(f"{where} is not on {picking['name']}")
                continue
            holds = held.get(id_of[sku], Decimal(0))
            if quantity > holds:
                problems.append(
                    f"{where}: {quantity_text(quantity)} shipped, more than the "
                    f"{quantity_text(holds)} {picking['name']} holds for reservation "
                    f"{shipment.reservation_id}"
                )
        if problems:
            raise ShipmentRefused("; ".join(problems))
        return {id_of[sku]: quantity for sku, quantity in wanted.items()}

    async def _release(self, picking: dict[str, Any], short: dict[int, Decimal]) -> None:
        """Take what the warehouse did not ship (``short``, per product) off the reservations
        of ``picking``'s backorder; stock Odoo holds for it beyond that stays held."""
        if not short:
            return
        backorders = await self._client.search_read(
            "stock.picking",
            [("backorder_id", "=", picking["id"]), ("state", "not in", list(CLOSED))],
            ["name"],
        )
        if not backorders:
            return
        moves = await self._client.search_read(
            "stock.move",
            [
                ("picking_id", "in", [row["id"] for row in backorders]),
                ("state", "not in", list(CLOSED)),
            ],
            ["product_id", "quantity"],
            order="sequence asc, id asc",
        )
        lowered: dict[Decimal, list[int]] = {}
        left = dict(short)
        for move in moves:
            product = product_id(move)
            if product is None or left.get(product, Decimal(0)) <= 0:
                continue
            holds = odoo_decimal(move["quantity"])
            cut = min(left[product], holds)
            if cut <= 0:
                continue
            left[product] -= cut
            lowered.setdefault(holds - cut, []).append(move["id"])
        for quantity, move_ids in lowered.items():
            await self._client.execute(
                "stock.move", "write", [move_ids, {"quantity": float(quantity)}]
            )


def _held(moves: list[dict[str, Any]]) -> dict[int, Decimal]:
    """What the open moves hold (reserved), per product id."""
    held: dict[int, Decimal] = {}
    for move in moves:
        product = product_id(move)
        if product is not None:
            held[product] = held.get(product, Decimal(0)) + odoo_decimal(move["quantity"])
    return held


def _short(remembered: dict[str, Any]) -> dict[int, Decimal]:
    """The shortfall a former attempt noted, per product id."""
    short = remembered.get("short")
    if not isinstance(short, dict):
        return {}
    return {int(product): Decimal(quantity) for product, quantity in short.items()}


def _shipment_lines(shipment: ShipmentPayload, sku: str) -> str:
    """How a refusal names the shipment's lines of ``sku``."""
    numbers = [str(line.line_no) for line in shipment.lines if line.sku == sku and line.line_no]
    if not numbers:
        return sku
    label = "shipment line" if len(numbers) == 1 else "shipment lines"
    return f"{label} {', '.join(numbers)} ({sku})"
