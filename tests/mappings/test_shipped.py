"""The mappings shipped in ``mappings/``: every vector passes and every output is a valid message.

This is how ``make test`` runs the vectors mapping authors write.
"""

from __future__ import annotations

import pytest

from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import Mapping, MappingRegistry, TestVector
from hub.mappings.units import UOM_CODES
from hub.mappings.vectors import run_vector
from tests.conftest import REPO

MAPPINGS = MappingRegistry.load(REPO / "mappings")
CONTRACTS = ContractRegistry.load(REPO / "contracts", REPO / "governance")
CHECKER = MessageChecker(CONTRACTS)
VECTORS = [(mapping, vector) for mapping in MAPPINGS for vector in mapping.tests]


def _id(value: object) -> str:
    return value.name if isinstance(value, Mapping | TestVector) else str(value)


def test_there_are_shipped_mappings_with_vectors() -> None:
    assert "shopify-orders-create" in MAPPINGS
    assert len(VECTORS) >= 5


@pytest.mark.parametrize(("mapping", "vector"), VECTORS, ids=_id)
def test_every_shipped_vector_passes(mapping: Mapping, vector: TestVector) -> None:
    result = run_vector(mapping, vector)
    assert result.passed, f"{mapping.path}: {vector.name}:\n{result.detail}"


@pytest.mark.parametrize(
    ("mapping", "vector"),
    [(m, v) for m, v in VECTORS if "contract" in m.target and v.error is None],
    ids=_id,
)
def test_outputs_for_a_contract_are_valid_messages(mapping: Mapping, vector: TestVector) -> None:
    """The hub's own Check step accepts what the mapping makes (``source`` is the
    receiving connection's, so the test supplies one)."""
    event = {"source": "/connections/test-shop", **mapping.apply(vector.input)}
    result = CHECKER.check(event)
    assert result.ok, result.violations
    assert result.contract is not None
    assert (result.contract.family, result.contract.version) == (
        mapping.target["contract"],
        mapping.target["version"],
    )


def test_the_shopify_order_keeps_its_64_bit_ids_and_decimals() -> None:
    mapping = MAPPINGS.get("shopify-orders-create")
    raw = (REPO / "mappings/shopify/vectors/order-5-lines.json").read_bytes()
    event = mapping.apply_json(raw)
    assert event["subject"] == "SHOP-5678901234567890123"
    assert event["data"]["customer_ref"] == "SHOPIFY-7390123456789012345"
    extensions = event["data"]["extensions"]
    assert extensions["shopify_order_id"] == 5678901234567890123
    assert isinstance(extensions["shopify_order_id"], int)
    assert repr(extensions["total_price"]) == "1183.38"
    assert [line["requested_qty"] for line in event["data"]["lines"]] == [24, 3, 2, 5, 12]


def test_contracts_named_by_mappings_exist() -> None:
    for mapping in MAPPINGS:
        for endpoint in (mapping.source, mapping.target):
            if "contract" in endpoint:
                assert CONTRACTS.get(endpoint["contract"], endpoint["version"]), mapping.name


def test_every_file_in_mappings_is_a_mapping_or_used_by_one() -> None:
    """Nothing in mappings/ goes unchecked: each file is loaded as a mapping, a table or a
    vector by some mapping (whose vectors this suite runs)."""
    used = MAPPINGS.files
    unused = [
        path
        for path in (REPO / "mappings").rglob("*")
        if path.is_file() and path.name != "README.md" and path.resolve() not in used
    ]
    assert unused == []


def test_the_built_in_units_are_the_contracts_units() -> None:
    for contract in CONTRACTS.all_versions():
        enum = contract.schema["$defs"]["uom"]["enum"]
        assert tuple(enum) == UOM_CODES, contract.dataschema
