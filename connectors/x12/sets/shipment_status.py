"""214 Transportation Carrier Shipment Status Message, read from a carrier (the TMS side).

Document (the record data of kind ``x12/214``)::

    {"transaction_set": "214", "pro_number": "ODFL-7814402215",
     "shipment_id": "TO-ATL-DAL-26-0193", "scac": "ODFL",
     "references": {"BM": "..."}, "parties": {"SF": {...}, "ST": {...}},
     "statuses": [{"line_id": "1", "code": "SD", "reason": "AO",
                   "appointment_code": null, "date": "2026-03-18", "time": "03:12",
                   "time_code": "ET", "at": "2026-03-18T03:12:00-04:00",
                   "city": "Memphis", "state": "TN", "country": "US",
                   "equipment": {"scac": "ODFL", "number": "TRL-88"},
                   "references": {...}, "sscc": "..."}],
     "orders": [{"po_number": "...", "reference": "NTR-GLV-L-CS10", "uom": "CS",
                 "quantity": "80", "weight_uom": "L", "weight": "..."}],
     "eta": "2026-03-19T10:00:00-05:00"}

``statuses`` are the AT7 segments in the order sent (AT701 shipment status: X3 arrived at
pick-up, AF departed pick-up, X6 en route, X1 arrived at delivery, D1 completed
unloading, SD shipment delayed, AG estimated delivery, ...) with where (MS1) and on what
(MS2) it happened; AT707 names the time zone of AT705/AT706 when given, else the
connection's. ``eta`` is the date and time of the last AG (estimated delivery) status.
``orders`` are the SPO segments: in this connector's 214 profile SPO02 carries the item
(SKU) and SPO04 its quantity, so a transfer's lines can follow the status.
"""

from __future__ import annotations

from typing import Any

from connectors.x12.elements import (
    date_of,
    decimal_text,
    element,
    missing_segment,
    moment_of,
    optional,
    required,
    time_of,
    zone_of,
)
from connectors.x12.envelope import TransactionSet
from connectors.x12.sets.loops import (
    Document,
    PartyReader,
    ReadContext,
    prune,
    put,
)
from connectors.x12.sets.ship_notice import sscc_of

SET_ID = "214"


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    document: Document = {"transaction_set": SET_ID}
    parties = PartyReader()
    references: dict[str, Any] = {}
    statuses: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    loop: dict[str, Any] | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag in ("ST", "SE") or (loop is None and parties.read(segment, position)):
            continue
        if tag == "B10":
            began = True
            document.update(
                pro_number=required(segment, position, 1, "the carrier's reference (PRO)"),
                shipment_id=required(segment, position, 2, "the shipment identification"),
                scac=optional(segment, 3),
            )
        elif tag == "L11":
            value, qualifier = optional(segment, 1), optional(segment, 2)
            if value and qualifier:
                put(
                    references if loop is None else loop.setdefault("references", {}),
                    qualifier,
                    value,
                )
        elif tag == "LX":
            loop = {"line_id": required(segment, position, 1, "the assigned number")}
        elif tag == "AT7":
            if loop is None:
                loop = {"line_id": str(len(statuses) + 1)}
            day = date_of(segment, position, 5, "the status date")
            clock = time_of(segment, position, 6, "the status time")
            time_code = optional(segment, 7)
            status = {
                **{k: v for k, v in loop.items() if k == "line_id"},
                "code": optional(segment, 1),
                "reason": optional(segment, 2),
                "appointment_code": optional(segment, 3),
                "appointment_reason": optional(segment, 4),
                "date": day,
                "time": clock,
                "time_code": time_code,
                "at": moment_of(day, clock, zone_of(time_code, context.zone)) if day else None,
            }
            statuses.append(status)
            loop = status
        elif tag == "MS1" and loop is not None:
            loop.update(
                city=optional(segment, 1), state=optional(segment, 2), country=optional(segment, 3)
            )
        elif tag == "MS2" and loop is not None:
            loop["equipment"] = {"scac": optional(segment, 1), "number": optional(segment, 2)}
        elif tag == "MAN" and loop is not None and element(segment, 1) == "GM":
            loop["sscc"] = sscc_of(element(segment, 2))
        elif tag == "SPO":
            orders.append(
                {
                    "po_number": optional(segment, 1),
                    "reference": optional(segment, 2),
                    "uom": optional(segment, 3),
                    "quantity": decimal_text(segment, position, 4, "the quantity"),
                    "weight_uom": optional(segment, 5),
                    "weight": decimal_text(segment, position, 6, "the weight"),
                }
            )
    if not began:
        raise missing_segment(
            "B10", 2, "beginning segment for transportation carrier shipment status"
        )
    estimated = [s for s in statuses if s.get("code") == "AG" and s.get("at")]
    if estimated:
        document["eta"] = estimated[-1]["at"]
    document.update(
        references=references, parties=parties.parties, statuses=statuses, orders=orders
    )
    return prune(document)
