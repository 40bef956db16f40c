"""Booking what moved on an Odoo transfer and validating it, once per message.

Receipts (:mod:`connectors.odoo.receipts`) and shipments (:mod:`connectors.odoo.shipments`)
end the same way: each open move of the transfer gets the quantity that moved (``quantity``,
with ``picked``), then ``button_validate`` closes the transfer. What did not move stays in a
backorder transfer (the ``skip_backorder`` context answers Odoo's "Create backorder?"
question), or is dropped when the context lists the transfer in
``picking_ids_not_to_backorder``.

A message must never be booked twice. Before validating, :class:`TransferBooking` notes the
transfer in the connection's state under a key of the message; a retry after a lost answer
finds the note, sees the transfer ``done`` and books nothing again. The note stays, so a
backfill of the same message books nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.odoo.rpc import OdooClient
from connectors.sdk import ConnectorState


class TransferRefused(Exception):
    """Odoo holds nothing a message can be booked on, or will not book it: a permanent failure."""


@dataclass(frozen=True)
class Recalled:
    """What former attempts at booking the same message left behind (at most one of
    ``booked``, ``validated`` and ``open`` is set)."""

    booked: str | None = None
    """The name of the transfer the message was booked on, the booking finished."""
    validated: dict[str, Any] | None = None
    """The transfer the message was validated on, the booking not noted finished."""
    open: dict[str, Any] | None = None
    """The open transfer an attempt was booking when it stopped: book on it again."""
    remembered: dict[str, Any] = field(default_factory=dict)
    """What that attempt asked to remember (``remember`` of :meth:`TransferBooking.validate`)."""


class TransferBooking:
    """The booking of one message on one transfer, remembered under ``note_key``."""

    def __init__(self, client: OdooClient, state: ConnectorState, note_key: str) -> None:
        self._client = client
        self._state = state
        self._key = note_key

    async def recall(self) -> Recalled:
        """What former attempts at this message did (see :class:`Recalled`)."""
        note = await self._state.get(self._key)
        if not isinstance(note, dict):
            return Recalled()
        if note.get("phase") == "done":
            return Recalled(booked=str(note.get("name")))
        if not isinstance(note.get("picking"), int):
            return Recalled()
        rows = await self._client.search_read(
            "stock.picking", [("id", "=", note["picking"])], ["name", "state"]
        )
        if not rows or rows[0]["state"] == "cancel":
            return Recalled()  # gone, or cancelled since: the message finds its transfer anew
        remembered = note.get("remembered")
        kept = remembered if isinstance(remembered, dict) else {}
        if rows[0]["state"] == "done":
            return Recalled(validated=rows[0], remembered=kept)
        return Recalled(open=rows[0], remembered=kept)

    async def validate(
        self,
        picking: dict[str, Any],
        quantities: dict[int, Decimal],
        *,
        backorder: bool,
        remember: dict[str, Any] | None = None,
    ) -> None:
        """Set ``quantities`` (move id → what moved) on ``picking``'s moves and validate it.

        ``remember`` (JSON) is noted with the booking before anything is written, for a
        retry to find in :attr:`Recalled.remembered`. Raises :class:`TransferRefused` when
        Odoo asks a person to answer a wizard first.
        """
        # Noted first: a retry after any of the calls below books on this transfer again.
        await self._state.put(
            self._key,
            {
                "picking": picking["id"],
                "name": picking["name"],
                "phase": "validating",
                "remembered": remember or {},
            },
        )
        by_quantity: dict[Decimal, list[int]] = {}
        for move_id, quantity in quantities.items():
            by_quantity.setdefault(quantity, []).append(move_id)
        for quantity, move_ids in by_quantity.items():
            await self._client.execute(
                "stock.move", "write", [move_ids, {"quantity": float(quantity), "picked": True}]
            )
        context: dict[str, Any] = {"skip_backorder": True}
        if not backorder:
            context["picking_ids_not_to_backorder"] = [picking["id"]]
        answer = await self._client.execute(
            "stock.picking", "button_validate", [[picking["id"]]], context=context
        )
        if isinstance(answer, dict):
            # An action: Odoo wants a person to answer a wizard (lots, expiry dates, …).
            wizard = answer.get("res_model") or answer.get("name") or "a wizard"
            raise TransferRefused(
                f"Odoo asks for {wizard} before {picking['name']} can be validated"
            )

    async def finish(self) -> None:
        """Note the booking finished: the message is never booked again."""
        note = await self._state.get(self._key)
        if isinstance(note, dict):
            await self._state.put(self._key, {**note, "phase": "done"})


def spread(moves: list[dict[str, Any]], quantity: Decimal, capacity: str) -> dict[int, Decimal]:
    """``quantity`` of one product over its ``moves``, in order: each move takes up to its
    ``capacity`` field (the demand, or what is reserved), the last one the rest."""
    shares: dict[int, Decimal] = {}
    for move in moves[:-1]:
        share = min(quantity, odoo_decimal(move[capacity]))
        shares[move["id"]] = share
        quantity -= share
    shares[moves[-1]["id"]] = quantity
    return shares


def odoo_decimal(value: Any) -> Decimal:
    """An Odoo float as the decimal it was rounded to (its shortest text)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def quantity_text(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def product_id(move: dict[str, Any]) -> int | None:
    """The product of a move as Odoo answers it (``[id, name]``)."""
    product = move.get("product_id")
    if isinstance(product, list) and product:
        return int(product[0])
    return product if isinstance(product, int) and not isinstance(product, bool) else None
