"""855 Purchase Order Acknowledgment, read from a supplier.

Document (the record data of kind ``x12/855``)::

    {"transaction_set": "855", "purpose": "00", "ack_type": "AC",
     "po_number": "PO-4500018231", "po_date": "2026-03-16", "release_number": null,
     "seller_order_number": "SO-88812", "ack_date": "2026-03-16", "currency": "USD",
     "references": {...}, "dates": {...}, "parties": {"SU": {...}, "ST": {...}},
     "lines": [{"line_id": "1", "quantity": "400", "uom": "CA", "unit_price": "38.75",
                "price_basis": "PE", "product_ids": {"BP": "...", "VP": "...", "UK": "..."},
                "description": "...", "dates": {...},
                "acks": [{"status": "IA", "quantity": "400", "uom": "CA",
                          "date_qualifier": "068", "date": "2026-03-26"}]}],
     "line_count": 4}

Each PO1 line carries its ACK segments in order: ``status`` is ACK01 (IA accepted, IB
backordered, IQ quantity changed, BP partial shipment/balance backordered, IR rejected,
...), ``quantity`` ACK02 and ``date`` ACK05 with its qualifier ACK04 (068 current
schedule ship, 067 current schedule delivery).
"""

from __future__ import annotations

from typing import Any

from connectors.x12.elements import (
    date_of,
    decimal_text,
    integer,
    missing_segment,
    optional,
    required,
    required_date,
    required_decimal,
)
from connectors.x12.envelope import TransactionSet
from connectors.x12.sets.loops import (
    Document,
    PartyReader,
    ReadContext,
    prune,
    read_dated,
    read_product_ids,
    read_reference,
)

SET_ID = "855"


def read(transaction: TransactionSet, context: ReadContext) -> Document:
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
        if tag == "BAK":
            began = True
            document.update(
                purpose=required(segment, position, 1, "the purpose code"),
                ack_type=required(segment, position, 2, "the acknowledgment type"),
                po_number=required(segment, position, 3, "the PO number"),
                po_date=required_date(segment, position, 4, "the PO date"),
                release_number=optional(segment, 5),
                seller_order_number=optional(segment, 8),
                ack_date=date_of(segment, position, 9, "the acknowledgment date"),
            )
        elif tag == "CUR":
            document["currency"] = optional(segment, 2)
        elif tag == "REF":
            read_reference(
                segment, position, references if line is None else line.setdefault("references", {})
            )
        elif tag == "DTM":
            read_dated(
                segment, position, context, dates if line is None else line.setdefault("dates", {})
            )
        elif tag == "PO1":
            line = {
                "line_id": required(segment, position, 1, "the line id"),
                "quantity": required_decimal(segment, position, 2, "the quantity ordered"),
                "uom": required(segment, position, 3, "the unit"),
                "unit_price": decimal_text(segment, position, 4, "the unit price"),
                "price_basis": optional(segment, 5),
                "product_ids": {},
                "acks": [],
            }
            read_product_ids(segment, position, 6, line["product_ids"])
            lines.append(line)
        elif tag == "PID" and line is not None:
            line["description"] = optional(segment, 5)
        elif tag == "ACK" and line is not None:
            line["acks"].append(
                {
                    "status": required(segment, position, 1, "the line item status code"),
                    "quantity": decimal_text(segment, position, 2, "the acknowledged quantity"),
                    "uom": optional(segment, 3),
                    "date_qualifier": optional(segment, 4),
                    "date": date_of(segment, position, 5, "the acknowledged date"),
                }
            )
        elif tag == "CTT":
            document["line_count"] = integer(segment, position, 1, "the number of line items")
    if not began:
        raise missing_segment("BAK", 2, "beginning segment for purchase order acknowledgment")
    document.update(references=references, dates=dates, parties=parties.parties, lines=lines)
    return prune(document)
