"""850 Purchase Order: written from a route-mapped payload, and read back.

Payload (what the route's mapping makes of a ``po_release.released`` message)::

    {"transaction_set": "850", "purpose": "00", "order_type": "SA",
     "po_number": "PO-4500018231", "po_date": "2026-03-16", "currency": "USD",
     "sales_requirement": "Y", "incoterm": "FCA",
     "references": {"IA": "VEND-ACME-0042"}, "dates": {"002": "2026-03-27"},
     "parties": {"BY": {"id_qualifier": "92", "id": "BUY-1"}, "ST": {...}},
     "lines": [{"line_id": "1", "quantity": 400, "uom": "CA", "unit_price": 38.75,
                "price_basis": "PE",
                "product_ids": {"BP": "NTR-GLV-L-CS10", "VP": "AC-NG-L-10", "UK": "10085741200343"},
                "description": "Nitrile exam gloves", "dates": {"002": "2026-03-27"}}]}

Segments: BEG, CUR, REF, FOB (``FOB*DF***01*<incoterm>``: Incoterms in FOB05), CSH
(``Y`` backorder if out of stock, ``N`` no backorder), DTM, N1 loops, then per line PO1,
PID, DTM, and CTT (line count and the quantities' hash total).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from connectors.x12.elements import (
    date_of,
    decimal_text,
    missing_segment,
    optional,
    required,
    required_date,
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
    write_dates,
    write_parties,
    write_references,
)
from connectors.x12.sets.payloads import (
    Amount,
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

SET_ID = "850"


class PurchaseOrderLine(Model):
    line_id: Text
    quantity: Quantity
    uom: Unit
    unit_price: Amount | None = None
    price_basis: Code | None = None
    product_ids: ProductIds
    description: Text | None = None
    dates: Dates = Field(default_factory=dict)


class PurchaseOrder(Model):
    """The payload of an 850 (validated in ``send``)."""

    transaction_set: Literal["850"]
    purpose: Code = "00"
    order_type: Code = "SA"
    po_number: Text
    release_number: Text | None = None
    po_date: date
    currency: Code | None = None
    sales_requirement: Code | None = None
    incoterm: Code | None = None
    references: References = Field(default_factory=dict)
    dates: Dates = Field(default_factory=dict)
    parties: Parties = Field(default_factory=dict)
    lines: list[PurchaseOrderLine] = Field(min_length=1)


def write(order: PurchaseOrder) -> list[BodySegment]:
    """The 850's segments between ST and SE."""
    body: list[BodySegment] = [
        [
            "BEG",
            order.purpose,
            order.order_type,
            order.po_number,
            order.release_number or "",
            x12_date(order.po_date),
        ]
    ]
    if order.currency:
        body.append(["CUR", "BY", order.currency])
    body.extend(write_references("REF", order.references))
    if order.incoterm:
        body.append(["FOB", "DF", "", "", "01", order.incoterm])
    if order.sales_requirement:
        body.append(["CSH", order.sales_requirement])
    body.extend(write_dates("DTM", {k: v.isoformat() for k, v in order.dates.items()}))
    body.extend(write_parties({k: v.model_dump() for k, v in order.parties.items()}))
    for line in order.lines:
        priced = line.unit_price is not None
        body.append(
            [
                "PO1",
                line.line_id,
                x12_decimal(line.quantity),
                line.uom,
                x12_decimal(line.unit_price) if line.unit_price is not None else "",
                (line.price_basis or "") if priced else "",
                *product_id_pairs(line.product_ids, 10),
            ]
        )
        if line.description:
            body.append(["PID", "F", "", "", "", line.description])
        body.extend(write_dates("DTM", {k: v.isoformat() for k, v in line.dates.items()}))
    body.append(
        ["CTT", str(len(order.lines)), count_hash(str(line.quantity) for line in order.lines)]
    )
    return body


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    """An 850 as its payload document (the inverse of :func:`write`)."""
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or parties.read(segment, position):
            continue
        if tag == "BEG":
            began = True
            document.update(
                purpose=required(segment, position, 1, "the purpose code"),
                order_type=required(segment, position, 2, "the order type"),
                po_number=required(segment, position, 3, "the PO number"),
                release_number=optional(segment, 4),
                po_date=required_date(segment, position, 5, "the PO date"),
            )
        elif tag == "CUR":
            document["currency"] = optional(segment, 2)
        elif tag == "REF":
            read_reference(segment, position, references)
        elif tag == "FOB":
            document["incoterm"] = optional(segment, 5)
        elif tag == "CSH":
            document["sales_requirement"] = optional(segment, 1)
        elif tag == "DTM":
            target = dates if line is None else line.setdefault("dates", {})
            day = date_of(segment, position, 2, "the date")
            if day is not None:
                put(target, required(segment, position, 1, "the date qualifier"), day)
        elif tag == "PO1":
            line = {
                "line_id": required(segment, position, 1, "the line id"),
                "quantity": required_decimal(segment, position, 2, "the quantity"),
                "uom": required(segment, position, 3, "the unit"),
                "unit_price": decimal_text(segment, position, 4, "the unit price"),
                "price_basis": optional(segment, 5),
                "product_ids": {},
            }
            read_product_ids(segment, position, 6, line["product_ids"])
            lines.append(line)
        elif tag == "PID" and line is not None:
            line["description"] = optional(segment, 5)
    if not began:
        raise missing_segment("BEG", 2, "beginning segment for purchase order")
    document.update(references=references, dates=dates, parties=parties.parties, lines=lines)
    return prune(document)
