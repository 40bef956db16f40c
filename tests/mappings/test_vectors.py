"""Test vectors: exact comparison, readable differences, expected errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.mappings import MappingRegistry, TestResult, run_tests
from hub.mappings.vectors import differences_between
from tests.mappings.conftest import mapping_document, write


@pytest.mark.parametrize(
    ("expected", "actual", "lines"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 2}, {"a": 2.0}, ["/a: expected integer 2, got number 2.0"]),
        ({"a": 1}, {"a": True}, ["/a: expected integer 1, got boolean True"]),
        ({"a": 0.3}, {"a": 0.30000000000000004}, ["/a: expected 0.3, got 0.30000000000000004"]),
        ({"a": "x"}, {}, ["/a: missing (expected 'x')"]),
        ({}, {"b": None}, ["/b: unexpected None"]),
        (
            {"lines": [{"sku": "A"}, {"sku": "B"}]},
            {"lines": [{"sku": "A"}, {"sku": "C"}, {"sku": "D"}]},
            ["/lines/1/sku: expected 'B', got 'C'", "/lines: expected 2 items, got 3"],
        ),
        ({"a/b": {"~": 1}}, {"a/b": {"~": 2}}, ["/a~1b/~0: expected 1, got 2"]),
        ([1], {"a": 1}, ["/: expected array [1], got object {'a': 1}"]),
    ],
)
def test_differences_are_exact_and_located(expected: Any, actual: Any, lines: list[str]) -> None:
    assert differences_between(expected, actual) == lines


def test_run_tests_reports_each_vector(tmp_path: Path) -> None:
    write(
        tmp_path,
        "m.yaml",
        mapping_document(
            "m",
            fields={
                "qty": {"path": "qty", "via": ["decimal"]},
                "gtin": {"path": "gtin", "via": ["gtin"]},
            },
            tests=[
                {"name": "passes", "input": {"qty": "2.50"}, "expect": {"qty": 2.5}},
                {"name": "wrong type", "input": {"qty": "2"}, "expect": {"qty": 2.0}},
                {
                    "name": "error expected",
                    "input": {"gtin": "1"},
                    "error": "/gtin: gtin: '1' has 1 digits",
                },
                {"name": "other error", "input": {"gtin": "1"}, "error": "check digit"},
                {"name": "no error", "input": {}, "error": "gtin"},
                {"name": "unexpected error", "input": {"gtin": "x"}, "expect": {}},
            ],
        ),
    )
    write(tmp_path, "n.yaml", mapping_document("n"))
    registry = MappingRegistry.load(tmp_path)
    results = run_tests(registry, ["m"])
    assert [(r.mapping, r.name, r.passed) for r in results] == [
        ("m", "passes", True),
        ("m", "wrong type", False),
        ("m", "error expected", True),
        ("m", "other error", False),
        ("m", "no error", False),
        ("m", "unexpected error", False),
    ]
    details = [r.detail for r in results]
    assert details[0] == details[2] == ""
    assert details[1] == "/qty: expected number 2.0, got integer 2"
    assert details[3].startswith(
        "expected an error containing 'check digit', got: /gtin: gtin: '1'"
    )
    assert details[4] == "expected an error containing 'gtin', but the mapping succeeded"
    assert details[5] == "mapping error: /gtin: gtin: 'x' is not digits (from gtin)"
    assert [r.mapping for r in run_tests(registry)] == ["m"] * 6 + ["n"]
    with pytest.raises(KeyError):
        run_tests(registry, ["nope"])


def test_a_long_diff_is_cut(tmp_path: Path) -> None:
    expect = {f"f{n}": n for n in range(30)}
    write(
        tmp_path,
        "m.yaml",
        mapping_document("m", tests=[{"name": "t", "input": {"id": 1}, "expect": expect}]),
    )
    (result,) = run_tests(MappingRegistry.load(tmp_path))
    lines = result.detail.splitlines()
    assert len(lines) == 21
    assert lines[-1] == "… and 11 more"


def test_results_are_not_collected_as_tests() -> None:
    assert TestResult.__test__ is False
