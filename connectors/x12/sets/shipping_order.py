"""940 Warehouse Shipping Order: written from a route-mapped payload, and read back.

The depositor (us) asks a 3PL warehouse to pick and ship an order. Payload (what the
route's mapping makes of, e.g., a ``reservation.released`` message)::

    {"transaction_set": "940", "purpose": "N", "depositor_order_number": "RSV-2026-000377",
     "po_number": "SO-2026-004390",
     "parties": {"ST": {"id_qualifier": "91", "id": "CUST-US-01204"},
                 "WH": {"id_qualifier": "92", "id": "DC-CHI"}},
     "references": {"CO": "SO-2026-004390"}, "dates": {"10": "2026-03-12"},
     "carrier": {"payment": "PP", "method": "M", "scac": "ODFL"},
     "lines": [{"line_id": "1", "quantity": 15, "uom": "BX", "upc": "...",
                "product_ids": {"SK": "FAS-M8X30-ZN", "UK": "04260512001186"},
                "lot": "L1", "description": "Hex bolt"}]}

Segments: W05 (order status, depositor order number, PO number), N1 loops, N9 references,
G62 dates (``10`` requested ship date), W66 carrier (payment, method, routing, SCAC), then
per line LX, W01 (quantity, unit, U.P.C., two product id pairs, lot in W0113), G69
description, and W76 with the total quantity.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from connectors.x12.elements import (
    date_of,
    missing_segment,
    optional,
    required,
    required_decimal,
    x12_date,
    x12_decimal,
)
from connectors.x12.envelope import TransactionSet
from connectors.x12.sets.loops import (
    Document,
    PartyReader,
    ReadContext,
    count_hash,
    product_id_pairs,
    prune,
    put,
    read_product_ids,
    read_reference,
    write_parties,
    write_references,
)
from connectors.x12.sets.payloads import (
    Code,
    Dates,
    Model,
    Parties,
    ProductIds,
    Quantity,
    References,
    Text,
    Unit,
)
from connectors.x12.writer import BodySegment

SET_ID = "940"


class Carrier(Model):
    """W66: shipment method of payment, transportation method, routing, SCAC."""

    payment: Code = "PP"
    method: Code = "M"
    routing: Text | None = None
    scac: Code | None = None


class ShippingOrderLine(Model):
    line_id: Text
    quantity: Quantity
    uom: Unit
    upc: Text | None = None
    product_ids: ProductIds
    lot: Text | None = None
    description: Text | None = None


class ShippingOrder(Model):
    """The payload of a 940 (validated in ``send``)."""

    transaction_set: Literal["940"]
    purpose: Code = "N"
    depositor_order_number: Text
    po_number: Text | None = None
    parties: Parties = Field(default_factory=dict)
    references: References = Field(default_factory=dict)
    dates: Dates = Field(default_factory=dict)
    carrier: Carrier | None = None
    lines: list[ShippingOrderLine] = Field(min_length=1)


def write(order: ShippingOrder) -> list[BodySegment]:
    """The 940's segments between ST and SE."""
    body: list[BodySegment] = [
        ["W05", order.purpose, order.depositor_order_number, order.po_number or ""]
    ]
    body.extend(write_parties({k: v.model_dump() for k, v in order.parties.items()}))
    body.extend(write_references("N9", order.references))
    body.extend(["G62", k.split("_")[0], x12_date(v)] for k, v in order.dates.items())
    if order.carrier is not None:
        carrier = order.carrier
        body.append(
            [
                "W66",
                carrier.payment,
                carrier.method,
                "",
                "",
                carrier.routing or "",
                "",
                "",
                "",
                "",
                carrier.scac or "",
            ]
        )
    for line in order.lines:
        body.append(["LX", line.line_id])
        ids = product_id_pairs(line.product_ids, 2)
        ids += [""] * (4 - len(ids))
        w01 = ["W01", x12_decimal(line.quantity), line.uom, line.upc or "", *ids]
        if line.lot:
            w01 += ["", "", "", "", "", line.lot]
        body.append(w01)
        if line.description:
            body.append(["G69", line.description])
    body.append(["W76", count_hash(str(line.quantity) for line in order.lines)])
    return body


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    """A 940 as its payload document (the inverse of :func:`write`)."""
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    line_id: str | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or parties.read(segment, position):
            continue
        if tag == "W05":
            began = True
            document.update(
                purpose=required(segment, position, 1, "the order status code"),
                depositor_order_number=required(segment, position, 2, "the depositor order number"),
                po_number=optional(segment, 3),
            )
        elif tag == "N9" and line is None:
            read_reference(segment, position, references)
        elif tag == "G62":
            day = date_of(segment, position, 2, "the date")
            if day is not None:
                put(dates, required(segment, position, 1, "the date qualifier"), day)
        elif tag == "W66":
            document["carrier"] = {
                "payment": optional(segment, 1),
                "method": optional(segment, 2),
                "routing": optional(segment, 5),
                "scac": optional(segment, 10),
            }
        elif tag == "LX":
            line_id = required(segment, position, 1, "the line number")
        elif tag == "W01":
            line = {
                "line_id": line_id or str(len(lines) + 1),
                "quantity": required_decimal(segment, position, 1, "the quantity"),
                "uom": required(segment, position, 2, "the unit"),
                "upc": optional(segment, 3),
                "product_ids": {},
                "lot": optional(segment, 13),
            }
            read_product_ids(segment, position, 4, line["product_ids"], last=7)
            lines.append(line)
        elif tag == "G69" and line is not None:
            line["description"] = optional(segment, 1)
    if not began:
        raise missing_segment("W05", 2, "shipping order identification")
    document.update(parties=parties.parties, references=references, dates=dates, lines=lines)
    return prune(document)
