"""The named transforms a field's value passes through (``via: [string, trim, upper]``).

A transform is written as its name (``upper``) or as a one-key mapping of name to argument
(``{prefix: "SHOP-"}``, ``{lookup: {table: locations, column: gln}}``). When a mapping file
loads, each is *built* once into a plain function of one value: arguments are checked then
(an unknown name or a bad argument is a load error), so applying a mapping only calls
functions. Every transform but ``default`` and ``required`` passes a missing value (``None``)
through untouched. A value a transform cannot take raises :class:`TransformError`, which the
mapping reports as a :class:`~hub.mappings.errors.MappingError` with the field's pointer.

Numbers follow :mod:`hub.mappings.decimals`: arithmetic is exact, on Decimals.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stdnum import ean
from stdnum.exceptions import ValidationError

from hub.mappings.decimals import (
    EXACT,
    is_number,
    plain_string,
    to_decimal,
    type_name,
)
from hub.mappings.errors import SpecError, TransformError
from hub.mappings.files import FileError, as_json
from hub.mappings.tables import Table, key_text
from hub.mappings.units import BUILTIN_UNITS, builtin_factor

Step = Callable[[Any], Any]


class _NoArgument:
    def __repr__(self) -> str:
        return "<no argument>"


NO_ARGUMENT: Any = _NoArgument()


@dataclass(frozen=True)
class BuildContext:
    """What building a transform may use: the mapping's tables, by their local name."""

    tables: Mapping[str, Table]


@dataclass(frozen=True)
class Transform:
    """A named transform: ``build(argument, context)`` returns the function of one value."""

    name: str
    build: Callable[[Any, BuildContext], Step]
    argument: str  # what the argument is, for error messages and `docs/mappings.md`
    summary: str
    exact: bool = False  # may return a Decimal (turned into a JSON number at the end)
    # A Python condition on the value `_v` under which the transform returns it unchanged.
    # The compiled mapping tests it inline and calls the function only when it is false,
    # which saves most calls (a test checks each condition against its function).
    skip: str = "_v is None"


TRANSFORMS: dict[str, Transform] = {}


def _transform(
    name: str, argument: str, summary: str, *, exact: bool = False, skip: str = "_v is None"
) -> Callable[[Callable[[Any, BuildContext], Step]], Callable[[Any, BuildContext], Step]]:
    def register(build: Callable[[Any, BuildContext], Step]) -> Callable[[Any, BuildContext], Step]:
        TRANSFORMS[name] = Transform(name, build, argument, summary, exact, skip)
        return build

    return register


def parse_step(spec: Any) -> tuple[str, Any]:
    """``"upper"`` → ``("upper", NO_ARGUMENT)``; ``{prefix: X}`` → ``("prefix", X)``."""
    if isinstance(spec, str):
        return spec, NO_ARGUMENT
    if isinstance(spec, dict) and len(spec) == 1:
        ((name, argument),) = spec.items()
        if isinstance(name, str):
            return name, argument
    raise SpecError(f"a transform is a name or a one-key mapping {{name: argument}}, not {spec!r}")


def build_step(spec: Any, context: BuildContext) -> tuple[Transform, Step]:
    """Check one ``via`` entry and build its function; raises :class:`SpecError`."""
    name, argument = parse_step(spec)
    transform = TRANSFORMS.get(name)
    if transform is None:
        raise SpecError(f"unknown transform {name!r}; known: {', '.join(sorted(TRANSFORMS))}")
    try:
        return transform, transform.build(argument, context)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc} (argument: {transform.argument})") from None


# --- argument checks ----------------------------------------------------------------------


def _no_argument(argument: Any) -> None:
    if argument is not NO_ARGUMENT:
        raise SpecError(f"takes no argument, got {argument!r}")


def _options(
    argument: Any, allowed: Mapping[str, type | tuple[type, ...]], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(argument, dict):
        raise SpecError(f"expected a mapping with {', '.join(allowed)}, got {argument!r}")
    unknown = [key for key in argument if key not in allowed]
    if unknown:
        raise SpecError(f"unknown option(s) {', '.join(map(str, unknown))}")
    missing = [key for key in required if key not in argument]
    if missing:
        raise SpecError(f"missing option(s) {', '.join(missing)}")
    for key, value in argument.items():
        expected = allowed[key]
        if expected is object:
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise SpecError(f"option {key!r} has the wrong type: {value!r}")
    return dict(argument)


def _string_argument(argument: Any, what: str = "a string") -> str:
    if not isinstance(argument, str):
        raise SpecError(f"expected {what}, got {argument!r}")
    return argument


def _table(context: BuildContext, name: Any) -> Table:
    if not isinstance(name, str):
        raise SpecError(f"a table is named by a string, got {name!r}")
    table = context.tables.get(name)
    if table is None:
        known = ", ".join(sorted(context.tables)) or "none"
        raise SpecError(f"no table {name!r} in this mapping's `tables` (declared: {known})")
    return table


def _json_value(value: Any, what: str) -> Any:
    try:
        return as_json(value, what)
    except FileError as exc:
        raise SpecError(str(exc)) from None


def _fresh(value: Any) -> Step:
    """A function returning ``value``; a copy each time when it is a list or an object."""
    if isinstance(value, dict | list):
        return lambda _ignored: copy.deepcopy(value)
    return lambda _ignored: value


# --- conversions --------------------------------------------------------------------------


def format_string(value: Any, what: str = "string") -> str:
    """A scalar as text: numbers exactly (``5678901234567890123``, ``12.5``), booleans as
    ``true``/``false``. Lists and objects are refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return plain_string(value)
    raise TransformError(f"{what}: cannot make a string of {type_name(value)}")


@_transform(
    "string",
    "none",
    "Text: numbers exactly, booleans as true/false.",
    skip="_v is None or _v.__class__ is str",
)
def _build_string(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def string(value: Any) -> Any:
        if value is None or value.__class__ is str:
            return value
        return format_string(value)

    return string


@_transform(
    "integer",
    "none",
    "A whole number: 12, 12.0 and '12' give 12; 12.5 is an error.",
    skip="_v is None or _v.__class__ is int",
)
def _build_integer(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def integer(value: Any) -> Any:
        if value is None or value.__class__ is int:
            return value
        if value.__class__ is float and value.is_integer():
            return int(value)
        number = to_decimal(value, "integer")
        if number != number.to_integral_value():
            raise TransformError(f"integer: {value!r} is not a whole number")
        return int(number)

    return integer


@_transform(
    "decimal",
    "none",
    "An exact number from a number or a numeric string.",
    exact=True,
    skip="_v is None or _v.__class__ is int",
)
def _build_decimal(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def decimal(value: Any) -> Any:
        cls = value.__class__
        if value is None or cls is int:
            return value
        if cls is float and value.is_integer() and abs(value) < 2**63:
            return int(value)  # 24.0 → 24: integral numbers are ints
        return to_decimal(value, "decimal")

    return decimal


_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})


@_transform("boolean", "none", "true/false from booleans, 0/1, and yes/no, y/n, on/off text.")
def _build_boolean(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def boolean(value: Any) -> Any:
        if value is None or value.__class__ is bool:
            return value
        if value.__class__ is int and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise TransformError(f"boolean: {value!r} is not a yes or a no")

    return boolean


def _text_transform(name: str, method: Callable[[str], str]) -> Step:
    def text(value: Any) -> Any:
        if value.__class__ is str:
            return method(value)
        if value is None:
            return None
        raise TransformError(f"{name}: expected a string, got {type_name(value)}")

    return text


@_transform("upper", "none", "Upper-case text.")
def _build_upper(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)
    return _text_transform("upper", str.upper)


@_transform("lower", "none", "Lower-case text.")
def _build_lower(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)
    return _text_transform("lower", str.lower)


@_transform("trim", "none, or the characters to strip", "Strip whitespace (or the given chars).")
def _build_trim(argument: Any, _context: BuildContext) -> Step:
    if argument is NO_ARGUMENT:
        return _text_transform("trim", str.strip)
    chars = _string_argument(argument, "the characters to strip")
    return _text_transform("trim", lambda text: text.strip(chars))


@_transform(
    "null_if_blank",
    "none",
    "An empty or all-blank string becomes missing.",
    skip="_v.__class__ is not str",
)
def _build_null_if_blank(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def null_if_blank(value: Any) -> Any:
        if value.__class__ is str and not value.strip():
            return None
        return value

    return null_if_blank


def _affix(name: str, argument: Any, join: Callable[[str, str], str]) -> Step:
    affix = _string_argument(argument)

    def add(value: Any) -> Any:
        if value is None:
            return None
        return join(affix, format_string(value, name))

    return add


@_transform("prefix", "a string", "Put text before the value (numbers are made text).")
def _build_prefix(argument: Any, _context: BuildContext) -> Step:
    return _affix("prefix", argument, lambda affix, text: affix + text)


@_transform("suffix", "a string", "Put text after the value (numbers are made text).")
def _build_suffix(argument: Any, _context: BuildContext) -> Step:
    return _affix("suffix", argument, lambda affix, text: text + affix)


# --- dates --------------------------------------------------------------------------------


Parser = Callable[[str], datetime]

# strptime's own patterns for the numeric directives (see CPython's _strptime.TimeRE).
_NUMERIC_DIRECTIVES = {
    "d": r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "m": r"(1[0-2]|0[1-9]|[1-9])",
    "Y": r"(\d\d\d\d)",
    "H": r"(2[0-3]|[0-1]\d|\d)",
    "M": r"([0-5]\d|\d)",
    "S": r"(6[0-1]|[0-5]\d|\d)",
}
_DIRECTIVE = re.compile(r"(%.)")


def numeric_parser(fmt: str) -> Parser | None:
    """A parser for formats of numeric fields only (``%d/%m/%Y %H:%M``), or ``None``.

    ``datetime.strptime`` interprets its format on every call, which costs more than the
    rest of a line's mapping; this matches the same regular expression, compiled once.
    """
    pattern: list[str] = []
    order: list[str] = []
    for part in _DIRECTIVE.split(fmt):
        if _DIRECTIVE.fullmatch(part):
            directive = part[1]
            if directive not in _NUMERIC_DIRECTIVES or directive in order:
                return None
            pattern.append(_NUMERIC_DIRECTIVES[directive])
            order.append(directive)
        elif "%" in part:
            return None
        else:  # as in strptime: any run of whitespace matches any run of whitespace
            pattern.append(r"\s+".join(re.escape(chunk) for chunk in re.split(r"\s+", part)))
    if not {"Y", "m", "d"} <= set(order):
        return None
    regex = re.compile("".join(pattern), re.IGNORECASE)
    positions = {directive: index for index, directive in enumerate(order, start=1)}

    def parse(text: str) -> datetime:
        found = regex.fullmatch(text)
        if found is None:
            raise ValueError(f"time data {text!r} does not match format {fmt!r}")
        year, month, day, hour, minute, second = (
            int(found[positions[d]]) if d in positions else 0 for d in "YmdHMS"
        )
        return datetime(year, month, day, hour, minute, second)

    return parse


def _parser(fmt: str | None) -> Parser:
    if fmt is None:
        return datetime.fromisoformat
    return numeric_parser(fmt) or (lambda text: datetime.strptime(text, fmt))


def _parse_datetime(
    value: Any, parse: Parser, fmt: str | None, name: str, unix: bool = True
) -> datetime:
    if isinstance(value, str):
        try:
            return parse(value.strip())
        except ValueError as exc:
            expected = f"format {fmt!r}" if fmt else "an ISO 8601 date-time"
            raise TransformError(f"{name}: {value!r} is not {expected}: {exc}") from None
    if unix and fmt is None and is_number(value):
        try:
            return datetime.fromtimestamp(float(value), UTC)  # Unix seconds
        except (OverflowError, OSError, ValueError) as exc:
            raise TransformError(f"{name}: {value!r} is not a Unix time: {exc}") from None
    raise TransformError(f"{name}: expected a string, got {type_name(value)}")


def _strptime_format(value: Any) -> str:
    fmt = _string_argument(value, "a strptime format such as '%d/%m/%Y'")
    if "%" not in fmt:
        raise SpecError(f"{fmt!r} has no % directive; see Python's strptime formats")
    return fmt


@_transform(
    "date",
    "none, a strptime format, or {format}",
    "A calendar date as YYYY-MM-DD; without a format, ISO dates and date-times are read.",
)
def _build_date(argument: Any, _context: BuildContext) -> Step:
    fmt: str | None = None
    if isinstance(argument, dict):
        fmt = _strptime_format(_options(argument, {"format": str}, ("format",))["format"])
    elif argument is not NO_ARGUMENT:
        fmt = _strptime_format(argument)
    parse = _parser(fmt)

    def to_date(value: Any) -> Any:
        if value is None:
            return None
        if fmt is None and isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass  # maybe a date-time: its date, as written there
        # No Unix times here: a number could as well be 20260317.
        return _parse_datetime(value, parse, fmt, "date", unix=False).date().isoformat()

    return to_date


def _zone(name: Any) -> tzinfo:
    try:
        return ZoneInfo(_string_argument(name, "an IANA time zone such as Europe/Amsterdam"))
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(f"unknown time zone {name!r}") from None


def rfc3339(moment: datetime) -> str:
    """An aware datetime in RFC 3339, UTC written as ``Z``."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@_transform(
    "datetime",
    "none, a strptime format, or {format, timezone, utc}",
    "An RFC 3339 date-time with offset; `timezone` for times written without one, "
    "`utc: true` to convert to UTC. Numbers are Unix seconds.",
)
def _build_datetime(argument: Any, _context: BuildContext) -> Step:
    fmt: str | None = None
    zone: tzinfo | None = None
    utc = False
    if isinstance(argument, dict):
        options = _options(argument, {"format": str, "timezone": str, "utc": bool})
        fmt = _strptime_format(options["format"]) if "format" in options else None
        zone = _zone(options["timezone"]) if "timezone" in options else None
        utc = options.get("utc", False)
    elif argument is not NO_ARGUMENT:
        fmt = _strptime_format(argument)
    parse = _parser(fmt)

    def to_datetime(value: Any) -> Any:
        if value is None:
            return None
        moment = _parse_datetime(value, parse, fmt, "datetime")
        if moment.tzinfo is None:
            if zone is None:
                raise TransformError(
                    f"datetime: {value!r} has no UTC offset and the transform names no timezone"
                )
            moment = moment.replace(tzinfo=zone)
        if utc:
            moment = moment.astimezone(UTC)
        return rfc3339(moment)

    return to_datetime


# --- tables -------------------------------------------------------------------------------

_MISSING: Any = object()


def _keyed(name: str, entries: Mapping[str, Any], default: Any, what: str) -> Step:
    copies = any(isinstance(v, dict | list) for v in (*entries.values(), default))

    def look_up(value: Any) -> Any:
        if value is None:
            return None
        cls = value.__class__
        if cls is str:
            key = value
        elif cls is int:
            key = str(value)
        else:
            try:
                key = key_text(value)
            except ValueError as exc:
                raise TransformError(f"{name}: {exc}") from None
        found = entries.get(key, _MISSING)
        if found is _MISSING:
            if default is _MISSING:
                raise TransformError(f"{name}: {key!r} is not in {what}")
            found = default
        return copy.deepcopy(found) if copies else found

    return look_up


@_transform(
    "lookup",
    "a table name, or {table, column, default}",
    "The value's row in a table file; an unknown key is an error unless `default` is given.",
)
def _build_lookup(argument: Any, context: BuildContext) -> Step:
    options = (
        {"table": argument}
        if isinstance(argument, str)
        else _options(argument, {"table": str, "column": str, "default": object}, ("table",))
    )
    table = _table(context, options["table"])
    try:
        entries = table.column(options.get("column"))
    except KeyError:
        raise SpecError(
            f"table {options['table']!r} has no column {options.get('column')!r}; "
            f"columns: {', '.join(table.columns)}"
        ) from None
    default = _json_value(options["default"], "default") if "default" in options else _MISSING
    return _keyed("lookup", entries, default, f"table {options['table']!r} ({table.path.name})")


@_transform(
    "map",
    "{key: value, …}, or {values: {key: value, …}, default}",
    "Translate codes with a table written inline; unknown is an error unless `default`.",
)
def _build_map(argument: Any, _context: BuildContext) -> Step:
    if not isinstance(argument, dict) or not argument:
        raise SpecError(f"expected a mapping of key to value, got {argument!r}")
    default = _MISSING
    values = argument
    if isinstance(argument.get("values"), dict) and set(argument) <= {"values", "default"}:
        values = argument["values"]
        if "default" in argument:
            default = _json_value(argument["default"], "default")
    try:
        entries = {key_text(k): v for k, v in _json_value(values, "map").items()}
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return _keyed("map", entries, default, "the map")


# --- units --------------------------------------------------------------------------------


@_transform(
    "uom",
    "none, or {table}",
    "A unit name (each, pcs, kgs, litre, …) as the contracts' unit code (EA, KG, LT, …).",
)
def _build_uom(argument: Any, context: BuildContext) -> Step:
    units = dict(BUILTIN_UNITS)
    if argument is not NO_ARGUMENT:
        options = _options(argument, {"table": str}, ("table",))
        for key, code in _table(context, options["table"]).column(None).items():
            if not isinstance(code, str) or not code:
                raise SpecError(f"table {options['table']!r}: {key!r} has no unit code")
            units[key.strip().lower()] = code

    def uom(value: Any) -> Any:
        if value is None:
            return None
        if value.__class__ is not str:
            raise TransformError(f"uom: expected a unit name, got {type_name(value)}")
        code = units.get(value.strip().lower())
        if code is None:
            raise TransformError(f"uom: unknown unit {value!r}")
        return code

    return uom


def _unit_code(name: Any) -> str:
    code = BUILTIN_UNITS.get(_string_argument(name, "a unit").strip().lower())
    if code is None:
        raise SpecError(f"unknown unit {name!r}")
    return code


def _factor_from_table(table: Table, source: str, target: str) -> Decimal | None:
    """A factor matrix: first column the unit converted from, one column per unit to."""
    for frm, to, invert in ((source, target, False), (target, source, True)):
        row = table.rows.get(frm)
        if row is None or row.get(to) is None:
            continue
        try:
            factor = to_decimal(row[to], "factor")
        except TransformError as exc:
            raise SpecError(f"{table.path.name}: {frm} → {to}: {exc}") from None
        if factor <= 0:
            raise SpecError(f"{table.path.name}: {frm} → {to}: a factor is positive")
        return EXACT.divide(Decimal(1), factor) if invert else factor
    return None


def _multiplier(name: str, factor: Decimal) -> Step:
    def multiply(value: Any) -> Any:
        if value is None:
            return None
        return EXACT.multiply(to_decimal(value, name), factor)

    return multiply


@_transform(
    "convert_uom",
    "{from, to, factors}",
    "Multiply a quantity from one unit to another: fixed-size units built in (LB → KG), "
    "others (CS → EA) from a factor table.",
    exact=True,
)
def _build_convert_uom(argument: Any, context: BuildContext) -> Step:
    options = _options(argument, {"from": str, "to": str, "factors": str}, ("from", "to"))
    source, target = _unit_code(options["from"]), _unit_code(options["to"])
    factor: Decimal | None = Decimal(1) if source == target else None
    if factor is None and "factors" in options:
        factor = _factor_from_table(_table(context, options["factors"]), source, target)
    if factor is None:
        factor = builtin_factor(source, target)
    if factor is None:
        where = f"in table {options['factors']!r} or" if "factors" in options else "in"
        raise SpecError(f"no factor from {source} to {target} {where} the built-in units")
    return _multiplier("convert_uom", factor)


@_transform(
    "multiply",
    "a number (a string keeps every digit: '0.45359237')",
    "Multiply, exactly.",
    exact=True,
)
def _build_multiply(argument: Any, _context: BuildContext) -> Step:
    try:
        factor = to_decimal(argument, "multiply")
    except TransformError as exc:
        raise SpecError(str(exc)) from None
    return _multiplier("multiply", factor)


@_transform(
    "round",
    "decimal places, 0 to 20",
    "Round half away from zero.",
    exact=True,
    skip="_v is None or _v.__class__ is int",
)
def _build_round(argument: Any, _context: BuildContext) -> Step:
    if not isinstance(argument, int) or isinstance(argument, bool) or not 0 <= argument <= 20:
        raise SpecError(f"expected a number of decimal places from 0 to 20, got {argument!r}")
    quantum = Decimal(1).scaleb(-argument)

    def rounded(value: Any) -> Any:
        if value is None or value.__class__ is int:
            return value
        return to_decimal(value, "round").quantize(quantum, ROUND_HALF_UP, EXACT)

    return rounded


# --- presence -----------------------------------------------------------------------------


@_transform(
    "default",
    "any value",
    "The value to use when there is none (missing or null).",
    skip="_v is not None",
)
def _build_default(argument: Any, _context: BuildContext) -> Step:
    if argument is NO_ARGUMENT:
        raise SpecError("give the default value: {default: EA}")
    fallback = _fresh(_json_value(argument, "default"))

    def default(value: Any) -> Any:
        return fallback(None) if value is None else value

    return default


@_transform(
    "required",
    "none",
    "A missing value is an error (instead of omitting the field).",
    skip="_v is not None",
)
def _build_required(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def required(value: Any) -> Any:
        if value is None:
            raise TransformError("required: the value is missing")
        return value

    return required


# --- identifiers --------------------------------------------------------------------------

_GTIN_SEPARATORS = re.compile(r"[\s-]+")


@lru_cache(maxsize=65536)
def _gtin(text: str) -> tuple[bool, str]:
    """``(True, 14 digits)`` or ``(False, why)``; memoised, so no exception is cached."""
    digits = _GTIN_SEPARATORS.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        return False, f"gtin: {text!r} is not digits"
    if len(digits) not in (8, 12, 13, 14):
        return False, f"gtin: {text!r} has {len(digits)} digits; a GTIN has 8, 12, 13 or 14"
    try:
        ean.validate(digits)
    except ValidationError:
        return False, f"gtin: {text!r} has a wrong check digit"
    return True, digits.zfill(14)


@_transform(
    "gtin",
    "none",
    "A GS1 GTIN-8/12/13/14, check digit verified, as 14 digits (spaces and hyphens removed).",
)
def _build_gtin(argument: Any, _context: BuildContext) -> Step:
    _no_argument(argument)

    def gtin(value: Any) -> Any:
        if value is None:
            return None
        if value.__class__ is int and value >= 0:
            value = str(value).zfill(14)  # read as a number, it lost its leading zeros
        elif value.__class__ is not str:
            raise TransformError(f"gtin: expected a string, got {type_name(value)}")
        ok, result = _gtin(value)
        if not ok:
            raise TransformError(result)
        return result

    return gtin
