"""The mappings in ``mappings/odoo``: every vector passes, every inbound output is valid."""

from __future__ import annotations

import pytest

from connectors.odoo import OdooConnector
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import Mapping, MappingRegistry, TestVector
from hub.mappings.vectors import run_vector
from tests.conftest import REPO

MAPPINGS = MappingRegistry.load(REPO / "mappings" / "odoo")
CHECKER = MessageChecker(ContractRegistry.load(REPO / "contracts", REPO / "governance"))
VECTORS = [(mapping, vector) for mapping in MAPPINGS for vector in mapping.tests]


def _id(value: object) -> str:
    return value.name if isinstance(value, Mapping | TestVector) else str(value)


def test_the_connector_ships_its_mappings() -> None:
    for kind, name in OdooConnector.manifest.mappings.items():
        assert MAPPINGS.find(connector="odoo", kind=kind) is MAPPINGS.get(name)


@pytest.mark.parametrize(("mapping", "vector"), VECTORS, ids=_id)
def test_every_vector_passes(mapping: Mapping, vector: TestVector) -> None:
    result = run_vector(mapping, vector)
    assert result.passed, f"{mapping.path}: {vector.name}:\n{result.detail}"


@pytest.mark.parametrize(
    ("mapping", "vector"),
    [(m, v) for m, v in VECTORS if "contract" in m.target and v.error is None],
    ids=_id,
)
def test_inbound_outputs_are_valid_messages(mapping: Mapping, vector: TestVector) -> None:
    event = {"source": "/connections/odoo-test", **mapping.apply(vector.input)}
    result = CHECKER.check(event)
    assert result.ok, result.violations
