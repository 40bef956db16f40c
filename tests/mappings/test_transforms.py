"""Every transform, on good values and on the values it must refuse."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.mappings.decimals import to_json_number
from hub.mappings.errors import SpecError, TransformError
from hub.mappings.tables import Table, load_table
from hub.mappings.transforms import (
    NO_ARGUMENT,
    TRANSFORMS,
    BuildContext,
    Step,
    build_step,
    numeric_parser,
)
from hub.mappings.units import UOM_CODES


def step(spec: Any, tables: dict[str, Table] | None = None) -> Step:
    return build_step(spec, BuildContext(tables or {}))[1]


def run(spec: Any, value: Any, tables: dict[str, Table] | None = None) -> Any:
    """The value as a mapping would write it: Decimals become JSON numbers at the end."""
    result = step(spec, tables)(value)
    return to_json_number(result) if isinstance(result, Decimal) else result


def same(actual: Any, expected: Any) -> None:
    """Equal and of the same type: 2 is not 2.0, 1 is not True."""
    assert (type(actual), actual) == (type(expected), expected)


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, Table]:
    (tmp_path / "locations.csv").write_text(
        "shopify_id,code,gln\n65432109876,WH-RTM,8719946000013\n65432109877,WH-VNL,\n"
    )
    (tmp_path / "units.csv").write_text("name,value\nstuk,EA\ndoos,CS\n")
    (tmp_path / "packs.csv").write_text("unit,EA\nCS,12\nPL,480\n")
    (tmp_path / "sites.yaml").write_text(
        'RTM: {code: WH-RTM, gln: "8719946000013"}\nplain: just text\n'
    )
    return {
        name: load_table(tmp_path / file)
        for name, file in (
            ("locations", "locations.csv"),
            ("units", "units.csv"),
            ("packs", "packs.csv"),
            ("sites", "sites.yaml"),
        )
    }


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5678901234567890123, "5678901234567890123"),
        (12.5, "12.5"),
        (24.0, "24"),
        (True, "true"),
        (False, "false"),
        ("as is", "as is"),
        (Decimal("12.30"), "12.3"),
        (None, None),
    ],
)
def test_string(value: Any, expected: Any) -> None:
    same(run("string", value), expected)


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_string_refuses_lists_and_objects(value: Any) -> None:
    with pytest.raises(TransformError, match="string: cannot make a string of"):
        run("string", value)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("upper", "fs-cof-1kg", "FS-COF-1KG"),
        ("lower", "EA", "ea"),
        ("trim", "  SKU 1 \t", "SKU 1"),
        ({"trim": "#"}, "#EU-100734#", "EU-100734"),
        ({"prefix": "SHOP-"}, "1001", "SHOP-1001"),
        ({"prefix": "SHOP-"}, 5678901234567890123, "SHOP-5678901234567890123"),
        ({"suffix": "-EU"}, "1001", "1001-EU"),
        ("null_if_blank", "", None),
        ("null_if_blank", " \t", None),
        ("null_if_blank", "x", "x"),
        ("null_if_blank", 0, 0),
    ],
)
def test_text_transforms(spec: Any, value: Any, expected: Any) -> None:
    same(run(spec, value), expected)


@pytest.mark.parametrize("spec", ["upper", "lower", "trim", {"trim": "#"}])
def test_text_transforms_refuse_other_types_and_pass_missing(spec: Any) -> None:
    assert run(spec, None) is None
    with pytest.raises(TransformError, match="expected a string, got a number"):
        run(spec, 12)


def test_prefix_refuses_an_object() -> None:
    with pytest.raises(TransformError, match="prefix: cannot make a string of an object"):
        run({"prefix": "A"}, {"x": 1})


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5678901234567890123, 5678901234567890123),
        ("12", 12),
        (" 12 ", 12),
        (12.0, 12),
        ("12.000", 12),
        ("-3", -3),
    ],
)
def test_integer(value: Any, expected: int) -> None:
    same(run("integer", value), expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12.5, "not a whole number"),
        ("12.5", "not a whole number"),
        ("twelve", "is not a number"),
        ("1_000", "is not a number"),
        (True, "got a boolean"),
        ([12], "got an array"),
    ],
)
def test_integer_refuses(value: Any, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        run("integer", value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (24, 24),
        (24.0, 24),
        (12.5, 12.5),
        ("12.30", 12.3),
        ("0012.50", 12.5),
        ("1e2", 100),
        ("-0.25", -0.25),
        (5678901234567890123, 5678901234567890123),
        ("5678901234567890123", 5678901234567890123),
        ("18446744073709551615", 18446744073709551615),  # the largest 64-bit unsigned
        ("1e30", 1e30),  # integral but beyond 64 bits: a float that says it exactly
    ],
)
def test_decimal_keeps_every_digit(value: Any, expected: Any) -> None:
    same(run("decimal", value), expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a number"),
        ("NaN", "is not a number"),
        ("12,50", "is not a number"),
        (float("inf"), "not a finite number"),
        (True, "got a boolean"),
        ({"amount": 1}, "got an object"),
    ],
)
def test_decimal_refuses(value: Any, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        run("decimal", value)


def test_a_decimal_no_float_can_say_is_an_error_not_a_rounding() -> None:
    with pytest.raises(TransformError, match="no exact JSON number"):
        run("decimal", "0.12345678901234567890123")


@pytest.mark.parametrize(
    ("factor", "value", "expected"),
    [
        (3, 0.1, 0.3),  # not 0.30000000000000004
        ("0.1", 3, 0.3),
        (0.1, 3, 0.3),
        ("0.001", 100250, 100.25),
        (12, "2.5", 30),
        ("0.45359237", 2, 0.90718474),
        (2, 5678901234567890123 // 2, 5678901234567890122),
    ],
)
def test_multiply_is_exact(factor: Any, value: Any, expected: Any) -> None:
    same(run({"multiply": factor}, value), expected)


@pytest.mark.parametrize("factor", ["abc", True, None, [2]])
def test_multiply_needs_a_number(factor: Any) -> None:
    with pytest.raises(SpecError, match="multiply"):
        step({"multiply": factor})


@pytest.mark.parametrize(
    ("places", "value", "expected"),
    [(2, 2.345, 2.35), (2, "2.344", 2.34), (0, 2.5, 3), (0, -2.5, -3), (1, 7, 7), (3, "1.1", 1.1)],
)
def test_round_half_away_from_zero(places: int, value: Any, expected: Any) -> None:
    same(run({"round": places}, value), expected)


@pytest.mark.parametrize("places", [-1, 21, "2", True])
def test_round_needs_places(places: Any) -> None:
    with pytest.raises(SpecError, match="decimal places"):
        step({"round": places})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        (" Y ", True),
        ("on", True),
        (1, True),
        ("false", False),
        ("No", False),
        ("0", False),
        (0, False),
    ],
)
def test_boolean(value: Any, expected: bool) -> None:
    same(run("boolean", value), expected)


@pytest.mark.parametrize("value", [2, "maybe", 1.0, []])
def test_boolean_refuses(value: Any) -> None:
    with pytest.raises(TransformError, match="is not a yes or a no"):
        run("boolean", value)


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("date", "2026-03-14", "2026-03-14"),
        ("date", "2026-03-14T23:30:00-05:00", "2026-03-14"),  # the date as written there
        ({"date": "%d/%m/%Y"}, "17/03/2026", "2026-03-17"),
        ({"date": {"format": "%m/%d/%y"}}, "03/17/26", "2026-03-17"),
        ("date", None, None),
    ],
)
def test_date(spec: Any, value: Any, expected: Any) -> None:
    same(run(spec, value), expected)


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        ("date", "2026-02-30", "is not an ISO 8601 date-time"),
        ({"date": "%d/%m/%Y"}, "31/02/2026", "is not format '%d/%m/%Y'"),
        ({"date": "%d/%m/%Y"}, "2026-03-17", "is not format"),
        ("date", 20260317, "expected a string"),
    ],
)
def test_date_refuses(spec: Any, value: Any, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        run(spec, value)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("datetime", "2026-03-14T10:15:02+01:00", "2026-03-14T10:15:02+01:00"),
        ("datetime", "2026-03-14T09:15:02Z", "2026-03-14T09:15:02Z"),
        ({"datetime": {"utc": True}}, "2026-03-14T10:15:02+01:00", "2026-03-14T09:15:02Z"),
        (
            {"datetime": {"timezone": "Europe/Amsterdam"}},
            "2026-03-14 10:15:02",
            "2026-03-14T10:15:02+01:00",
        ),
        (
            {"datetime": {"timezone": "Europe/Amsterdam"}},
            "2026-07-14 10:15:02",
            "2026-07-14T10:15:02+02:00",
        ),
        (
            {"datetime": {"format": "%d-%m-%Y %H:%M", "timezone": "America/Chicago", "utc": True}},
            "14-03-2026 10:15",
            "2026-03-14T15:15:00Z",
        ),
        ("datetime", 0, "1970-01-01T00:00:00Z"),
        ("datetime", "2026-03-14T10:15:02.250+01:00", "2026-03-14T10:15:02.250000+01:00"),
        ("datetime", None, None),
    ],
)
def test_datetime(spec: Any, value: Any, expected: Any) -> None:
    same(run(spec, value), expected)


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (
            "datetime",
            "2026-03-14 10:15:02",
            "has no UTC offset and the transform names no timezone",
        ),
        ("datetime", "yesterday", "is not an ISO 8601 date-time"),
        ({"datetime": "%d/%m/%Y %H:%M"}, "2026-03-14", "is not format"),
        ("datetime", [], "expected a string"),
    ],
)
def test_datetime_refuses(spec: Any, value: Any, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        run(spec, value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"datetime": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"datetime": {"zone": "UTC"}}, "unknown option"),
        ({"datetime": {"utc": "yes"}}, "wrong type"),
        ({"date": "dd/mm/yyyy"}, "no % directive"),
        ({"date": 12}, "strptime format"),
    ],
)
def test_date_arguments_are_checked_at_load(spec: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        step(spec)


# --- tables and codes -------------------------------------------------------------------


def test_lookup_by_column_with_numeric_keys(tables: dict[str, Table]) -> None:
    code = {"lookup": {"table": "locations", "column": "code"}}
    gln = {"lookup": {"table": "locations", "column": "gln"}}
    same(run(code, 65432109876, tables), "WH-RTM")
    same(run(code, "65432109877", tables), "WH-VNL")
    same(run(gln, 65432109876, tables), "8719946000013")
    assert run(gln, 65432109877, tables) is None  # an empty cell is a missing value
    assert run(code, None, tables) is None


def test_lookup_default_column_is_value_else_the_first(tables: dict[str, Table]) -> None:
    same(run({"lookup": "units"}, "doos", tables), "CS")
    same(run({"lookup": "locations"}, 65432109876, tables), "WH-RTM")


def test_lookup_of_an_unknown_key_is_an_error_unless_a_default(tables: dict[str, Table]) -> None:
    with pytest.raises(TransformError, match=r"lookup: '99' is not in table 'locations'"):
        run({"lookup": "locations"}, 99, tables)
    same(run({"lookup": {"table": "locations", "default": "WH-MAIN"}}, 99, tables), "WH-MAIN")
    assert run({"lookup": {"table": "locations", "default": None}}, 99, tables) is None


def test_lookup_in_a_yaml_table_returns_a_fresh_copy(tables: dict[str, Table]) -> None:
    look_up = step({"lookup": "sites"}, tables)
    first = look_up("RTM")
    assert first == {"code": "WH-RTM", "gln": "8719946000013"}
    first["code"] = "changed"
    assert look_up("RTM")["code"] == "WH-RTM"
    same(run({"lookup": {"table": "sites", "column": "gln"}}, "RTM", tables), "8719946000013")
    same(run({"lookup": "sites"}, "plain", tables), "just text")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"lookup": "nope"}, "no table 'nope'"),
        ({"lookup": {"table": "locations", "column": "city"}}, "has no column 'city'"),
        ({"lookup": {"column": "code"}}, "missing option"),
        ({"lookup": 12}, "expected a mapping"),
        ("lookup", "expected a mapping"),
    ],
)
def test_lookup_arguments_are_checked_at_load(
    spec: Any, message: str, tables: dict[str, Table]
) -> None:
    with pytest.raises(SpecError, match=message):
        step(spec, tables)


def test_lookup_refuses_a_key_that_is_not_text_or_a_number(tables: dict[str, Table]) -> None:
    with pytest.raises(TransformError, match="a table key is a string or a number"):
        run({"lookup": "locations"}, True, tables)


def test_map_translates_codes_inline() -> None:
    same(run({"map": {"web": "ecommerce", "pos": "counter"}}, "pos", None), "counter")
    with pytest.raises(TransformError, match="'app' is not in the map"):
        run({"map": {"web": "ecommerce"}}, "app")
    spec = {"map": {"values": {"web": "ecommerce"}, "default": "sales_rep"}}
    same(run(spec, "app"), "sales_rep")
    same(run({"map": {"1": True, "2": False}}, 2), False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("each", "EA"),
        ("PCS", "EA"),
        (" Piece ", "EA"),
        ("case", "CS"),
        ("kgs", "KG"),
        ("LBS", "LB"),
        ("litre", "LT"),
        ("KGM", "KGM"),
        ("c62", "C62"),
    ],
)
def test_uom_normalises_unit_names(value: str, expected: str) -> None:
    same(run("uom", value), expected)


def test_uom_refuses_unknown_units_and_a_table_extends_it(tables: dict[str, Table]) -> None:
    with pytest.raises(TransformError, match="uom: unknown unit 'stuk'"):
        run("uom", "stuk")
    with pytest.raises(TransformError, match="expected a unit name, got a number"):
        run("uom", 12)
    same(run({"uom": {"table": "units"}}, "Stuk", tables), "EA")
    same(run({"uom": {"table": "units"}}, "kg", tables), "KG")


def test_every_built_in_unit_is_a_contract_unit() -> None:
    from hub.mappings.units import BUILTIN_UNITS

    assert set(BUILTIN_UNITS.values()) <= set(UOM_CODES)


@pytest.mark.parametrize(
    ("argument", "value", "expected"),
    [
        ({"from": "LB", "to": "KG"}, 2, 0.90718474),
        ({"from": "lbs", "to": "kg"}, "10", 4.5359237),
        ({"from": "OZ", "to": "GRM"}, 16, 453.59237),
        ({"from": "DZ", "to": "EA"}, 2, 24),
        ({"from": "GA", "to": "LTR"}, 1, 3.785411784),
        ({"from": "CS", "to": "EA", "factors": "packs"}, 3, 36),
        ({"from": "EA", "to": "CS", "factors": "packs"}, 30, 2.5),  # the factor inverted
        ({"from": "KG", "to": "KG"}, 1.5, 1.5),
    ],
)
def test_convert_uom(
    argument: dict[str, Any], value: Any, expected: Any, tables: dict[str, Table]
) -> None:
    same(run({"convert_uom": argument}, value, tables), expected)


def test_convert_uom_that_does_not_terminate_needs_rounding() -> None:
    with pytest.raises(TransformError, match="round it first"):
        run({"convert_uom": {"from": "KG", "to": "LB"}}, 1)
    convert = step({"convert_uom": {"from": "KG", "to": "LB"}})
    rounded = step({"round": 3})(convert(1))
    same(to_json_number(rounded), 2.205)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"from": "CS", "to": "EA"}, "no factor from CS to EA in the built-in units"),
        ({"from": "KG", "to": "LT"}, "no factor from KG to LT"),
        ({"from": "CS", "to": "KG", "factors": "packs"}, "in table 'packs' or the built-in"),
        ({"from": "stone", "to": "KG"}, "unknown unit 'stone'"),
        ({"from": "KG"}, "missing option"),
    ],
)
def test_convert_uom_arguments_are_checked_at_load(
    argument: dict[str, Any], message: str, tables: dict[str, Table]
) -> None:
    with pytest.raises(SpecError, match=message):
        step({"convert_uom": argument}, tables)


# --- presence and identifiers -----------------------------------------------------------


def test_default_fills_only_missing_values_with_fresh_copies() -> None:
    same(run({"default": "EA"}, None), "EA")
    same(run({"default": "EA"}, "CS"), "CS")
    same(run({"default": 0}, 0.0), 0.0)
    fill = step({"default": {"tags": []}})
    first = fill(None)
    first["tags"].append("x")
    assert fill(None) == {"tags": []}
    with pytest.raises(SpecError, match="give the default value"):
        step("default")


def test_required() -> None:
    with pytest.raises(TransformError, match="required: the value is missing"):
        run("required", None)
    same(run("required", ""), "")
    same(run("required", 0), 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8719946002154", "08719946002154"),
        ("98719946003086", "98719946003086"),
        ("8719946-00147-8", "08719946001478"),
        ("8 719946 005209", "08719946005209"),
        ("012345678905", "00012345678905"),
        (12345678905, "00012345678905"),  # a UPC read as a number lost its leading zero
        ("96385074", "00000096385074"),
    ],
)
def test_gtin_is_verified_and_padded_to_14_digits(value: Any, expected: str) -> None:
    same(run("gtin", value), expected)


# Unicode digits Python's isdigit() accepts, and GS1 does not.
FULL_WIDTH_GTIN = "".join(chr(0xFF10 + int(digit)) for digit in "8719946002154")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8719946002155", "gtin: '8719946002155' has a wrong check digit"),
        ("87199460021", "has 11 digits; a GTIN has 8, 12, 13 or 14"),
        ("ABC-123", "is not digits"),
        (FULL_WIDTH_GTIN, "is not digits"),
        (8.7, "expected a string, got a number"),
    ],
)
def test_gtin_refuses(value: Any, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        run("gtin", value)


# --- the registry itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("capitalise", "unknown transform 'capitalise'; known: boolean"),
        ({"upper": True}, "upper: takes no argument"),
        ({"prefix": 12}, "prefix: expected a string"),
        ({"upper": None, "lower": None}, "a one-key mapping"),
        (12, "a transform is a name"),
    ],
)
def test_unknown_names_and_bad_arguments_are_spec_errors(spec: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        step(spec)


# Arguments that build each transform, for the check of its `skip` condition below.
_ARGUMENTS: dict[str, Any] = {
    "prefix": "P-",
    "suffix": "-S",
    "lookup": "units",
    "map": {"a": "b"},
    "convert_uom": {"from": "LB", "to": "KG"},
    "multiply": 2,
    "round": 1,
    "default": "D",
}
_SAMPLES: list[Any] = [None, "", " x ", "a", 0, 1, 7, 2.5, True, [], {}, Decimal("1.5")]


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_skip_conditions_are_where_the_transform_changes_nothing(
    name: str, tables: dict[str, Table]
) -> None:
    """The compiled mapping does not call a transform when its `skip` condition holds, so
    the transform must return its input unchanged there."""
    function = step({name: _ARGUMENTS[name]} if name in _ARGUMENTS else name, tables)
    condition = compile(TRANSFORMS[name].skip, f"<skip {name}>", "eval")
    skipped = [v for v in _SAMPLES if eval(condition, {"_v": v})]
    assert skipped, f"{name}: no sample meets {TRANSFORMS[name].skip!r}"
    for value in skipped:
        assert function(value) is value, (name, value)


def test_every_transform_states_its_argument_and_purpose() -> None:
    for transform in TRANSFORMS.values():
        assert transform.argument and transform.summary.endswith("."), transform.name
    assert NO_ARGUMENT is not None


@pytest.mark.parametrize(
    "fmt", ["%d/%m/%Y", "%m/%d/%Y %H:%M", "%Y%m%d", "%d-%m-%Y %H:%M:%S", "%Y-%m-%dT%H:%M"]
)
@pytest.mark.parametrize(
    "text",
    [
        "17/03/2026",
        "7/3/2026",
        "31/02/2026",
        "03/17/2026 09:05",
        "3/17/2026   9:05",
        "20260317",
        "17-03-2026 23:59:60",
        "2026-03-17t09:05",
        "2026-03-17T24:00",
        "17/03/2026 extra",
        " 7/03/2026",
        "",
    ],
)
def test_numeric_formats_parse_exactly_like_strptime(fmt: str, text: str) -> None:
    """Numeric-only formats skip strptime's interpretation, and must not change the answer."""
    parse = numeric_parser(fmt)
    assert parse is not None
    try:
        expected: Any = datetime.strptime(text, fmt)
    except ValueError:
        expected = ValueError
    try:
        actual: Any = parse(text)
    except ValueError:
        actual = ValueError
    assert actual == expected


@pytest.mark.parametrize("fmt", ["%d %b %Y", "%Y-%m", "%d/%m/%Y %z", "%d/%m/%Y %%", "%Y-%m-%d %d"])
def test_other_formats_are_left_to_strptime(fmt: str) -> None:
    assert numeric_parser(fmt) is None
