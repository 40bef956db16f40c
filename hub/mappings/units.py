"""Units of measure: the canonical codes, the names systems use for them, exact factors.

The canonical codes are the contracts' ``uom`` enum (X12 DE 355 and UN/ECE Rec 20 codes).
Aliases are matched case-insensitively after trimming. A mapping extends them with a table
(``{uom: {table: my_units}}``).
"""

from __future__ import annotations

from decimal import Decimal

from hub.mappings.decimals import EXACT

# The ``uom`` enum of every contract (contracts/*/1.0.schema.json); a test keeps them equal.
UOM_CODES: tuple[str, ...] = (
    "EA", "CS", "PL", "PK", "BX", "CT", "DZ", "PR", "RL", "BG", "DR", "KG", "LB", "OZ",
    "GA", "LT", "MR", "FT", "IN", "C62", "H87", "KGM", "GRM", "LBR", "LTR", "MTR",
    "XBX", "XCT", "XPK", "XPX",
)  # fmt: skip

_ALIASES: dict[str, tuple[str, ...]] = {
    "EA": ("each", "ea", "pc", "pcs", "piece", "pieces", "unit", "units", "un", "item", "items"),
    "CS": ("case", "cases", "cs"),
    "PL": ("pallet", "pallets", "pl", "plt"),
    "PK": ("pack", "packs", "pk", "pkg", "package"),
    "BX": ("box", "boxes", "bx"),
    "CT": ("carton", "cartons", "ct", "ctn"),
    "DZ": ("dozen", "dozens", "dz", "doz"),
    "PR": ("pair", "pairs", "pr"),
    "RL": ("roll", "rolls", "rl"),
    "BG": ("bag", "bags", "bg"),
    "DR": ("drum", "drums", "dr"),
    "KG": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    "LB": ("lb", "lbs", "pound", "pounds"),
    "OZ": ("oz", "ounce", "ounces"),
    "GA": ("gal", "gallon", "gallons", "ga"),
    "LT": ("l", "lt", "ltr", "liter", "liters", "litre", "litres"),
    "MR": ("m", "meter", "meters", "metre", "metres", "mr"),
    "FT": ("ft", "foot", "feet"),
    "IN": ("in", "inch", "inches"),
    "GRM": ("g", "gr", "gram", "grams", "gramme", "grammes"),
}

BUILTIN_UNITS: dict[str, str] = {code.lower(): code for code in UOM_CODES} | {
    alias: code for code, aliases in _ALIASES.items() for alias in aliases
}

# How much of the dimension's base unit one unit is. Only units with a fixed size: packaging
# units (case, pallet, …) differ per item, so their factors come from a mapping's table.
# Every factor is exact by definition (1 lb = 0.45359237 kg, 1 US gal = 3.785411784 l).
_BASE_FACTORS: dict[str, tuple[str, Decimal]] = {
    "KG": ("mass", Decimal(1)),
    "KGM": ("mass", Decimal(1)),
    "GRM": ("mass", Decimal("0.001")),
    "LB": ("mass", Decimal("0.45359237")),
    "LBR": ("mass", Decimal("0.45359237")),
    "OZ": ("mass", Decimal("0.028349523125")),
    "LT": ("volume", Decimal(1)),
    "LTR": ("volume", Decimal(1)),
    "GA": ("volume", Decimal("3.785411784")),
    "MR": ("length", Decimal(1)),
    "MTR": ("length", Decimal(1)),
    "FT": ("length", Decimal("0.3048")),
    "IN": ("length", Decimal("0.0254")),
    "EA": ("count", Decimal(1)),
    "C62": ("count", Decimal(1)),
    "H87": ("count", Decimal(1)),
    "DZ": ("count", Decimal(12)),
}


def builtin_factor(from_code: str, to_code: str) -> Decimal | None:
    """How many ``to_code`` one ``from_code`` is, when both have a fixed size of one kind."""
    source = _BASE_FACTORS.get(from_code)
    target = _BASE_FACTORS.get(to_code)
    if source is None or target is None or source[0] != target[0]:
        return None
    # A quotient of terminating decimals may not terminate (kg → lb); 80 digits then
    # carry it far past what a double keeps, and `round` decides the places.
    return EXACT.divide(source[1], target[1])
