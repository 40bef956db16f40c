"""Exact numbers: how mapped quantities and prices keep every digit.

Inside a field's pipeline a number is an ``int`` (exact at any size), a ``float`` as parsed
from JSON, or a :class:`~decimal.Decimal` once arithmetic touched it. Floats enter decimal
arithmetic through their shortest repr (``Decimal(repr(0.1)) == Decimal("0.1")``), never
through their binary value, so ``0.1 * 3`` is ``0.3``.

At the end of the pipeline a Decimal becomes a JSON number by :func:`to_json_number`:

* integral and within 64 bits (what orjson writes): an ``int``;
* otherwise a ``float`` whose repr *is* the exact decimal (``"12.30"`` → ``12.3``);
* when no float says it exactly (more than ~15 significant digits, or out of range): a
  :class:`TransformError`, so a value is never silently rounded. Round first (``round``).
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from hub.mappings.errors import TransformError

# Wide enough that products of JSON-sized inputs are exact; rounding only happens on purpose.
EXACT = Context(prec=80)
_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


def is_number(value: Any) -> bool:
    """A JSON number (bools are not numbers here, although Python says they are ints)."""
    return value.__class__ is not bool and isinstance(value, int | float | Decimal)


def to_decimal(value: Any, what: str) -> Decimal:
    """``value`` (int, float, Decimal or a numeric string) as an exact Decimal.

    ``what`` names the transform for the error message.
    """
    if value.__class__ is bool:
        raise TransformError(f"{what}: expected a number, got a boolean ({value!r})")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TransformError(f"{what}: {value} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TransformError(f"{what}: {value!r} is not a finite number")
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            return Decimal(text)
        raise TransformError(f"{what}: {value!r} is not a number")
    raise TransformError(f"{what}: expected a number, got {type_name(value)}")


def to_json_number(value: Decimal) -> int | float:
    """The exact JSON number for ``value`` (see the module docstring for the rule)."""
    try:
        if value == value.to_integral_value():
            whole = int(value)
            if _INT64_MIN <= whole <= _UINT64_MAX:
                return whole
    except (InvalidOperation, OverflowError):
        raise TransformError(f"{value} is not a finite number") from None
    as_float = float(value)
    if as_float in (float("inf"), float("-inf")) or Decimal(repr(as_float)) != value:
        raise TransformError(
            f"{value} has no exact JSON number (more digits than a double keeps); "
            "round it first with `round`"
        )
    return as_float


def plain_string(value: Decimal) -> str:
    """A Decimal as plain digits, without exponent or trailing zeros: 12.30 → ``"12.3"``."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
