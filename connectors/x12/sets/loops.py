"""Segments that many transaction sets share, read into and written from their JSON form.

- parties (N1 loops: N1, N2, N3, N4) keyed by entity code: ``{"ST": {"name", "id_qualifier",
  "id", "address", "city", "state", "postal_code", "country"}}``;
- references (REF, N9) keyed by qualifier: ``{"BM": "BOL-1"}``;
- dates (DTM, G62) keyed by qualifier: ``{"011": {"date", "time", "at"}}``;
- product ids (the qualifier/id pairs of PO1, LIN, W01, ...) keyed by qualifier:
  ``{"BP": "SKU-1", "UK": "10085741200343", "VP": "AC-1"}``.

Keyed by code, a mapping reaches them with plain paths (``parties.ST.id``). When a key
repeats, the first keeps the key and later ones get ``_2``, ``_3``: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from connectors.x12.elements import (
    date_of,
    element,
    fail,
    moment_of,
    optional,
    required,
    time_of,
    x12_date,
    x12_decimal,
    zone_of,
)
from connectors.x12.segments import Segment
from connectors.x12.writer import BodySegment

Document = dict[str, Any]


@dataclass(frozen=True)
class ReadContext:
    """What reading needs beyond the segments: the zone the partner's times are in (when a
    segment does not say), and the interchange's component separator."""

    zone: tzinfo
    component: str = ">"


def put(target: dict[str, Any], key: str, value: Any) -> None:
    """``target[key] = value``; a key already there gets ``_2``, ``_3``, ... instead."""
    if key not in target:
        target[key] = value
        return
    number = 2
    while f"{key}_{number}" in target:
        number += 1
    target[f"{key}_{number}"] = value


def prune(document: dict[str, Any]) -> dict[str, Any]:
    """The document without ``None`` values and empty dicts/lists, recursively."""
    # Runs over every document read (thousands of nodes for a large 856): class checks
    # instead of isinstance, and no comparisons with fresh empty containers.
    clean: dict[str, Any] = {}
    for key, value in document.items():
        if value is None:
            continue
        cls = value.__class__
        if cls is dict:
            value = prune(value)
            if not value:
                continue
        elif cls is list:
            if not value:
                continue
            value = [prune(item) if item.__class__ is dict else item for item in value]
        clean[key] = value
    return clean


# -- parties ---------------------------------------------------------------------------------


class PartyReader:
    """Collects N1 loops: N1 opens a party; N2, N3, N4 (and REF, PER) add to the open one."""

    def __init__(self) -> None:
        self.parties: dict[str, Any] = {}
        self.current: dict[str, Any] | None = None

    def read(self, segment: Segment, position: int) -> bool:
        """Take the segment if it belongs to an N1 loop; say whether it did."""
        tag = segment[0]
        if tag == "N1":
            role = required(segment, position, 1, "the entity identifier code")
            self.current = {
                "name": optional(segment, 2),
                "id_qualifier": optional(segment, 3),
                "id": optional(segment, 4),
            }
            put(self.parties, role, self.current)
            return True
        if self.current is None:
            return False
        if tag == "N2":
            self.current["name_2"] = " ".join(v for v in segment[1:] if v) or None
        elif tag == "N3":
            self.current.setdefault("address", []).extend(v for v in segment[1:] if v)
        elif tag == "N4":
            self.current.update(
                city=optional(segment, 1),
                state=optional(segment, 2),
                postal_code=optional(segment, 3),
                country=optional(segment, 4),
            )
        elif tag == "PER":
            self.current["contact"] = {
                "name": optional(segment, 2),
                "phone": optional(segment, 4) if element(segment, 3) == "TE" else None,
                "email": optional(segment, 4) if element(segment, 3) == "EM" else None,
            }
        else:
            self.current = None
            return False
        return True

    def close(self) -> None:
        """An N1 loop ends where the next segment is not part of it."""
        self.current = None


def write_parties(parties: Mapping[str, Mapping[str, Any]]) -> list[BodySegment]:
    """N1 loops from ``{"ST": {"name", "id_qualifier", "id", "address", ...}}``."""
    segments: list[BodySegment] = []
    for role, party in parties.items():
        code = role.split("_")[0]
        segments.append(
            [
                "N1",
                code,
                party.get("name") or "",
                party.get("id_qualifier") or "",
                party.get("id") or "",
            ]
        )
        address = list(party.get("address") or [])
        for index in range(0, len(address), 2):
            segments.append(["N3", *address[index : index + 2]])
        if any(party.get(k) for k in ("city", "state", "postal_code", "country")):
            segments.append(
                [
                    "N4",
                    party.get("city") or "",
                    party.get("state") or "",
                    party.get("postal_code") or "",
                    party.get("country") or "",
                ]
            )
    return segments


# -- references, dates, product ids ----------------------------------------------------------


def read_reference(segment: Segment, position: int, target: dict[str, Any]) -> None:
    """REF or N9: qualifier (01) and identification (02, or the description 03)."""
    qualifier = required(segment, position, 1, "the reference qualifier")
    value = optional(segment, 2) or optional(segment, 3)
    if value is not None:
        put(target, qualifier, value)


def read_dated(
    segment: Segment, position: int, context: ReadContext, target: dict[str, Any]
) -> None:
    """DTM: qualifier (01), date (02), time (03) as ``{"date", "time", "at"}``.

    ``at`` (an RFC 3339 date-time) is there only with a time: in the zone DTM04 names, else
    the partner's.
    """
    qualifier = required(segment, position, 1, "the date/time qualifier")
    day = date_of(segment, position, 2, f"DTM {qualifier} date")
    clock = time_of(segment, position, 3, f"DTM {qualifier} time")
    if day is None:
        return
    entry: dict[str, Any] = {"date": day}
    if clock is not None:
        entry["time"] = clock
        entry["at"] = moment_of(day, clock, zone_of(optional(segment, 4), context.zone))
    put(target, qualifier, entry)


def read_product_ids(
    segment: Segment, position: int, first: int, target: dict[str, Any], last: int | None = None
) -> None:
    """Qualifier/id pairs from element ``first`` on (``PO106``/``PO107``, ...)."""
    end = len(segment) if last is None else min(len(segment), last + 1)
    for number in range(first, end - 1, 2):
        qualifier, value = segment[number], segment[number + 1]
        if qualifier and value:
            put(target, qualifier, value)
        elif qualifier and not value:
            raise fail(
                segment,
                position,
                number + 1,
                f"the product id for qualifier {qualifier} is missing",
                element_code="1",
            )


def product_id_pairs(ids: Mapping[str, str], limit: int) -> list[str]:
    """Product ids as flat qualifier/id elements, at most ``limit`` pairs."""
    pairs = list(ids.items())
    if len(pairs) > limit:
        raise ValueError(f"at most {limit} product ids fit this segment, got {len(pairs)}")
    flat: list[str] = []
    for qualifier, value in pairs:
        flat.extend((qualifier.split("_")[0], value))
    return flat


def write_dates(tag: str, dates: Mapping[str, str]) -> list[BodySegment]:
    """DTM (or G62-like) segments from ``{"002": "2026-03-27"}``."""
    return [[tag, qualifier.split("_")[0], x12_date(day)] for qualifier, day in dates.items()]


def write_references(tag: str, references: Mapping[str, str]) -> list[BodySegment]:
    """REF (or N9) segments from ``{"IA": "VEND-1"}``."""
    return [[tag, qualifier.split("_")[0], value] for qualifier, value in references.items()]


def count_hash(quantities: Iterable[str]) -> str:
    """CTT02 hash total: the sum of the quantities, exactly."""
    return x12_decimal(sum((Decimal(q) for q in quantities), Decimal(0)))
