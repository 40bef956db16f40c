"""Test vectors: the input → expected output pairs every mapping file carries, and running them.

A vector either expects an exact output document, or expects the mapping to fail with a
:class:`MappingError` whose text (``/data/lines/2/item/gtin: gtin: '…' has a wrong check
digit (from line_items[2].barcode)``) contains the given substring. "Exact" is stricter than
Python's ``==``: ``2`` and ``2.0`` differ, and so do ``1`` and ``true``, as they do in JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.mappings.errors import MappingError

if TYPE_CHECKING:
    from hub.mappings.loader import Mapping
    from hub.mappings.registry import MappingRegistry

_MAX_DIFFERENCES = 20


@dataclass(frozen=True)
class TestVector:
    """One vector of a mapping file: ``expect`` (an exact output) or ``error`` (a substring)."""

    __test__ = False  # not a pytest test class, although its name says Test

    name: str
    input: Any
    expect: Any = None
    error: str | None = None


@dataclass(frozen=True)
class TestResult:
    """The outcome of one vector; ``detail`` says what differed when it failed."""

    __test__ = False

    mapping: str
    name: str
    passed: bool
    detail: str = ""


def run_vector(mapping: Mapping, vector: TestVector) -> TestResult:
    """Apply ``mapping`` to the vector's input and judge the outcome."""
    try:
        output = mapping.apply(vector.input)
    except MappingError as exc:
        if vector.error is None:
            return TestResult(mapping.name, vector.name, False, f"mapping error: {exc}")
        if vector.error in str(exc):
            return TestResult(mapping.name, vector.name, True)
        return TestResult(
            mapping.name,
            vector.name,
            False,
            f"expected an error containing {vector.error!r}, got: {exc}",
        )
    if vector.error is not None:
        return TestResult(
            mapping.name,
            vector.name,
            False,
            f"expected an error containing {vector.error!r}, but the mapping succeeded",
        )
    differences = differences_between(vector.expect, output)
    if not differences:
        return TestResult(mapping.name, vector.name, True)
    shown = differences[:_MAX_DIFFERENCES]
    if len(differences) > len(shown):
        shown.append(f"… and {len(differences) - len(shown)} more")
    return TestResult(mapping.name, vector.name, False, "\n".join(shown))


def run_tests(registry: MappingRegistry, names: Iterable[str] | None = None) -> list[TestResult]:
    """Run the vectors of the named mappings (all by default), in name order.

    Raises :class:`KeyError` for a name the registry does not have.
    """
    chosen = [registry.get(name) for name in names] if names is not None else list(registry)
    return [run_vector(mapping, vector) for mapping in chosen for vector in mapping.tests]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "…"


def differences_between(expected: Any, actual: Any, pointer: str = "") -> list[str]:
    """Every place ``actual`` differs from ``expected``, one line each, by JSON pointer."""
    at = pointer or "/"
    if _kind(expected) != _kind(actual):
        want, got = f"{_kind(expected)} {_show(expected)}", f"{_kind(actual)} {_show(actual)}"
        return [f"{at}: expected {want}, got {got}"]
    if isinstance(expected, dict):
        lines: list[str] = []
        for key in expected:
            child = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in actual:
                lines.append(f"{child}: missing (expected {_show(expected[key])})")
            else:
                lines.extend(differences_between(expected[key], actual[key], child))
        for key in actual:
            if key not in expected:
                child = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                lines.append(f"{child}: unexpected {_show(actual[key])}")
        return lines
    if isinstance(expected, list):
        lines = []
        for position, (want, got) in enumerate(zip(expected, actual, strict=False)):
            lines.extend(differences_between(want, got, f"{pointer}/{position}"))
        if len(expected) != len(actual):
            lines.append(f"{at}: expected {len(expected)} items, got {len(actual)}")
        return lines
    if expected != actual:
        return [f"{at}: expected {_show(expected)}, got {_show(actual)}"]
    return []
