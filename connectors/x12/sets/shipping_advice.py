"""945 Warehouse Shipping Advice, read from a 3PL warehouse: what it shipped, and what not.

Document (the record data of kind ``x12/945``)::

    {"transaction_set": "945", "reporting_code": "F",
     "depositor_order_number": "TO-ATL-DAL-26-0193", "ship_date": "2026-03-16",
     "shipment_id": "...", "agent_shipment_id": "...", "po_number": "...",
     "parties": {"SF": {...}, "ST": {...}}, "references": {"BM": "...", "CN": "..."},
     "dates": {...},
     "carrier": {"method": "M", "scac": "ODFL", "routing": "...", "payment": "PP"},
     "lines": [{"line_id": "3", "sscc": "008574120000004825", "status": "CP",
                "quantity_ordered": "60", "quantity_shipped": "54",
                "quantity_difference": "6", "uom": "RL", "upc": "...",
                "product_ids": {"VN": "PKG-STRW-18"}, "lot": "...",
                "change_reason": "...", "description": "...", "references": {...}}],
     "total_shipped": "278"}

Each W12 is one line: ``status`` is W1201 (CC shipped complete, CP partial and the
balance cancelled, PR partial and the balance backordered, ...), ordered, shipped and the
difference (W1202-W1204) — the short-ship — in W1205's unit. ``sscc`` comes from the MAN
GM of the LX loop the W12 sits in; ``line_id`` is that LX's number.
"""

from __future__ import annotations

from typing import Any

from connectors.x12.elements import (
    date_of,
    decimal_text,
    element,
    missing_segment,
    optional,
    required,
    required_decimal,
)
from connectors.x12.envelope import TransactionSet
from connectors.x12.sets.loops import (
    Document,
    PartyReader,
    ReadContext,
    prune,
    put,
    read_product_ids,
    read_reference,
)
from connectors.x12.sets.ship_notice import sscc_of

SET_ID = "945"


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    loop_id: str | None = None
    loop_sscc: str | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or parties.read(segment, position):
            continue
        if tag == "W06":
            began = True
            document.update(
                reporting_code=required(segment, position, 1, "the reporting code"),
                depositor_order_number=optional(segment, 2),
                ship_date=date_of(segment, position, 3, "the ship date"),
                shipment_id=optional(segment, 4),
                agent_shipment_id=optional(segment, 5),
                po_number=optional(segment, 6),
            )
        elif tag == "LX":
            loop_id = required(segment, position, 1, "the line number")
            loop_sscc = None
            line = None
        elif tag == "MAN" and loop_id is not None:
            if element(segment, 1) == "GM":
                loop_sscc = sscc_of(element(segment, 2))
        elif tag == "W12":
            line = {
                "line_id": loop_id or str(len(lines) + 1),
                "sscc": loop_sscc,
                "status": required(segment, position, 1, "the shipment/order status code"),
                "quantity_ordered": decimal_text(segment, position, 2, "the quantity ordered"),
                "quantity_shipped": required_decimal(segment, position, 3, "the units shipped"),
                "quantity_difference": decimal_text(
                    segment, position, 4, "the quantity difference"
                ),
                "uom": required(segment, position, 5, "the unit"),
                "upc": optional(segment, 6),
                "product_ids": {},
                "lot": optional(segment, 9),
                "change_reason": optional(segment, 19),
            }
            read_product_ids(segment, position, 7, line["product_ids"], last=8)
            read_product_ids(segment, position, 17, line["product_ids"], last=18)
            lines.append(line)
        elif tag == "N9":
            read_reference(
                segment, position, references if line is None else line.setdefault("references", {})
            )
        elif tag == "G62":
            day = date_of(segment, position, 2, "the date")
            if day is not None:
                put(dates, required(segment, position, 1, "the date qualifier"), day)
        elif tag == "G69" and line is not None:
            line["description"] = optional(segment, 1)
        elif tag == "W27":
            document["carrier"] = {
                "method": optional(segment, 1),
                "scac": optional(segment, 2),
                "routing": optional(segment, 3),
                "payment": optional(segment, 4),
            }
        elif tag == "W03":
            document["total_shipped"] = decimal_text(segment, position, 1, "the total shipped")
    if not began:
        raise missing_segment("W06", 2, "warehouse shipment identification")
    document.update(parties=parties.parties, references=references, dates=dates, lines=lines)
    return prune(document)
