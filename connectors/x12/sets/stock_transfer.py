"""943 Warehouse Stock Transfer Shipment Advice (written) and 944 Receipt Advice (read).

**943**, sent to the receiving warehouse: stock is on its way to you. Payload (what the
route's mapping makes of a ``transfer.requested`` message)::

    {"transaction_set": "943", "reporting_code": "F",
     "depositor_order_number": "TO-ATL-DAL-26-0193", "ship_date": "2026-03-16",
     "shipment_id": "...", "po_number": "...",
     "parties": {"SF": {"id_qualifier": "92", "id": "DC-ATL"}, "ST": {...}},
     "references": {...}, "dates": {"17": "2026-03-18"},
     "carrier": {"method": "M", "scac": "ODFL"},
     "lines": [{"quantity": 80, "uom": "CS", "upc": "...",
                "product_ids": {"SK": "NTR-GLV-L-CS10", "UK": "10085741200343"},
                "lot": "GL2602-114", "description": "..."}]}

Segments: W06, N1 loops, N9, G62, W27 (transportation method, SCAC, routing), per line
W04 (quantity, unit, U.P.C., two product id pairs), G69, N9 ``LT`` (the lot), and W03
with the total quantity.

**944**, from the receiving warehouse: what it counted in. Document (the record data)::

    {"transaction_set": "944", "reporting_code": "F", "date": "2026-03-19",
     "receipt_number": "R-1", "depositor_order_number": "TO-...", "shipment_id": "...",
     "received_at": "2026-03-19T13:47:00Z", "parties": {...}, "references": {...},
     "dates": {...},
     "lines": [{"quantity_received": "78", "uom": "CS", "upc": "...", "product_ids": {...},
                "lot": "...", "description": "...",
                "exceptions": [{"quantity": "2", "uom": "CS", "condition": "02",
                                "lot": "...", "reason": "..."}],
                "expected_quantity": "80"}],
     "total_received": "..."}

``exceptions`` are the W13 segments (condition: 01 damaged, 02 short, 03 over, 05
incorrect product, 08 rejected, ...). ``expected_quantity`` is derived: received, plus what
W13 reports short (02), minus what it reports over (03) — what the transfer asked to move,
which a 944 does not state itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from connectors.x12.elements import (
    date_of,
    decimal_text,
    missing_segment,
    moment_of,
    optional,
    required,
    required_date,
    required_decimal,
    time_of,
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

SHIPMENT_ADVICE = "943"
RECEIPT_ADVICE = "944"


class TransferCarrier(Model):
    """W27: transportation method (mandatory), SCAC, routing."""

    method: Code = "M"
    scac: Code | None = None
    routing: Text | None = None


class TransferLine(Model):
    quantity: Quantity
    uom: Unit
    upc: Text | None = None
    product_ids: ProductIds
    lot: Text | None = None
    description: Text | None = None


class TransferShipment(Model):
    """The payload of a 943 (validated in ``send``)."""

    transaction_set: Literal["943"]
    reporting_code: Code = "F"
    depositor_order_number: Text
    ship_date: date | None = None
    shipment_id: Text | None = None
    po_number: Text | None = None
    parties: Parties = Field(default_factory=dict)
    references: References = Field(default_factory=dict)
    dates: Dates = Field(default_factory=dict)
    carrier: TransferCarrier | None = None
    lines: list[TransferLine] = Field(min_length=1)


def write(shipment: TransferShipment) -> list[BodySegment]:
    """The 943's segments between ST and SE."""
    body: list[BodySegment] = [
        [
            "W06",
            shipment.reporting_code,
            shipment.depositor_order_number,
            x12_date(shipment.ship_date) if shipment.ship_date else "",
            shipment.shipment_id or "",
            "",
            shipment.po_number or "",
        ]
    ]
    body.extend(write_parties({k: v.model_dump() for k, v in shipment.parties.items()}))
    body.extend(write_references("N9", shipment.references))
    body.extend(["G62", k.split("_")[0], x12_date(v)] for k, v in shipment.dates.items())
    if shipment.carrier is not None:
        carrier = shipment.carrier
        body.append(["W27", carrier.method, carrier.scac or "", carrier.routing or ""])
    for line in shipment.lines:
        ids = product_id_pairs(line.product_ids, 2)
        body.append(["W04", x12_decimal(line.quantity), line.uom, line.upc or "", *ids])
        if line.description:
            body.append(["G69", line.description])
        if line.lot:
            body.append(["N9", "LT", line.lot])
    body.append(["W03", count_hash(str(line.quantity) for line in shipment.lines)])
    return body


def read_shipment(transaction: TransactionSet, context: ReadContext) -> Document:
    """A 943 as its payload document (the inverse of :func:`write`)."""
    document: Document = {"transaction_set": SHIPMENT_ADVICE}
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
        if tag == "W06":
            began = True
            document.update(
                reporting_code=required(segment, position, 1, "the reporting code"),
                depositor_order_number=required(segment, position, 2, "the depositor order number"),
                ship_date=date_of(segment, position, 3, "the ship date"),
                shipment_id=optional(segment, 4),
                po_number=optional(segment, 6),
            )
        elif tag == "N9":
            if line is None:
                read_reference(segment, position, references)
            elif required(segment, position, 1, "the reference qualifier") == "LT":
                line["lot"] = optional(segment, 2)
        elif tag == "G62":
            dated = date_of(segment, position, 2, "the date")
            if dated is not None:
                put(dates, required(segment, position, 1, "the date qualifier"), dated)
        elif tag == "W27":
            document["carrier"] = {
                "method": optional(segment, 1),
                "scac": optional(segment, 2),
                "routing": optional(segment, 3),
            }
        elif tag == "W04":
            line = {
                "quantity": required_decimal(segment, position, 1, "the quantity"),
                "uom": required(segment, position, 2, "the unit"),
                "upc": optional(segment, 3),
                "product_ids": {},
            }
            read_product_ids(segment, position, 4, line["product_ids"], last=7)
            lines.append(line)
        elif tag == "G69" and line is not None:
            line["description"] = optional(segment, 1)
    if not began:
        raise missing_segment("W06", 2, "warehouse shipment identification")
    document.update(parties=parties.parties, references=references, dates=dates, lines=lines)
    return prune(document)


def read_receipt(transaction: TransactionSet, context: ReadContext) -> Document:
    """A 944 as the record document described above."""
    document: Document = {"transaction_set": RECEIPT_ADVICE}
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
        if tag == "W17":
            began = True
            day = required_date(segment, position, 2, "the receipt date")
            clock = time_of(segment, position, 7, "the receipt time")
            document.update(
                reporting_code=required(segment, position, 1, "the reporting code"),
                date=day,
                receipt_number=required(segment, position, 3, "the warehouse receipt number"),
                depositor_order_number=optional(segment, 4),
                shipment_id=optional(segment, 5),
                received_at=moment_of(day, clock, context.zone),
            )
        elif tag == "N9":
            if line is None:
                read_reference(segment, position, references)
            else:
                read_reference(segment, position, line.setdefault("references", {}))
        elif tag == "G62":
            dated = date_of(segment, position, 2, "the date")
            if dated is not None:
                put(dates, required(segment, position, 1, "the date qualifier"), dated)
        elif tag == "W07":
            line = {
                "quantity_received": required_decimal(
                    segment, position, 1, "the quantity received"
                ),
                "uom": required(segment, position, 2, "the unit"),
                "upc": optional(segment, 3),
                "product_ids": {},
                "lot": optional(segment, 8),
                "exceptions": [],
            }
            read_product_ids(segment, position, 4, line["product_ids"], last=7)
            read_product_ids(segment, position, 10, line["product_ids"], last=11)
            lines.append(line)
        elif tag == "W13" and line is not None:
            line["exceptions"].append(
                {
                    "quantity": required_decimal(segment, position, 1, "the exception quantity"),
                    "uom": required(segment, position, 2, "the unit"),
                    "condition": required(segment, position, 3, "the receiving condition code"),
                    "lot": optional(segment, 4),
                    "reason": optional(segment, 5),
                }
            )
        elif tag == "G69" and line is not None:
            line["description"] = optional(segment, 1)
        elif tag == "W14":
            document["total_received"] = decimal_text(segment, position, 1, "the total received")
    if not began:
        raise missing_segment("W17", 2, "warehouse receipt identification")
    for item in lines:
        item["expected_quantity"] = _expected(item)
    document.update(parties=parties.parties, references=references, dates=dates, lines=lines)
    return prune(document)


def _expected(line: dict[str, Any]) -> str:
    expected = Decimal(line["quantity_received"])
    for exception in line["exceptions"]:
        if exception["condition"] == "02":
            expected += Decimal(exception["quantity"])
        elif exception["condition"] == "03":
            expected -= Decimal(exception["quantity"])
    return x12_decimal(expected)
