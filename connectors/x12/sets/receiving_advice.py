"""861 Receiving Advice/Acceptance Certificate, read from a warehouse or customer.

Document (the record data of kind ``x12/861``)::

    {"transaction_set": "861", "receipt_id": "RCV-ATL-26-00917", "date": "2026-03-26",
     "time": "14:37", "created_at": "2026-03-26T14:37:00-04:00", "purpose": "00",
     "advice_type": "1", "po_number": "PO-4500018231",
     "references": {"SI": "ACME-ASN-558120"}, "dates": {"050": {...}}, "parties": {...},
     "lines": [{"line_id": "2", "received": "228", "uom": "CA", "returned": "12",
                "returned_uom": "CA",
                "conditions": [{"quantity": "12", "uom": "CA", "code": "01"}],
                "received_total": "240", "shipped": "240", "shipped_uom": "CA",
                "product_ids": {...}, "description": "...", "references": {"LT": "..."},
                "dates": {"036": {...}}, "po_number": "...", "sscc": "..."}],
     "line_count": 3}

Per line (RCD): ``received`` is RCD02, the units received and accepted; ``returned`` RCD04,
the units returned (rejected); ``conditions`` the quantities in question with their
receiving condition codes (RCD06-08, 09-11, ...: 01 damaged, 02 short, 03 over, 04 quality
problem, 05 incorrect product, 07 good condition, 09 hold, 13/14 no matching ship
notice). ``received_total`` is derived: received plus returned, all that came in.
``shipped`` is the quantity the shipper advised (SN1 in the RCD loop), when given. Units
are the first component of the C001 composite.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.x12.elements import (
    decimal_text,
    element,
    integer,
    missing_segment,
    moment_of,
    optional,
    required,
    required_date,
    time_of,
    x12_decimal,
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
from connectors.x12.sets.ship_notice import sscc_of

SET_ID = "861"


def _unit(segment: list[str], number: int, component: str) -> str | None:
    value = element(segment, number)
    return value.split(component)[0] or None if value else None


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    component = context.component
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or (line is None and parties.read(segment, position)):
            continue
        if tag == "BRA":
            began = True
            day = required_date(segment, position, 2, "the receiving advice date")
            clock = time_of(segment, position, 5, "the receiving advice time")
            document.update(
                receipt_id=required(segment, position, 1, "the receiving advice number"),
                date=day,
                time=clock,
                created_at=moment_of(day, clock, context.zone),
                purpose=required(segment, position, 3, "the purpose code"),
                advice_type=required(segment, position, 4, "the receiving advice type"),
            )
        elif tag == "RCD":
            received = decimal_text(segment, position, 2, "the units received")
            returned = decimal_text(segment, position, 4, "the units returned")
            conditions = []
            for first in range(6, len(segment), 3):
                quantity = decimal_text(segment, position, first, "the quantity in question")
                if quantity is not None or element(segment, first + 2):
                    conditions.append(
                        {
                            "quantity": quantity,
                            "uom": _unit(segment, first + 1, component),
                            "code": optional(segment, first + 2),
                        }
                    )
            line = {
                "line_id": optional(segment, 1),
                "received": received,
                "uom": _unit(segment, 3, component),
                "returned": returned,
                "returned_uom": _unit(segment, 5, component),
                "conditions": conditions,
                "received_total": x12_decimal(Decimal(received or 0) + Decimal(returned or 0)),
                "product_ids": {},
            }
            if line["uom"] is None:
                line["uom"] = line["returned_uom"] or (conditions[0]["uom"] if conditions else None)
            lines.append(line)
        elif line is None:
            if tag == "REF":
                read_reference(segment, position, references)
            elif tag == "DTM":
                read_dated(segment, position, context, dates)
            elif tag == "PRF":
                document["po_number"] = required(segment, position, 1, "the PO number")
        elif tag == "LIN":
            read_product_ids(segment, position, 2, line["product_ids"])
        elif tag == "SN1":
            line["shipped"] = decimal_text(segment, position, 2, "the units shipped")
            line["shipped_uom"] = optional(segment, 3)
        elif tag == "PID":
            line["description"] = optional(segment, 5)
        elif tag == "REF":
            read_reference(segment, position, line.setdefault("references", {}))
        elif tag == "DTM":
            read_dated(segment, position, context, line.setdefault("dates", {}))
        elif tag == "PRF":
            line["po_number"] = required(segment, position, 1, "the PO number")
        elif tag == "MAN" and element(segment, 1) == "GM":
            line["sscc"] = sscc_of(element(segment, 2))
        if tag == "CTT":
            document["line_count"] = integer(segment, position, 1, "the number of line items")
    if not began:
        raise missing_segment("BRA", 2, "beginning segment for receiving advice")
    document.update(references=references, dates=dates, parties=parties.parties, lines=lines)
    return prune(document)
