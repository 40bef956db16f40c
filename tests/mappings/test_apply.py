"""Applying compiled mappings: sources, nesting, omission, exact numbers and error pointers."""

from __future__ import annotations

from typing import Any

import jmespath
import orjson
import pytest

from hub.mappings import MappingError
from tests.mappings.conftest import MakeMapping
from tests.mappings.test_paths import DOCUMENTS, INTERPRETED, PLAIN

SHOPIFY_ID = 5678901234567890123


def same(actual: Any, expected: Any) -> None:
    """Equal as JSON: 2 is not 2.0 and 1 is not true."""
    assert orjson.dumps(actual, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        expected, option=orjson.OPT_SORT_KEYS
    )


def _agrees(make_mapping: MakeMapping, expressions: list[str], document: Any) -> None:
    fields = {f"f{n}": {"path": e} for n, e in enumerate(expressions)}
    output = make_mapping(fields).apply(document)
    for number, expression in enumerate(expressions):
        expected = jmespath.search(expression, document)
        assert output.get(f"f{number}") == expected, expression
        assert (f"f{number}" in output) == (expected is not None)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: type(d).__name__)
def test_compiled_plain_paths_agree_with_jmespath(make_mapping: MakeMapping, document: Any) -> None:
    _agrees(make_mapping, [e for e, _ in PLAIN], document)


def test_compiled_interpreted_paths_agree_with_jmespath(make_mapping: MakeMapping) -> None:
    _agrees(make_mapping, INTERPRETED, DOCUMENTS[0])


def test_a_64_bit_id_survives_exactly(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "as_number": {"path": "id"},
            "as_text": {"path": "id", "via": ["string"]},
            "by_function": {"path": "to_string(id)"},
            "prefixed": {"path": "id", "via": [{"prefix": "SHOP-"}]},
            "joined": {"concat": [{"value": "order-"}, {"path": "id"}]},
            "nested": {"path": "customer.id"},
        }
    )
    raw = b'{"id": 5678901234567890123, "customer": {"id": 18446744073709551615}}'
    output = mapping.apply_json(raw)
    same(
        output,
        {
            "as_number": SHOPIFY_ID,
            "as_text": "5678901234567890123",
            "by_function": "5678901234567890123",
            "prefixed": "SHOP-5678901234567890123",
            "joined": "order-5678901234567890123",
            "nested": 18446744073709551615,
        },
    )
    assert orjson.dumps(output).startswith(b'{"as_number":5678901234567890123,')


def test_decimals_come_out_exact(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "price": {"path": "price", "via": ["decimal"]},
            "three_tenths": {"path": "tenth", "via": [{"multiply": 3}]},
            "whole": {"path": "whole", "via": ["decimal"]},
            "grams": {"path": "grams", "via": [{"multiply": "0.001"}]},
            "pounds": {
                "path": "kg",
                "via": [{"convert_uom": {"from": "KG", "to": "LB"}}, {"round": 2}],
            },
            "untouched": {"path": "tenth"},
        }
    )
    output = mapping.apply_json(
        b'{"price": "12.30", "tenth": 0.1, "whole": "24.000", "grams": 1250, "kg": 10}'
    )
    same(
        output,
        {
            "price": 12.3,
            "three_tenths": 0.3,
            "whole": 24,
            "grams": 1.25,
            "pounds": 22.05,
            "untouched": 0.1,
        },
    )
    assert isinstance(output["whole"], int)
    assert repr(output["three_tenths"]) == "0.3"


def test_missing_and_null_values_are_omitted_and_empty_objects_too(
    make_mapping: MakeMapping,
) -> None:
    mapping = make_mapping(
        {
            "id": {"path": "id"},
            "gone": {"path": "nope.deeper"},
            "null": {"path": "nothing"},
            "literal_null": {"value": None},
            "data.a": {"path": "missing"},
            "data.b.c": {"path": "missing"},
            "falsy.zero": {"path": "zero"},
            "falsy.empty": {"path": "empty"},
            "falsy.no": {"path": "no"},
        }
    )
    same(
        mapping.apply({"id": 1, "nothing": None, "zero": 0, "empty": "", "no": False}),
        {"id": 1, "falsy": {"zero": 0, "empty": "", "no": False}},
    )


def test_dotted_targets_build_objects_in_declared_order(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "specversion": {"value": "1.0"},
            "data.order_ref": {"path": "name"},
            "subject": {"path": "name"},
            "data.extensions.shop": {"value": "eu"},
            "data.status": {"value": "requested"},
        }
    )
    output = mapping.apply({"name": "EU-1"})
    assert list(output) == ["specversion", "data", "subject"]
    assert list(output["data"]) == ["order_ref", "extensions", "status"]
    assert output["data"]["extensions"] == {"shop": "eu"}


def test_literals_are_fresh_objects_each_time(make_mapping: MakeMapping) -> None:
    mapping = make_mapping({"tags": {"value": ["a"]}, "meta": {"value": {"k": [1]}}})
    first = mapping.apply({})
    first["tags"].append("changed")
    first["meta"]["k"].append(2)
    assert mapping.apply({}) == {"tags": ["a"], "meta": {"k": [1]}}


def test_literal_transforms_are_applied_when_the_file_loads(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {"uom": {"value": "pcs", "via": ["uom"]}, "n": {"value": "0.10", "via": ["decimal"]}}
    )
    same(mapping.apply({}), {"uom": "EA", "n": 0.1})
    assert "'EA'" in mapping.code  # folded into a constant


def test_each_maps_every_item_with_index_and_root(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "lines": {
                "each": "line_items",
                "fields": {
                    "line_no": {"index": 1},
                    "position": {"index": 0},
                    "sku": {"path": "sku", "via": ["upper"]},
                    "order": {"root": "name"},
                    "warehouse": {"root": "note_attributes[?name=='warehouse'].value | [0]"},
                    "item.self": {"path": "@"},
                },
            }
        }
    )
    document = {
        "name": "#1001",
        "note_attributes": [{"name": "warehouse", "value": "WH-RTM"}],
        "line_items": [{"sku": "a"}, {"sku": "b"}, {}],
    }
    same(
        mapping.apply(document),
        {
            "lines": [
                {
                    "line_no": 1,
                    "position": 0,
                    "sku": "A",
                    "order": "#1001",
                    "warehouse": "WH-RTM",
                    "item": {"self": {"sku": "a"}},
                },
                {
                    "line_no": 2,
                    "position": 1,
                    "sku": "B",
                    "order": "#1001",
                    "warehouse": "WH-RTM",
                    "item": {"self": {"sku": "b"}},
                },
                {
                    "line_no": 3,
                    "position": 2,
                    "order": "#1001",
                    "warehouse": "WH-RTM",
                    "item": {"self": {}},
                },
            ]
        },
    )
    # `root:` inside `each` is evaluated once per document, not once per item
    assert mapping.code.count("_visit(") == 1
    assert mapping.code.index("_visit(") < mapping.code.index("for ")


def test_each_over_an_empty_or_missing_list(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {"lines": {"each": "items", "fields": {"n": {"index": 1}, "o": {"root": "x"}}}}
    )
    same(mapping.apply({"items": []}), {"lines": []})
    same(mapping.apply({}), {})


def test_nested_each(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "shipments": {
                "each": "fulfillments",
                "fields": {
                    "no": {"index": 1},
                    "parcels": {
                        "each": "parcels",
                        "fields": {
                            "ref": {
                                "concat": [{"root": "name"}, {"index": 1}, {"path": "id"}],
                                "sep": "/",
                            },
                            "gtin": {"path": "barcode", "via": ["gtin"]},
                        },
                    },
                },
            }
        }
    )
    document: dict[str, Any] = {
        "name": "EU-1",
        "fulfillments": [
            {"parcels": [{"id": "a", "barcode": "8719946002154"}]},
            {"parcels": [{"id": "b"}, {"id": "c", "barcode": "8719946002155"}]},
        ],
    }
    with pytest.raises(MappingError) as caught:
        mapping.apply(document)
    assert caught.value.pointer == "/shipments/1/parcels/1/gtin"
    assert caught.value.source_path == "fulfillments[1].parcels[1].barcode"
    del document["fulfillments"][1]["parcels"][1]["barcode"]
    same(
        mapping.apply(document),
        {
            "shipments": [
                {"no": 1, "parcels": [{"ref": "EU-1/1/a", "gtin": "08719946002154"}]},
                {"no": 2, "parcels": [{"ref": "EU-1/1/b"}, {"ref": "EU-1/2/c"}]},
            ]
        },
    )


def test_each_over_something_that_is_not_a_list_is_an_error(make_mapping: MakeMapping) -> None:
    mapping = make_mapping({"data.lines": {"each": "line_items", "fields": {"n": {"index": 1}}}})
    with pytest.raises(MappingError, match="each: expected an array, got an object") as caught:
        mapping.apply({"line_items": {"sku": "A"}})
    assert caught.value.pointer == "/data/lines"
    assert caught.value.source_path == "line_items"


def test_concat_joins_text_and_misses_when_a_part_misses(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "ref": {
                "concat": [
                    {"value": "SHOP"},
                    {"path": "id"},
                    {"path": "name", "via": [{"trim": "#"}]},
                ],
                "sep": "-",
            },
            "optional": {
                "concat": [{"path": "first"}, {"path": "last"}],
                "sep": " ",
                "skip_null": True,
            },
            "numbers": {
                "concat": [{"path": "qty", "via": ["decimal"]}, {"value": 2.50}],
                "sep": "x",
            },
            "never": {"concat": [{"value": None}, {"path": "id"}]},
        }
    )
    same(
        mapping.apply({"id": 7, "name": "#1001", "last": "de Haven", "qty": "1.50"}),
        {"ref": "SHOP-7-1001", "optional": "de Haven", "numbers": "1.5x2.5"},
    )
    same(mapping.apply({"first": "", "last": None}), {"optional": ""})
    same(mapping.apply({}), {})


def test_a_failure_names_the_field_the_source_and_the_reason(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "data.lines": {
                "each": "line_items",
                "fields": {
                    "gtin": {"path": "barcode", "via": ["gtin"]},
                    "qty": {"path": "quantity", "via": ["decimal", "required"]},
                },
            }
        }
    )
    lines = [{"barcode": "8719946002154", "quantity": 1}] * 2 + [
        {"barcode": "8719946002155", "quantity": 1}
    ]
    with pytest.raises(MappingError) as caught:
        mapping.apply({"line_items": lines})
    error = caught.value
    assert error.pointer == "/data/lines/2/gtin"
    assert error.source_path == "line_items[2].barcode"
    assert error.message == "gtin: '8719946002155' has a wrong check digit"
    assert str(error) == f"{error.pointer}: {error.message} (from {error.source_path})"
    assert error.as_dict() == {
        "pointer": error.pointer,
        "source_path": error.source_path,
        "message": error.message,
    }

    with pytest.raises(MappingError) as caught:
        mapping.apply({"line_items": [{"quantity": None}]})
    assert (caught.value.pointer, caught.value.message) == (
        "/data/lines/0/qty",
        "required: the value is missing",
    )


def test_a_root_failure_inside_each_points_at_the_first_item(make_mapping: MakeMapping) -> None:
    mapping = make_mapping(
        {
            "lines": {
                "each": "items",
                "fields": {"date": {"root": "delivery", "via": [{"date": "%d/%m/%Y"}]}},
            }
        }
    )
    with pytest.raises(MappingError) as caught:
        mapping.apply({"items": [1, 2], "delivery": "2026-03-17"})
    assert caught.value.pointer == "/lines/0/date"
    assert caught.value.source_path == "delivery"


def test_a_jmespath_runtime_error_is_a_mapping_error(make_mapping: MakeMapping) -> None:
    mapping = make_mapping({"total": {"path": "sum(line_items)"}})
    with pytest.raises(MappingError, match="JMESPathTypeError") as caught:
        mapping.apply({"line_items": ["a", "b"]})
    assert caught.value.pointer == "/total"


@pytest.mark.parametrize("document", [None, [], "text", 12])
def test_any_json_input_maps_without_crashing(make_mapping: MakeMapping, document: Any) -> None:
    mapping = make_mapping(
        {"id": {"path": "id"}, "lines": {"each": "items", "fields": {"n": {"index": 1}}}}
    )
    assert mapping.apply(document) == {}


def test_the_generated_code_is_kept_for_debugging(make_mapping: MakeMapping) -> None:
    mapping = make_mapping({"data.order_ref": {"path": "order.name"}})
    assert mapping.code.startswith("def _map(_doc):")
    assert "_doc.get('order').get('name')" in mapping.code  # direct access, no JMESPath
