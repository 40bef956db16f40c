"""Whatever a client posts as a candidate, the gate answers a verdict or a 422 problem, never
another error: generated schema-shaped documents against the real contracts, and mutations
of a real contract compared both ways."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.contracts.registry import ContractRegistry
from hub.governance.compatibility import (
    CompatibilityMode,
    SchemaError,
    check_schema_document,
    compare,
    verdicts,
)
from hub.governance.gate import InvalidCandidateSchema, Verdict, check_candidate
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
BACKORDER = REGISTRY.families["backorder"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
names = st.sampled_from(["sku", "qty", "lines", "uom", "a/b", "~", "$ref", ""])
refs = st.sampled_from(
    ["#", "#/$defs/a", "#/$defs/b", "#/properties/sku", "#/nope", "#anchor", "other.json", 5]
)


def _schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keywords: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(
            st.sampled_from(["string", "number", "integer", "object", "array", "null", "text"]),
            st.lists(st.sampled_from(["string", "null", "integer"]), max_size=3),
        ),
        "properties": st.dictionaries(names, children, max_size=3),
        "required": st.lists(names, max_size=3),
        "additionalProperties": st.one_of(st.booleans(), children),
        "unevaluatedProperties": st.booleans(),
        "patternProperties": st.dictionaries(
            st.sampled_from(["^x", "[", "a+$"]), children, max_size=2
        ),
        "items": children,
        "prefixItems": st.lists(children, max_size=2),
        "enum": st.lists(scalars, max_size=4),
        "const": scalars,
        "minimum": scalars,
        "exclusiveMinimum": scalars,
        "maximum": scalars,
        "multipleOf": st.one_of(st.sampled_from([0.01, 0.1, 3, 0, -1]), scalars),
        "maxLength": st.one_of(st.integers(min_value=-1, max_value=70), scalars),
        "minItems": st.integers(min_value=0, max_value=3),
        "uniqueItems": st.booleans(),
        "pattern": st.sampled_from(["^[0-9]+$", "(", "a"]),
        "format": st.sampled_from(["date", "date-time", "email"]),
        "anyOf": st.lists(children, min_size=1, max_size=3),
        "oneOf": st.lists(children, min_size=1, max_size=3),
        "allOf": st.lists(children, min_size=1, max_size=2),
        "not": children,
        "$ref": refs,
        "$anchor": st.just("anchor"),
        "$defs": st.fixed_dictionaries({}, optional={"a": children, "b": children}),
        "dependentRequired": st.dictionaries(names, st.lists(names, max_size=2), max_size=2),
        "x-crossdock": st.fixed_dictionaries(
            {}, optional={"family": st.sampled_from(["backorder", "receipt"]), "events": scalars}
        ),
    }
    return st.one_of(
        st.booleans(),
        st.fixed_dictionaries({}, optional=keywords),
    )


schemas: st.SearchStrategy[Any] = st.recursive(st.fixed_dictionaries({}), _schemas, max_leaves=12)


def _outcome(schema: Any) -> str:
    problem: InvalidCandidateSchema | None = None
    try:
        verdict = check_candidate(BACKORDER, schema)
    except InvalidCandidateSchema as raised:
        problem = raised
    if problem is not None:
        assert problem.status == 422
        violations = problem.extensions["violations"]
        assert violations and all(v["pointer"].startswith("/schema") for v in violations)
        return "invalid"
    assert isinstance(verdict, Verdict)
    body = verdict.as_dict()
    assert isinstance(body["compatible"], bool) and body["detail"]
    return "verdict"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(schemas)
def test_any_candidate_gets_a_verdict_or_a_problem(schema: Any) -> None:
    _outcome(schema if isinstance(schema, dict) else {"items": schema})


paths = st.lists(st.sampled_from(["properties", "$defs", "line", "item", "items", "uom", "status"]))
edits = st.sampled_from(["drop", "false", "true", "type", "enum", "min", "closed", "open"])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(paths, edits), min_size=1, max_size=6))
def test_mutations_of_a_real_contract_compare_both_ways(
    mutations: list[tuple[list[str], str]],
) -> None:
    original = BACKORDER.versions["1.0"].schema
    mutated = copy.deepcopy(original)
    for path, edit in mutations:
        node: Any = mutated
        for step in path:
            if isinstance(node, dict) and isinstance(node.get(step), dict):
                node = node[step]
        if not isinstance(node, dict) or (node is mutated and edit in ("false", "true", "drop")):
            continue
        key = next(iter(node), None)
        if edit == "drop" and key is not None and key not in ("$defs",):
            node.pop(key)
        elif edit in ("false", "true") and key is not None:
            node[key] = edit == "true"
        elif edit == "type":
            node["type"] = "integer"
        elif edit == "enum":
            node["enum"] = ["EA", 1, None]
        elif edit == "min":
            node["minimum"] = 2
        elif edit == "closed":
            node["additionalProperties"] = False
        elif edit == "open":
            node.pop("additionalProperties", None)
    if check_schema_document(mutated):
        return
    try:
        forth = compare(original, mutated)
        back = compare(mutated, original)
    except SchemaError:
        return
    # "B reads A's data" is BACKWARD from A to B and FORWARD from B to A: the same statement.
    assert verdicts(forth)[CompatibilityMode.BACKWARD] == verdicts(back)[CompatibilityMode.FORWARD]
    assert verdicts(forth)[CompatibilityMode.FORWARD] == verdicts(back)[CompatibilityMode.BACKWARD]
    assert bool(forth) == bool(back)
