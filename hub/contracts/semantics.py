"""Rules that JSON Schema cannot say: check digits, real dates, quantities that hang together.

A rule sees data that already passed its contract's schema, so it may rely on the shape.
Findings are ``(pointer, rule, message)`` with pointers into the whole event.

Where the fields to check are found is worked out once per contract version, from its
schema (:class:`FieldPlan`), so checking a message walks only those fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jsonschema_rs
from stdnum import ean

from hub.timestamps import parse_rfc3339

SemanticFinding = tuple[str, str, str]
Rule = Callable[[str, dict[str, Any]], Iterator[SemanticFinding]]

# A step in a field path: a property name, or EACH for every item of an array.
EACH = object()
Path = tuple[object, ...]


def _dec(value: Any) -> Decimal:
    # str() first: Decimal(0.1) would carry the float's binary error into the comparison.
    return Decimal(str(value))


# GTINs, GLNs and dates repeat across messages (a catalogue, a set of sites, this week's
# dates), so verdicts are memoised: bounded, and pure functions of the string.
@lru_cache(maxsize=65536)
def gs1_check_digit_ok(number: str) -> bool:
    return bool(ean.is_valid(number))


@lru_cache(maxsize=65536)
def real_date(value: str) -> bool:
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            parse_rfc3339(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FieldPlan:
    """Paths to every GS1 number and every date in a contract's data, found from its schema."""

    gs1: tuple[tuple[Path, str], ...]
    dates: tuple[Path, ...]

    @classmethod
    def from_schema(cls, schema: dict[str, Any]) -> FieldPlan:
        inlined = jsonschema_rs.dereference(schema, offline=True)
        gs1: dict[Path, str] = {}
        dates: dict[Path, None] = {}

        def visit(node: Any, path: Path) -> None:
            if not isinstance(node, dict):
                return
            if node.get("format") in ("date", "date-time"):
                dates[path] = None
            for key, child in (node.get("properties") or {}).items():
                if key in ("gtin", "gln"):
                    gs1[(*path, key)] = key
                visit(child, (*path, key))
            items = node.get("items")
            if isinstance(items, dict):
                visit(items, (*path, EACH))
            for keyword in ("allOf", "anyOf", "oneOf"):
                for child in node.get(keyword) or ():
                    visit(child, path)
            for keyword in ("then", "else"):
                visit(node.get(keyword), path)

        visit(inlined, ())
        return cls(tuple(gs1.items()), tuple(dates))


@dataclass(frozen=True)
class _Check:
    rule: str
    ok: Callable[[str], bool]
    label: str


_GS1 = {
    kind: _Check(f"{kind}-check-digit", gs1_check_digit_ok, kind.upper())
    for kind in ("gtin", "gln")
}
_DATE = _Check("real-date", real_date, "date")


@dataclass
class _PlanNode:
    """One level of the plan: checks on this value, then its fields and array items."""

    checks: list[_Check] = field(default_factory=list)
    fields: dict[str, _PlanNode] = field(default_factory=dict)
    each: _PlanNode | None = None

    def add(self, path: Path, check: _Check) -> None:
        node = self
        for step in path:
            if step is EACH:
                node.each = node.each or _PlanNode()
                node = node.each
            else:
                assert isinstance(step, str)
                node = node.fields.setdefault(step, _PlanNode())
        node.checks.append(check)

    def run(self, value: Any, trail: list[str | int], found: list[SemanticFinding]) -> None:
        # One walk over the data for every check, building a pointer only for a failure.
        for check in self.checks:
            if isinstance(value, str) and not check.ok(value):
                pointer = "/data" + "".join(f"/{_escape(str(step))}" for step in trail)
                message = (
                    f"{value!r} is not a real date or time"
                    if check is _DATE
                    else f"{check.label} {value!r} has a wrong check digit"
                )
                found.append((pointer, check.rule, message))
        if self.each is not None and isinstance(value, list):
            for index, item in enumerate(value):
                trail.append(index)
                self.each.run(item, trail, found)
                trail.pop()
        if self.fields and isinstance(value, dict):
            for key, child in self.fields.items():
                if key in value:
                    trail.append(key)
                    child.run(value[key], trail, found)
                    trail.pop()


def compile_plan(root: _PlanNode) -> Callable[[Any], bool]:
    """The plan as one generated function answering "does any check fail?".

    Most messages are fine, and a plain nested walk with direct ``dict.get`` costs a
    fraction of the recursive one. Only when it answers yes does the recursive walk run,
    to say where and why.
    """
    lines = ["def failing(value0):"]
    checks: dict[str, Callable[[str], bool]] = {}

    def emit(node: _PlanNode, depth: int, indent: str) -> None:
        value = f"value{depth}"
        for check in node.checks:
            name = f"ok{len(checks)}"
            checks[name] = check.ok
            lines.append(f"{indent}if {value}.__class__ is str and not {name}({value}):")
            lines.append(f"{indent}    return True")
        if node.each is not None and _has_checks(node.each):
            lines.append(f"{indent}if {value}.__class__ is list:")
            lines.append(f"{indent}    for value{depth + 1} in {value}:")
            emit(node.each, depth + 1, indent + "        ")
        children = [(key, child) for key, child in node.fields.items() if _has_checks(child)]
        if children:
            lines.append(f"{indent}if {value}.__class__ is dict:")
            for key, child in children:
                lines.append(f"{indent}    value{depth + 1} = {value}.get({key!r})")
                lines.append(f"{indent}    if value{depth + 1} is not None:")
                emit(child, depth + 1, indent + "        ")

    emit(root, 0, "    ")
    lines.append("    return False")
    namespace: dict[str, Any] = dict(checks)
    exec(compile("\n".join(lines), "<field plan>", "exec"), namespace)
    failing: Callable[[Any], bool] = namespace["failing"]
    return failing


def _has_checks(node: _PlanNode) -> bool:
    return bool(
        node.checks
        or (node.each is not None and _has_checks(node.each))
        or any(_has_checks(child) for child in node.fields.values())
    )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unique_line_numbers(_event_type: str, data: dict[str, Any]) -> Iterator[SemanticFinding]:
    lines = data.get("lines", [])
    numbers = [line.get("line_no") for line in lines]
    if len(set(numbers)) == len(numbers):
        return  # the usual case, decided without a Python-level loop over the set
    seen: set[int] = set()
    for index, line in enumerate(lines):
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


def reserved_measure_within_requested(
    _event_type: str, data: dict[str, Any]
) -> Iterator[SemanticFinding]:
    """Reservation 2.x: quantities are ``{value, uom}`` measures. The hub converts no units,
    so ``reserved`` must be stated in the unit of ``requested`` to be compared with it (and
    to convert losslessly to 1.x, where one ``uom`` serves both)."""
    for index, line in enumerate(data.get("lines", [])):
        reserved, requested = line.get("reserved"), line.get("requested")
        if not isinstance(reserved, dict) or not isinstance(requested, dict):
            continue
        if reserved.get("uom") != requested.get("uom"):
            yield (
                f"/data/lines/{index}/reserved/uom",
                "reserved-in-requested-uom",
                f"reserved is in {reserved.get('uom')} but requested is in "
                f"{requested.get('uom')}; state both in one unit",
            )
        elif _dec(reserved["value"]) > _dec(requested["value"]):
            yield (
                f"/data/lines/{index}/reserved/value",
                "reserved-within-requested",
                f"reserved {reserved['value']} exceeds requested {requested['value']} "
                f"{requested.get('uom')}",
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


COMMON_RULES: tuple[Rule, ...] = (unique_line_numbers,)

FAMILY_RULES: dict[str, tuple[Rule, ...]] = {
    "reservation": (reserved_within_requested,),
    "transfer": (transfer_moves,),
    "po_release": (acknowledgement_has_status,),
    "receipt": (received_split,),
    "backorder": (filled_backorder_is_closed,),
}

# A new major version may reshape what a family rule reads; its rules replace the family's.
MAJOR_RULES: dict[tuple[str, int], tuple[Rule, ...]] = {
    ("reservation", 2): (reserved_measure_within_requested,),
}


def _major_of(schema: dict[str, Any]) -> int:
    meta = schema.get("x-crossdock")
    version = meta.get("version") if isinstance(meta, dict) else None
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 1  # a schema without x-crossdock (tests, candidates) gets the family's rules


class ContractRules:
    """Every code rule of one contract version, ready to run."""

    def __init__(self, family: str, schema: dict[str, Any]) -> None:
        self.plan = FieldPlan.from_schema(schema)
        self.rules = COMMON_RULES + MAJOR_RULES.get(
            (family, _major_of(schema)), FAMILY_RULES.get(family, ())
        )
        self._walk = _PlanNode()
        for path, kind in self.plan.gs1:
            self._walk.add(path, _GS1[kind])
        for path in self.plan.dates:
            self._walk.add(path, _DATE)
        self._failing = compile_plan(self._walk)

    def findings(self, event_type: str, data: dict[str, Any]) -> list[SemanticFinding]:
        found: list[SemanticFinding] = []
        if self._failing(data):
            self._walk.run(data, [], found)
        for rule in self.rules:
            found.extend(rule(event_type, data))
        return found
