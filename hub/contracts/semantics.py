"""Rules that JSON Schema cannot say: check digits, and quantities that must hang together.

A rule sees data that already passed its contract's schema, so it may rely on the shape.
Each rule reports :class:`~hub.contracts.checker.Violation`-shaped tuples
``(pointer, rule, message)`` with pointers into the whole event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum import ean

from hub.timestamps import parse_rfc3339

SemanticFinding = tuple[str, str, str]
Rule = Callable[[str, dict[str, Any]], Iterator[SemanticFinding]]


def _dec(value: Any) -> Decimal:
    # str() first: Decimal(0.1) would carry the float's binary error into the comparison.
    return Decimal(str(value))


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, str, Any]]:
    """Every (pointer, key, value) under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{pointer}/{_escape(key)}"
            yield child, key, value
            yield from _walk(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_DATE_SHAPE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt].*)?$")


def field_values(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    """GS1 check digits of every GTIN and GLN; real calendar dates in every date field.

    The schemas check the shape of a date with a pattern (both validators agree on
    patterns); whether 2026-02-30 exists is checked here.
    """
    for pointer, key, value in _walk(data, "/data"):
        if not isinstance(value, str):
            continue
        if key in ("gtin", "gln"):
            if not ean.is_valid(value):
                yield (
                    pointer,
                    f"{key}-check-digit",
                    f"{key.upper()} {value!r} has a wrong check digit",
                )
        elif _DATE_SHAPE.match(value):
            try:
                if len(value) == 10:
                    date.fromisoformat(value)
                else:
                    parse_rfc3339(value)
            except ValueError:
                yield pointer, "real-date", f"{value!r} is not a real date or time"


def unique_line_numbers(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    seen: set[int] = set()
    for index, line in enumerate(data.get("lines", [])):
        number = line.get("line_no")
        if number in seen:
            yield (
                f"/data/lines/{index}/line_no",
                "unique-line-no",
                f"line_no {number} appears more than once",
            )
        seen.add(number)


def reserved_within_requested(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    for index, line in enumerate(data.get("lines", [])):
        reserved, requested = line.get("reserved_qty"), line.get("requested_qty")
        if reserved is not None and requested is not None and _dec(reserved) > _dec(requested):
            yield (
                f"/data/lines/{index}/reserved_qty",
                "reserved-within-requested",
                f"reserved_qty {reserved} exceeds requested_qty {requested}",
            )


def received_split(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    for index, line in enumerate(data.get("lines", [])):
        received = line.get("received_qty")
        accepted, rejected = line.get("accepted_qty"), line.get("rejected_qty")
        if received is None or (accepted is None and rejected is None):
            continue
        total = _dec(accepted or 0) + _dec(rejected or 0)
        if total != _dec(received):
            yield (
                f"/data/lines/{index}/accepted_qty",
                "accepted-plus-rejected-is-received",
                f"accepted_qty + rejected_qty = {total}, but received_qty is {received}",
            )


def filled_backorder_is_closed(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    open_qty = data.get("open_qty")
    if data.get("status") == "filled" and open_qty is not None and _dec(open_qty) != 0:
        yield (
            "/data/open_qty",
            "filled-has-no-open-qty",
            f"status is filled but open_qty is {open_qty}",
        )


def transfer_moves(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    origin = (data.get("from_location") or {}).get("code")
    destination = (data.get("to_location") or {}).get("code")
    if origin is not None and origin == destination:
        yield (
            "/data/to_location",
            "distinct-locations",
            f"to_location equals from_location ({origin})",
        )


def acknowledgement_has_status(event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    if not event_type.endswith(".acknowledged"):
        return
    for index, line in enumerate(data.get("lines", [])):
        if "ack_status" not in line:
            yield (
                f"/data/lines/{index}/ack_status",
                "ack-status-required",
                "an acknowledgement states ack_status (IA, IB, IQ, BP, IR) on every line",
            )


COMMON_RULES: tuple[Rule, ...] = (field_values, unique_line_numbers)

FAMILY_RULES: dict[str, tuple[Rule, ...]] = {
    "reservation": (reserved_within_requested,),
    "transfer": (transfer_moves,),
    "po_release": (acknowledgement_has_status,),
    "receipt": (received_split,),
    "backorder": (filled_backorder_is_closed,),
}


def semantic_findings(family: str, event_type: str, data: dict[str, Any]) -> list[SemanticFinding]:
    findings: list[SemanticFinding] = []
    for rule in COMMON_RULES + FAMILY_RULES.get(family, ()):
        findings.extend(rule(event_type, data))
    return findings
