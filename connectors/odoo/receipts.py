"""Receipts into Odoo: received quantities on the purchase order's incoming transfer, validated.

The route's mapping (``odoo-receipt`` in ``mappings/odoo``) turns a ``receipt.received``
message into a :class:`ReceiptPayload`. Sending it:

1. finds the open incoming transfer (``stock.picking``) of the purchase order: ``origin`` is
   the order's number, operation type ``incoming``, state neither ``done`` nor ``cancel``
   (the oldest, or the one the payload names);
2. checks the receipt against the purchase order's lines: a product the order does not
   have is refused, and with a receiving tolerance (``receipt_tolerance_percent``) so is a
   product received beyond ordered * (1 + tolerance), counting what was received before;
3. sets each move's ``quantity`` to what arrived of its product (``picked``), and 0 on moves
   of products that did not arrive; several moves of one product are filled in order;
4. calls ``button_validate``. Less than expected leaves a backorder for the rest (the
   ``skip_backorder`` context answers Odoo's "Create backorder?" question) unless the
   connection says ``create_backorders: false``.

A receipt must never be booked twice. Before validating, the connector notes the transfer
in its state (``receipt:<message key>``); a retry after a lost answer finds the note,
sees the transfer already ``done`` and reports success instead of booking the quantities
again on the backorder. The note stays, so a backfill of the same message does not book
it again either. Steps 3 and 4 and the note are :mod:`connectors.odoo.booking`'s, the one
way this connector books and validates a transfer (shipments use it too).
"""

from __future__ import annotations

import asyncio
import weakref
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.odoo.booking import (
    TransferBooking,
    TransferRefused,
    odoo_decimal,
    product_id,
    quantity_text,
    spread,
)
from connectors.odoo.rpc import OdooClient
from connectors.sdk import ConnectorState


class ReceiptLine(BaseModel):
    """What arrived of one product, in the unit of the purchase order line."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, description="The product's Internal Reference (default_code).")
    quantity: Decimal = Field(ge=0, allow_inf_nan=False, description="The quantity received.")
    line_no: int | None = Field(
        default=None, ge=1, description="The receipt's line number, named when it is refused."
    )


class ReceiptPayload(BaseModel):
    """The native payload of a receipt for Odoo (kind ``odoo/receipt``)."""

    model_config = ConfigDict(extra="forbid")

    po_number: str = Field(min_length=1, description="The purchase order's number (its name).")
    picking: str | None = Field(
        default=None, description="The incoming transfer to book on; default: the oldest open one."
    )
    receipt_ref: str | None = Field(default=None, description="The receipt's own id, for people.")
    lines: list[ReceiptLine] = Field(min_length=1)


class ReceiptRefused(TransferRefused):
    """Odoo holds nothing this receipt can be booked on: a permanent failure."""


class ReceiptBooker:
    """Books receipts on one Odoo, one purchase order at a time per process."""

    def __init__(
        self,
        client: OdooClient,
        state: ConnectorState,
        *,
        backorders: bool,
        tolerance_percent: Decimal | None = None,
    ) -> None:
        self._client = client
        self._state = state
        self._backorders = backorders
        self._tolerance = tolerance_percent
        # Two receipts of one order in flight at once would both fill the same transfer.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def book(self, receipt: ReceiptPayload, message_key: str) -> str:
        """Book ``receipt``; say what was done. Raises :class:`ReceiptRefused` and RPC errors."""
        lock = self._locks.get(receipt.po_number)
        if lock is None:
            lock = self._locks[receipt.po_number] = asyncio.Lock()
        async with lock:
            return await self._book(receipt, message_key)

    async def _book(self, receipt: ReceiptPayload, message_key: str) -> str:
        booking = TransferBooking(self._client, self._state, f"receipt:{message_key}")
        recalled = await booking.recall()
        if recalled.booked is not None:
            return f"already booked on {recalled.booked}"
        if recalled.validated is not None:
            await booking.finish()
            return f"already booked on {recalled.validated['name']}"
        picking = recalled.open or await self._open_picking(receipt)
        quantities = await self._quantities(receipt, picking)
        await booking.validate(picking, quantities, backorder=self._backorders)
        await booking.finish()
        return f"booked on {picking['name']}"

    async def _open_picking(self, receipt: ReceiptPayload) -> dict[str, Any]:
        domain: list[Any] = [
            ("origin", "=", receipt.po_number),
            ("picking_type_id.code", "=", "incoming"),
            ("state", "not in", ["done", "cancel"]),
        ]
        if receipt.picking is not None:
            domain.append(("name", "=", receipt.picking))
        rows = await self._client.search_read(
            "stock.picking", domain, ["name", "state"], order="id asc"
        )
        if not rows:
            raise ReceiptRefused(
                f"Odoo has no open receipt for purchase order {receipt.po_number!r}"
                + (f" named {receipt.picking!r}" if receipt.picking else "")
            )
        ready = [row for row in rows if row["state"] == "assigned"]
        return (ready or rows)[0]

    async def _quantities(
        self, receipt: ReceiptPayload, picking: dict[str, Any]
    ) -> dict[int, Decimal]:
        """The quantity to set on each open move of ``picking``."""
        moves = await self._client.search_read(
            "stock.move",
            [("picking_id", "=", picking["id"]), ("state", "not in", ["done", "cancel"])],
            ["product_id", "product_uom_qty"],
            order="sequence asc, id asc",
        )
        wanted: dict[str, Decimal] = {}
        for line in receipt.lines:
            wanted[line.sku] = wanted.get(line.sku, Decimal(0)) + line.quantity
        # What came in at 0 (all rejected, sent back) is not booked, known to Odoo or not.
        wanted = {sku: quantity for sku, quantity in wanted.items() if quantity > 0}
        products = await self._client.search_read(
            "product.product", [("default_code", "in", sorted(wanted))], ["default_code"]
        )
        sku_of = {row["id"]: row["default_code"] for row in products}
        problems: list[str] = []
        unknown = sorted(set(wanted) - set(sku_of.values()))
        if unknown:
            problems.append(f"Odoo knows no product with the reference {', '.join(unknown)}")
        problems += await self._order_problems(receipt, wanted, sku_of)
        if problems:
            raise ReceiptRefused("; ".join(problems))
        moves_of: dict[str, list[dict[str, Any]]] = {}
        for move in moves:
            sku = sku_of.get(product_id(move) or 0)
            if sku is not None:
                moves_of.setdefault(sku, []).append(move)
        absent = sorted(set(wanted) - set(moves_of))
        if absent:
            raise ReceiptRefused(
                f"{picking['name']} (purchase order {receipt.po_number}) expects none of "
                f"{', '.join(absent)}"
            )
        quantities = {move["id"]: Decimal(0) for move in moves}
        for sku, received in wanted.items():
            # Each move takes what it expects; the last one the rest, over-receipt included.
            quantities.update(spread(moves_of[sku], received, "product_uom_qty"))
        return quantities

    async def _order_problems(
        self, receipt: ReceiptPayload, wanted: dict[str, Decimal], sku_of: dict[int, str]
    ) -> list[str]:
        """What the purchase order refuses: a product it does not have, a product beyond the
        receiving tolerance; each named with its receipt lines, in the receipt's order.

        A transfer with no purchase order of that name (made by hand) is not checked.
        """
        lines = await self._client.search_read(
            "purchase.order.line",
            [("order_id.name", "=", receipt.po_number), ("display_type", "=", False)],
            ["product_id", "product_qty", "qty_received"],
            order="id asc",
        )
        if not lines:
            return []
        ordered: dict[str, Decimal] = {}
        received: dict[str, Decimal] = {}
        for line in lines:
            product = line.get("product_id")
            sku = sku_of.get(product[0]) if isinstance(product, list) and product else None
            if sku is not None:
                ordered[sku] = ordered.get(sku, Decimal(0)) + odoo_decimal(line["product_qty"])
                received[sku] = received.get(sku, Decimal(0)) + odoo_decimal(line["qty_received"])
        known = set(sku_of.values())
        problems = []
        for sku, quantity in wanted.items():
            where = _receipt_lines(receipt, sku)
            if sku not in known:
                continue  # said above: Odoo does not know it at all
            if sku not in ordered:
                problems.append(f"{where} is not on PO {receipt.po_number}")
                continue
            if self._tolerance is None:
                continue
            limit = ordered[sku] * (1 + self._tolerance / 100)
            total = received[sku] + quantity
            if total > limit:
                problems.append(
                    f"{where}: {quantity_text(quantity)} received now + "
                    f"{quantity_text(received[sku])} before = {quantity_text(total)}, "
                    f"over the receiving tolerance of PO {receipt.po_number}: at most "
                    f"{quantity_text(limit)} (ordered {quantity_text(ordered[sku])} + "
                    f"{quantity_text(self._tolerance)}%)"
                )
        return problems


def _receipt_lines(receipt: ReceiptPayload, sku: str) -> str:
    """How a refusal names the receipt's lines of ``sku``."""
    numbers = [str(line.line_no) for line in receipt.lines if line.sku == sku and line.line_no]
    if not numbers:
        return f"the receipt's {sku}"
    label = "receipt line" if len(numbers) == 1 else "receipt lines"
    return f"{label} {', '.join(numbers)} ({sku})"
