"""The schema diff and the gate beyond the table: the shipped contracts, references, cycles,
budgets, exact numbers, schema problems, and how versions and majors are judged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hub.contracts.registry import ContractRegistry
from hub.governance.compatibility import (
    MAX_DEPTH,
    Breaks,
    ChangeKind,
    CompatibilityMode,
    SchemaError,
    check_schema_document,
    compare,
)
from hub.governance.gate import EarlierVersion, judge
from hub.governance.policies import Lifecycle
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")


def _schema(family: str) -> dict[str, Any]:
    version = REGISTRY.get(family, "1.0")
    assert version is not None
    return copy.deepcopy(version.schema)


def _kinds(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c.pointer, c.kind.value, c.breaks.value) for c in compare(old, new)]


@pytest.mark.parametrize("family", sorted(REGISTRY.families))
def test_each_shipped_contract_is_comparable_and_equal_to_itself(family: str) -> None:
    schema = _schema(family)
    assert check_schema_document(schema) == []
    assert compare(schema, copy.deepcopy(schema)) == []


def test_a_new_backorder_reason_on_the_real_contract_only_breaks_strict_consumers() -> None:
    old = _schema("backorder")
    new = copy.deepcopy(old)
    new["properties"]["reason_code"]["enum"].append("ZZ")
    new["x-crossdock"]["version"] = "1.1"
    changes = compare(old, new)
    assert [(c.pointer, c.kind, c.breaks) for c in changes] == [
        ("/properties/reason_code/enum", ChangeKind.ENUM_VALUE_ADDED, Breaks.CONSUMERS)
    ]
    assert '"ZZ"' in changes[0].message
    verdict = judge(
        "backorder",
        "1.1",
        new,
        [EarlierVersion("1.0", old, Lifecycle.ACTIVE)],
        CompatibilityMode.BACKWARD_TRANSITIVE,
    )
    assert verdict.compatible
    assert not verdict.compatible_under(CompatibilityMode.FULL)


def test_a_shared_quantity_definition_reports_once_with_every_place_it_applies() -> None:
    old = _schema("receipt")
    new = copy.deepcopy(old)
    new["$defs"]["quantity"]["exclusiveMinimum"] = 0
    del new["$defs"]["quantity"]["minimum"]
    (change,) = compare(old, new)
    assert change.pointer == "/$defs/quantity/exclusiveMinimum"
    assert change.kind is ChangeKind.CONSTRAINT_TIGHTENED
    assert {"/lines/*/received_qty", "/lines/*/accepted_qty"} <= set(change.data_paths)


def test_a_ref_with_sibling_keywords_and_allof_apply_together() -> None:
    old: dict[str, Any] = {
        "type": "object",
        "properties": {"sku": {"$ref": "#/$defs/id"}},
        "allOf": [{"required": ["sku"]}],
        "$defs": {"id": {"type": "string", "maxLength": 64}},
    }
    new = copy.deepcopy(old)
    new["properties"]["sku"]["maxLength"] = 20
    new["allOf"].append({"required": ["lot"]})
    assert sorted(_kinds(old, new)) == [
        ("/allOf/1/required", "required-added", "producers"),
        ("/properties/sku/maxLength", "constraint-tightened", "producers"),
    ]


def test_property_names_are_escaped_in_pointers() -> None:
    old = {"type": "object", "properties": {"a/b~c": {"type": "string"}}}
    new = {"type": "object", "properties": {"a/b~c": {"type": "integer"}}}
    (change,) = compare(old, new)
    assert change.pointer == "/properties/a~1b~0c/type"
    assert change.data_paths == ("/a~1b~0c",)


def test_numbers_compare_as_json_numbers_exactly() -> None:
    big = 12345678901234567890123
    assert compare({"enum": [1, 2]}, {"enum": [1.0, 2.0]}) == []
    assert _kinds({"enum": [big]}, {"enum": [big + 1]}) == [
        ("/enum", "enum-value-added", "consumers"),
        ("/enum", "enum-value-removed", "producers"),
    ]
    assert compare({"minimum": 0.1}, {"minimum": 0.1}) == []
    assert _kinds({"minimum": 0.1}, {"minimum": 0.10000000000000002}) == [
        ("/minimum", "constraint-tightened", "producers")
    ]


def test_enum_values_the_type_refuses_anyway_are_not_changes() -> None:
    assert compare({"type": "string", "enum": ["a", 1]}, {"type": "string", "enum": ["a"]}) == []


def test_recursive_and_self_referencing_schemas_terminate() -> None:
    assert compare({"$ref": "#"}, {"$ref": "#"}) == []
    loop = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}
    assert compare(loop, copy.deepcopy(loop)) == []
    tree: dict[str, Any] = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}},
    }
    wider = copy.deepcopy(tree)
    wider["properties"]["name"] = {"type": "string"}
    assert _kinds(tree, wider) == [("/properties/name", "property-added", "none")]


def _nested(depth: int, leaf: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": leaf}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def test_depth_and_size_are_bounded() -> None:
    with pytest.raises(SchemaError) as deep:
        compare(_nested(MAX_DEPTH + 5, "string"), _nested(MAX_DEPTH + 5, "integer"))
    assert deep.value.problems[0].rule == "schema-depth"
    assert check_schema_document(_nested(MAX_DEPTH + 5, "string"))[0].rule == "schema-depth"
    many_old = {"anyOf": [{"const": f"a{i}"} for i in range(160)]}
    many_new = {"anyOf": [{"const": f"b{i}"} for i in range(160)]}
    with pytest.raises(SchemaError) as large:
        compare(many_old, many_new)
    assert large.value.problems[0].rule == "schema-size"


def test_schemas_the_gate_cannot_compare_are_explained_with_pointers() -> None:
    problems = check_schema_document(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "properties": {"a": {"type": "text"}},
        }
    )
    assert [(p.pointer, p.rule) for p in problems][:2] == [
        ("/$schema", "schema-dialect"),
        ("/properties/a/type", "meta-schema:anyOf"),
    ]
    refs = check_schema_document(
        {
            "properties": {
                "a": {"$ref": "https://example.com/other.json"},
                "b": {"$ref": "#/$defs/missing"},
                "c": {"$ref": "#item"},
                "d": {"$ref": "#nowhere"},
            },
            "$defs": {"item": {"$anchor": "item", "type": "string"}},
        }
    )
    assert sorted((p.pointer, p.rule) for p in refs) == [
        ("/properties/a/$ref", "ref-local"),
        ("/properties/b/$ref", "ref-resolves"),
        ("/properties/d/$ref", "ref-resolves"),
    ]
    assert check_schema_document(["not", "an", "object"])[0].rule == "schema-object"


def test_refs_by_id_and_anchor_resolve_like_local_pointers() -> None:
    old: dict[str, Any] = {
        "$id": "urn:crossdock:contract:widget:1.0",
        "properties": {"a": {"$ref": "urn:crossdock:contract:widget:1.0#/$defs/s"}},
        "$defs": {"s": {"$anchor": "s", "type": "string"}},
    }
    new = copy.deepcopy(old)
    new["properties"]["a"] = {"$ref": "#s"}
    assert check_schema_document(old) == [] and check_schema_document(new) == []
    assert compare(old, new) == []


def test_modes_forbid_what_they_say() -> None:
    assert CompatibilityMode.BACKWARD.forbids == {Breaks.PRODUCERS, Breaks.BOTH}
    assert CompatibilityMode.FORWARD_TRANSITIVE.forbids == {Breaks.CONSUMERS, Breaks.BOTH}
    assert CompatibilityMode.FULL.forbids == {Breaks.PRODUCERS, Breaks.CONSUMERS, Breaks.BOTH}
    assert CompatibilityMode.NONE.forbids == frozenset()
    assert CompatibilityMode.FULL_TRANSITIVE.transitive
    assert not CompatibilityMode.BACKWARD.transitive


CLOSED = {
    "type": "object",
    "properties": {"sku": {"type": "string"}},
    "additionalProperties": False,
}
WITH_LOT = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "lot": {"type": "string"}},
    "additionalProperties": False,
}


def _history(*entries: tuple[str, dict[str, Any], Lifecycle]) -> list[EarlierVersion]:
    return [EarlierVersion(v, s, lifecycle) for v, s, lifecycle in entries]


def test_the_first_version_and_a_new_major_are_not_judged() -> None:
    first = judge("widget", "1.0", CLOSED, [], CompatibilityMode.FULL)
    assert first.compatible and first.comparisons == () and "first" in first.detail
    major = judge(
        "widget",
        "2.0",
        CLOSED,
        _history(("1.0", CLOSED, Lifecycle.ACTIVE), ("1.1", WITH_LOT, Lifecycle.ACTIVE)),
        CompatibilityMode.FULL_TRANSITIVE,
    )
    assert major.new_major and major.compatible
    assert [c.against for c in major.comparisons] == ["1.1"]
    assert major.comparisons[0].changes[0].kind is ChangeKind.CLOSED_MODEL_PROPERTY_REMOVED
    body = major.as_dict()
    assert body["comparisons"][0]["judged"] is False
    assert body["comparisons"][0]["compatible"] is False
    assert body["comparisons"][0]["changes"][0]["forbidden"] is False
    assert "new major" in body["detail"]


def test_later_and_retired_versions_are_left_out_and_an_equal_one_is_replaced() -> None:
    history = _history(
        ("1.0", WITH_LOT, Lifecycle.RETIRED),
        ("1.1", CLOSED, Lifecycle.ACTIVE),
        ("1.3", WITH_LOT, Lifecycle.DRAFT),
    )
    verdict = judge("widget", "1.2", CLOSED, history, CompatibilityMode.BACKWARD_TRANSITIVE)
    assert [c.against for c in verdict.comparisons] == ["1.1"]
    assert verdict.compatible
    in_place = judge("widget", "1.1", WITH_LOT, history, CompatibilityMode.FORWARD)
    assert [c.against for c in in_place.comparisons] == ["1.1"]
    assert not in_place.compatible
    body = in_place.as_dict()
    assert body["comparisons"][0]["changes"][0]["forbidden"] is True
    assert body["modes"] == {
        "BACKWARD": True,
        "BACKWARD_TRANSITIVE": True,
        "FORWARD": False,
        "FORWARD_TRANSITIVE": False,
        "FULL": False,
        "FULL_TRANSITIVE": False,
        "NONE": True,
    }
    assert "not FORWARD-compatible" in body["detail"]


def test_a_non_transitive_mode_judges_only_the_latest_earlier_version() -> None:
    history = _history(("1.0", WITH_LOT, Lifecycle.ACTIVE), ("1.1", CLOSED, Lifecycle.ACTIVE))
    verdict = judge("widget", "1.2", CLOSED, history, CompatibilityMode.BACKWARD)
    assert verdict.compatible
    assert [c.against for c in verdict.judged(CompatibilityMode.BACKWARD)] == ["1.1"]
    assert not verdict.compatible_under(CompatibilityMode.BACKWARD_TRANSITIVE)
    assert [c["judged"] for c in verdict.as_dict()["comparisons"]] == [False, True]
    none = judge("widget", "1.2", CLOSED, history, CompatibilityMode.NONE)
    assert none.compatible and "NONE" in none.detail
