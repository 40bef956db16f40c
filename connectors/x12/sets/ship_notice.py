"""856 Ship Notice/Manifest (ASN), read from a supplier.

An 856 is a tree of HL (hierarchical level) segments: shipment (S), order (O), tare
(T, a pallet), pack (P, a carton or pallet) and item (I). HL02 names each level's parent,
so both the standard pick/pack (S-O-P-I, S-O-T-P-I) and the standard carton pack (S-O-I)
structures read the same way. The document flattens the tree for mappings: every item
knows its order's PO number and the SSCC of the nearest pack above it, and every pack
lists the line numbers of the items below it::

    {"transaction_set": "856", "purpose": "00", "shipment_id": "ACME-ASN-558120",
     "date": "2026-03-25", "time": "22:10:05", "created_at": "2026-03-25T22:10:05Z",
     "structure": "0001",
     "shipment": {"references": {"BM": "..."}, "dates": {"011": {...}, "017": {...}},
                  "parties": {"ST": {...}, "SF": {...}},
                  "carrier": {"routing_sequence": "B", "id_qualifier": "2", "scac": "ODFL",
                              "method": "M", "routing": "..."},
                  "packaging": {"code": "PLT94", "lading_quantity": "3", "weight": "..."}},
     "orders": [{"po_number": "PO-4500018231", "po_date": "2026-03-16", ...}],
     "packs": [{"level": "T", "sscc": "008574120000007314", "marks": {"GM": "..."},
                "packaging": "PLT", "po_number": "...", "line_nos": [1]}],
     "items": [{"line_no": 1, "line_id": "1", "product_ids": {...}, "quantity": "400",
                "uom": "CA", "quantity_ordered": "400", "ordered_uom": "CA",
                "description": "...", "references": {"LT": "..."},
                "dates": {"036": {"date": "2029-02-28"}}, "po_number": "...",
                "sscc": "008574120000007314"}],
     "line_count": 3}

``line_no`` numbers items in the order they appear (LIN01 may repeat when one PO line is
spread over several pallets). An SSCC comes from MAN with qualifier GM (SSCC-18 with
application identifier): ``00`` + 18 digits or the 18 digits alone.
"""

from __future__ import annotations

from typing import Any

from connectors.x12.elements import (
    date_of,
    decimal_text,
    fail,
    integer,
    missing_segment,
    moment_of,
    optional,
    required,
    required_date,
    time_of,
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

SET_ID = "856"


def sscc_of(marks: str) -> str | None:
    """The 18-digit SSCC in a MAN GM value (with or without its ``00`` application id)."""
    if len(marks) == 20 and marks.startswith("00") and marks.isdigit():
        return marks[2:]
    if len(marks) == 18 and marks.isdigit():
        return marks
    return None


class _Level:
    """One HL: its own data, and the nearest order and pack at or above it."""

    __slots__ = ("data", "order", "pack", "packs", "parties")

    def __init__(
        self,
        data: dict[str, Any],
        order: dict[str, Any] | None,
        pack: dict[str, Any] | None,
        packs: tuple[dict[str, Any], ...],
    ) -> None:
        self.data = data
        self.order = order
        self.pack = pack
        self.packs = packs
        self.parties: PartyReader | None = None


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    document: Document = {"transaction_set": SET_ID}
    shipment: dict[str, Any] = {}
    orders: list[dict[str, Any]] = []
    packs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    levels: dict[str, _Level] = {}
    item_levels: list[_Level] = []
    pack_levels: list[_Level] = []
    current: _Level | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag == "HL":
            current = _open_level(segment, position, levels, shipment, orders, packs, items)
            if "line_no" in current.data:
                item_levels.append(current)
            elif "line_nos" in current.data:
                pack_levels.append(current)
            continue
        if current is None:
            if tag == "BSN":
                began = True
                day = required_date(segment, position, 3, "the shipment date")
                clock = time_of(segment, position, 4, "the shipment time")
                document.update(
                    purpose=required(segment, position, 1, "the purpose code"),
                    shipment_id=required(segment, position, 2, "the shipment identification"),
                    date=day,
                    time=clock,
                    created_at=moment_of(day, clock, context.zone),
                    structure=optional(segment, 5),
                )
            elif tag == "DTM":
                read_dated(segment, position, context, shipment.setdefault("dates", {}))
            continue
        data = current.data
        if tag == "LIN":
            data["line_id"] = optional(segment, 1)
            read_product_ids(segment, position, 2, data.setdefault("product_ids", {}))
        elif tag == "SN1":
            data["quantity"] = decimal_text(segment, position, 2, "the number of units shipped")
            if data["quantity"] is None:
                raise fail(
                    segment, position, 2, "the number of units shipped is missing", element_code="1"
                )
            data["uom"] = required(segment, position, 3, "the unit")
            data["quantity_ordered"] = decimal_text(segment, position, 5, "the quantity ordered")
            data["ordered_uom"] = optional(segment, 6)
        elif tag == "PID":
            data["description"] = optional(segment, 5)
        elif tag == "MAN":
            qualifier = required(segment, position, 1, "the marks qualifier")
            marks = required(segment, position, 2, "the marks and numbers")
            data.setdefault("marks", {})[qualifier] = marks
            if qualifier == "GM":
                sscc = sscc_of(marks)
                if sscc is None:
                    raise fail(
                        segment, position, 2, f"{marks!r} is not an SSCC-18", element_code="6"
                    )
                data["sscc"] = sscc
        elif tag == "REF":
            read_reference(segment, position, data.setdefault("references", {}))
        elif tag == "DTM":
            read_dated(segment, position, context, data.setdefault("dates", {}))
        elif tag == "PRF":
            data["po_number"] = required(segment, position, 1, "the PO number")
            data["release_number"] = optional(segment, 2)
            data["po_date"] = date_of(segment, position, 4, "the PO date")
        elif tag == "TD1":
            data["packaging"] = {
                "code": optional(segment, 1),
                "lading_quantity": decimal_text(segment, position, 2, "the lading quantity"),
                "weight_qualifier": optional(segment, 6),
                "weight": decimal_text(segment, position, 7, "the weight"),
                "weight_uom": optional(segment, 8),
            }
        elif tag == "TD5":
            data["carrier"] = {
                "routing_sequence": optional(segment, 1),
                "id_qualifier": optional(segment, 2),
                "scac": optional(segment, 3),
                "method": optional(segment, 4),
                "routing": optional(segment, 5),
            }
        elif tag == "CTT":
            document["line_count"] = integer(segment, position, 1, "the number of line items")
        elif tag in ("N1", "N2", "N3", "N4", "PER"):
            if current.parties is None:
                current.parties = PartyReader()
                data["parties"] = current.parties.parties
            current.parties.read(segment, position)
    if not began:
        raise missing_segment("BSN", 2, "beginning segment for ship notice")
    if not levels:
        raise missing_segment("HL", 3, "the shipment level")
    for level in item_levels:
        item = level.data
        if level.order is not None and "po_number" not in item:
            item["po_number"] = level.order.get("po_number")
        if level.pack is not None:
            item["sscc"] = level.pack.get("sscc")
        for pack in level.packs:
            pack["line_nos"].append(item["line_no"])
    for level in pack_levels:
        pack = level.data
        if level.order is not None:
            pack["po_number"] = level.order.get("po_number")
        code = (pack.get("packaging") or {}).get("code")
        pack["packaging"] = code[:3] if code else None
    document.update(shipment=shipment, orders=orders, packs=packs, items=items)
    return prune(document)


def _open_level(
    segment: list[str],
    position: int,
    levels: dict[str, _Level],
    shipment: dict[str, Any],
    orders: list[dict[str, Any]],
    packs: list[dict[str, Any]],
    items: list[dict[str, Any]],
) -> _Level:
    number = required(segment, position, 1, "the hierarchical id")
    parent_number = segment[2] if len(segment) > 2 else ""
    code = required(segment, position, 3, "the hierarchical level code")
    if number in levels:
        raise fail(segment, position, 1, f"HL {number} appears twice", element_code="7")
    parent = levels.get(parent_number) if parent_number else None
    if parent_number and parent is None:
        raise fail(
            segment,
            position,
            2,
            f"parent HL {parent_number} is not defined before it",
            element_code="7",
        )
    order = parent.order if parent else None
    pack = parent.pack if parent else None
    above = parent.packs if parent else ()
    if code == "S":
        level = _Level(shipment, None, None, ())
    elif code == "O":
        data: dict[str, Any] = {}
        orders.append(data)
        level = _Level(data, data, pack, above)
    elif code in ("T", "P"):
        data = {"level": code, "line_nos": []}
        packs.append(data)
        level = _Level(data, order, data, (*above, data))
    elif code == "I":
        data = {"line_no": len(items) + 1, "product_ids": {}}
        items.append(data)
        level = _Level(data, order, pack, above)
    else:
        # Levels this connector does not read (F feature, Q ...): their segments are ignored.
        level = _Level({"level": code}, order, pack, above)
    levels[number] = level
    return level
