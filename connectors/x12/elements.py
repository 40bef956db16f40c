"""Element values: X12 dates, times and decimals to and from their JSON forms, exactly.

Reading, a value of the wrong form raises :class:`SetError` naming the segment, its
position in the transaction set and the element, with the 997 codes that report it. The
JSON forms are ISO dates (``2026-03-27``), RFC 3339 date-times with an offset and decimal
numbers as text (``"12.5"``), never floats, so quantities survive to the mapping exactly.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.x12.envelope import SetProblem
from connectors.x12.segments import Segment

_DECIMAL = re.compile(r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_INTEGER = re.compile(r"^-?[0-9]+$")


class SetError(Exception):
    """A transaction set that cannot be read: the set is rejected (997 AK5 R)."""

    def __init__(self, problem: SetProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def element(segment: Segment, number: int) -> str:
    """Element ``number`` of a segment (1 = the first after the tag), ``""`` when absent."""
    return segment[number] if number < len(segment) else ""


def optional(segment: Segment, number: int) -> str | None:
    """Element ``number``, or ``None`` when absent or empty."""
    value = segment[number] if number < len(segment) else ""
    return value or None


def fail(
    segment: Segment,
    position: int,
    number: int | None,
    message: str,
    *,
    element_code: str | None = None,
    segment_code: str = "8",
) -> SetError:
    """The error for a bad element (or, with ``number=None``, a bad segment)."""
    value = element(segment, number) if number is not None else None
    return SetError(
        SetProblem(
            message,
            segment_id=segment[0],
            position=position,
            segment_code=segment_code,
            element=number,
            element_code=element_code,
            value=value or None,
        )
    )


def missing_segment(tag: str, position: int, what: str) -> SetError:
    """The error for a mandatory segment that is not there (AK304 = 3)."""
    return SetError(
        SetProblem(
            f"the mandatory {tag} segment ({what}) is missing",
            segment_id=tag,
            position=position,
            segment_code="3",
        )
    )


def required(segment: Segment, position: int, number: int, what: str) -> str:
    """A mandatory element's value (AK403 = 1 when it is missing)."""
    value = element(segment, number)
    if not value:
        raise fail(segment, position, number, f"{what} is missing", element_code="1")
    return value


def decimal_text(segment: Segment, position: int, number: int, what: str) -> str | None:
    """An X12 ``R`` (decimal) element as exact decimal text (``".5"`` → ``"0.5"``)."""
    value = element(segment, number)
    if not value:
        return None
    if not _DECIMAL.match(value):
        raise fail(segment, position, number, f"{what} {value!r} is not a number", element_code="6")
    return format(Decimal(value), "f")


def required_decimal(segment: Segment, position: int, number: int, what: str) -> str:
    value = decimal_text(segment, position, number, what)
    if value is None:
        raise fail(segment, position, number, f"{what} is missing", element_code="1")
    return value


def integer(segment: Segment, position: int, number: int, what: str) -> int | None:
    """An X12 ``N0`` (integer) element."""
    value = element(segment, number)
    if not value:
        return None
    if not _INTEGER.match(value):
        raise fail(
            segment, position, number, f"{what} {value!r} is not a whole number", element_code="6"
        )
    return int(value)


def date_of(segment: Segment, position: int, number: int, what: str) -> str | None:
    """An X12 date (``CCYYMMDD``, or ``YYMMDD`` in older versions) as ``YYYY-MM-DD``."""
    value = element(segment, number)
    if not value:
        return None
    text = value
    if len(text) == 6 and text.isdigit():
        text = "20" + text  # YYMMDD: X12 windows these into this century
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        raise fail(
            segment, position, number, f"{what} {value!r} is not a date", element_code="8"
        ) from None


def required_date(segment: Segment, position: int, number: int, what: str) -> str:
    value = date_of(segment, position, number, what)
    if value is None:
        raise fail(segment, position, number, f"{what} is missing", element_code="1")
    return value


def time_of(segment: Segment, position: int, number: int, what: str) -> str | None:
    """An X12 time (``HHMM``, ``HHMMSS``, ``HHMMSSD``, ``HHMMSSDD``) as ``HH:MM[:SS[.D]]``."""
    value = element(segment, number)
    if not value:
        return None
    try:
        if not value.isdigit() or len(value) not in (4, 6, 7, 8):
            raise ValueError(value)
        moment = time(int(value[:2]), int(value[2:4]), int(value[4:6] or 0))
    except ValueError:
        raise fail(
            segment, position, number, f"{what} {value!r} is not a time", element_code="9"
        ) from None
    text = moment.isoformat(timespec="minutes" if len(value) == 4 else "seconds")
    return text + (f".{value[6:]}" if len(value) > 6 else "")


def moment_of(day: str, clock: str | None, zone: tzinfo) -> str:
    """An RFC 3339 date-time from an ISO date and time read from X12, in the partner's zone.

    X12 dates and times carry no offset; the connection says which zone its partner
    writes them in. UTC comes out as ``Z``.
    """
    local = datetime.fromisoformat(f"{day}T{clock or '00:00'}").replace(tzinfo=zone)
    text = local.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# AT707 / DTM04 time codes (DE 623) for the zones of North America; LT is the local time of
# the connection's zone. Daylight-saving ones follow the zone's rules.
_TIME_CODES: dict[str, str] = {
    "UT": "UTC",
    "GM": "UTC",
    "ET": "America/New_York",
    "ES": "Etc/GMT+5",
    "ED": "Etc/GMT+4",
    "CT": "America/Chicago",
    "CS": "Etc/GMT+6",
    "CD": "Etc/GMT+5",
    "MT": "America/Denver",
    "MS": "Etc/GMT+7",
    "MD": "Etc/GMT+6",
    "PT": "America/Los_Angeles",
    "PS": "Etc/GMT+8",
    "PD": "Etc/GMT+7",
    "AT": "America/Halifax",
    "NT": "America/St_Johns",
    "AK": "America/Anchorage",
    "HT": "Pacific/Honolulu",
}


def zone_of(code: str | None, default: tzinfo) -> tzinfo:
    """The zone an X12 time code names; ``default`` for LT or no code."""
    name = _TIME_CODES.get(code or "")
    return ZoneInfo(name) if name else default


# -- writing ---------------------------------------------------------------------------------


def x12_date(value: date | str) -> str:
    """``2026-03-27`` → ``20260327``."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return day.strftime("%Y%m%d")


def x12_time(value: time) -> str:
    """A time as ``HHMM`` (or ``HHMMSS`` when it has seconds)."""
    return value.strftime("%H%M%S" if value.second else "%H%M")


def x12_decimal(value: Decimal | int) -> str:
    """A number as an X12 ``R`` value: no exponent, no trailing zeros (``12.50`` → ``12.5``)."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def exact_decimal(value: object) -> Decimal:
    """A number from JSON (int, float, or numeric text) as an exact Decimal.

    A float enters through its shortest text (``0.1`` is ``Decimal("0.1")``), as the
    mapping engine's numbers do, so a quantity the mapping wrote as ``38.75`` is 38.75.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        return Decimal(value.strip())
    raise ValueError(f"{value!r} is not a number")
