"""Source paths: plain ones become direct access and agree with JMESPath everywhere."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from hub.mappings.errors import SpecError
from hub.mappings.paths import compile_path, walk

DOCUMENTS: list[Any] = [
    {
        "id": 5678901234567890123,
        "customer": {"id": 7390123456789012345, "tags": None},
        "line_items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2.5}],
        "name": "#1001",
        "flags": [True, False],
        "b-c": {"d": 0},
        "empty": {},
    },
    {"customer": "not an object", "line_items": {"0": "not a list"}, "name": None},
    {"line_items": "text", "customer": [1, 2]},
    [{"sku": "A"}, {"sku": "B"}],
    "just text",
    12,
    None,
]

PLAIN = [
    ("id", ("id",)),
    ("customer.id", ("customer", "id")),
    ("customer.tags", ("customer", "tags")),
    ("line_items[0].sku", ("line_items", 0, "sku")),
    ("line_items[1].qty", ("line_items", 1, "qty")),
    ("line_items[-1].sku", ("line_items", -1, "sku")),
    ("line_items[5].sku", ("line_items", 5, "sku")),
    ("line_items[0]", ("line_items", 0)),
    ("flags[1]", ("flags", 1)),
    ('"b-c".d', ("b-c", "d")),
    ("empty.nothing.deeper", ("empty", "nothing", "deeper")),
    ("[0].sku", (0, "sku")),
    ("@", ()),
    ("name", ("name",)),
]

INTERPRETED = [
    "to_string(id)",
    "line_items[*].sku",
    "line_items[?qty > `1`].sku | [0]",
    "customer.id || id",
    "line_items[0:1]",
    "length(line_items)",
    '`"literal"`',
    "{sku: line_items[0].sku}",
]


@pytest.mark.parametrize(("expression", "steps"), PLAIN)
def test_plain_paths_become_direct_steps(expression: str, steps: tuple[Any, ...]) -> None:
    assert compile_path(expression).steps == steps


@pytest.mark.parametrize("expression", INTERPRETED)
def test_other_paths_are_left_to_jmespath(expression: str) -> None:
    assert compile_path(expression).steps is None


@pytest.mark.parametrize("expression", [e for e, _ in PLAIN])
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: type(d).__name__)
def test_direct_access_agrees_with_jmespath(expression: str, document: Any) -> None:
    path = compile_path(expression)
    assert path.steps is not None
    expected = jmespath.search(expression, document)
    assert walk(document, path.steps) == expected
    assert path.search(document) == expected


@pytest.mark.parametrize("expression", INTERPRETED)
def test_interpreted_paths_search_like_jmespath(expression: str) -> None:
    document = DOCUMENTS[0]
    assert compile_path(expression).search(document) == jmespath.search(expression, document)


def test_a_64_bit_id_read_by_a_function_stays_exact() -> None:
    assert compile_path("to_string(id)").search(DOCUMENTS[0]) == "5678901234567890123"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("line_items[", "is not valid JMESPath"),
        ("a..b", "is not valid JMESPath"),
        ("", "a non-empty string"),
        (12, "a non-empty string"),
    ],
)
def test_invalid_paths_are_spec_errors(expression: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        compile_path(expression)
