"""jsonschema-rs (the hot path) and jsonschema (the reference) must judge alike.

Checked on every shipped example, on instances generated from each schema by
hypothesis-jsonschema, and on those instances mutated to be (mostly) invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from hub.contracts.registry import ContractRegistry, ContractVersion
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
VERSIONS = REGISTRY.all_versions()


def _generator_schema(version: ContractVersion) -> dict[str, Any]:
    """hypothesis-jsonschema resolves no ``$ref`` under a URN ``$id``: hand it refs inlined."""
    inlined: dict[str, Any] = jsonschema_rs.dereference(version.schema, offline=True)
    for keyword in ("$id", "$schema", "$defs", "x-crossdock"):
        inlined.pop(keyword, None)
    return inlined


def _reference(version: ContractVersion) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(version.schema)


def _paths(errors: Any) -> set[tuple[Any, ...]]:
    return {
        tuple(e.absolute_path if hasattr(e, "absolute_path") else e.instance_path) for e in errors
    }


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.dataschema)
def test_agree_on_every_example(version: ContractVersion) -> None:
    reference = _reference(version)
    for family_version in VERSIONS:
        for example in family_version.examples:
            data = example.event.get("data")
            fast = version.validator.is_valid(data)
            assert fast == reference.is_valid(data), (version.dataschema, example.name)
            assert _paths(version.validator.iter_errors(data)) == _paths(
                reference.iter_errors(data)
            ), (version.dataschema, example.name)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)


def _mutate(data: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """Replace one node somewhere in ``data`` with arbitrary JSON."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data)))
        return {**data, key: _mutate(data[key], draw)}
    if isinstance(data, list) and data and draw(st.booleans()):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], _mutate(data[index], draw), *data[index + 1 :]]
    return draw(JSON)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.dataschema)
def test_agree_on_generated_instances(version: ContractVersion) -> None:
    reference = _reference(version)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=from_schema(_generator_schema(version)), choice=st.data())
    def check(data: Any, choice: st.DataObject) -> None:
        assert version.validator.is_valid(data) and reference.is_valid(data)
        mutated = _mutate(data, choice.draw)
        assert version.validator.is_valid(mutated) == reference.is_valid(mutated)
        assert _paths(version.validator.iter_errors(mutated)) == _paths(
            reference.iter_errors(mutated)
        )

    check()
