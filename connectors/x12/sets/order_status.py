"""870 Order Status Report, read from a supplier: the status of ordered lines.

Document (the whole set; the connector makes one record per item, see :func:`split`)::

    {"transaction_set": "870", "status_report_code": "2", "order_item_code": "PP",
     "report_number": "OSR-1", "date": "2026-03-24", "parties": {...},
     "references": {...}, "dates": {...},
     "orders": [{"po_number": "PO-4500018231", "po_date": "2026-03-16"}],
     "items": [{"line_no": 1, "line_id": "4", "po_number": "PO-4500018231",
                "quantity_ordered": "180", "uom": "CA", "unit_price": "27.6",
                "product_ids": {...}, "description": "...",
                "status": "BP", "status_date": "2026-03-24", "status_reason": "...",
                "quantities": {"...": "..."},
                "schedules": [{"quantity": "24", "uom": "CA", "date_qualifier": "068",
                               "date": "2026-03-31"}],
                "scheduled_total": "24", "dates": {...}}]}

The detail is an HL tree (order O, item I) or plain PO1 loops after a PRF; both read the
same. ``status`` is ISR01 (the X12 870 item status: BO back ordered, BP partial
shipment/balance backordered, DS out of stock, IC item cancelled, IS substitution, ...).
The quantity still to come is scheduled in SCH segments (quantity, unit, date);
``scheduled_total`` is derived, their sum.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.x12.elements import (
    date_of,
    decimal_text,
    missing_segment,
    optional,
    required,
    required_decimal,
    x12_decimal,
)
from connectors.x12.envelope import TransactionSet
from connectors.x12.sets.loops import (
    Document,
    PartyReader,
    ReadContext,
    prune,
    put,
    read_dated,
    read_product_ids,
    read_reference,
)

SET_ID = "870"


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    order: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or (item is None and parties.read(segment, position)):
            continue
        if tag == "BSR":
            began = True
            document.update(
                status_report_code=required(segment, position, 1, "the status report code"),
                order_item_code=required(segment, position, 2, "the order/item code"),
                report_number=required(segment, position, 3, "the report number"),
                date=date_of(segment, position, 4, "the report date"),
            )
        elif tag == "HL":
            if optional(segment, 3) == "O":
                item = None
        elif tag == "PRF":
            order = {
                "po_number": required(segment, position, 1, "the PO number"),
                "release_number": optional(segment, 2),
                "po_date": date_of(segment, position, 4, "the PO date"),
            }
            orders.append(order)
            item = None
        elif tag == "PO1":
            item = {
                "line_no": len(items) + 1,
                "line_id": optional(segment, 1),
                "po_number": order["po_number"] if order else None,
                "quantity_ordered": decimal_text(segment, position, 2, "the quantity ordered"),
                "uom": optional(segment, 3),
                "unit_price": decimal_text(segment, position, 4, "the unit price"),
                "product_ids": {},
                "quantities": {},
                "schedules": [],
            }
            read_product_ids(segment, position, 6, item["product_ids"])
            items.append(item)
        elif item is None:
            if tag == "REF":
                read_reference(segment, position, references)
            elif tag == "DTM":
                read_dated(segment, position, context, dates)
        elif tag == "ISR":
            item.update(
                status=required(segment, position, 1, "the status code"),
                status_date=date_of(segment, position, 2, "the status date"),
                status_reason=optional(segment, 3),
            )
        elif tag == "QTY":
            quantity = required_decimal(segment, position, 2, "the quantity")
            put(
                item["quantities"],
                required(segment, position, 1, "the quantity qualifier"),
                quantity,
            )
        elif tag == "SCH":
            item["schedules"].append(
                {
                    "quantity": required_decimal(segment, position, 1, "the scheduled quantity"),
                    "uom": required(segment, position, 2, "the unit"),
                    "date_qualifier": optional(segment, 5),
                    "date": date_of(segment, position, 6, "the scheduled date"),
                }
            )
        elif tag == "PID":
            item["description"] = optional(segment, 5)
        elif tag == "DTM":
            read_dated(segment, position, context, item.setdefault("dates", {}))
        elif tag == "REF":
            read_reference(segment, position, item.setdefault("references", {}))
    if not began:
        raise missing_segment("BSR", 2, "beginning segment for order status report")
    for entry in items:
        if entry["schedules"]:
            total = sum((Decimal(s["quantity"]) for s in entry["schedules"]), Decimal(0))
            entry["scheduled_total"] = x12_decimal(total)
    document.update(
        parties=parties.parties, references=references, dates=dates, orders=orders, items=items
    )
    return prune(document)


def split(document: Document) -> list[tuple[str, Document]]:
    """One record per item: the report's header with that one item (``"item"``).

    A backorder is one order line's unfilled balance, so each item of the report is its
    own canonical message. The suffix (``:<line_no>``) keeps record ids unique.
    """
    header = {key: value for key, value in document.items() if key not in ("items", "orders")}
    return [(f":{item['line_no']}", {**header, "item": item}) for item in document.get("items", [])]
