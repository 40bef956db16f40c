"""What every connector's shipped mappings must satisfy; each connector's tests inherit it."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from connectors.sdk import Connector
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import Mapping, MappingRegistry, TestVector
from hub.mappings.vectors import run_vector
from tests.conftest import REPO

CHECKER = MessageChecker(ContractRegistry.load(REPO / "contracts", REPO / "governance"))


def _id(value: object) -> str:
    return value.name if isinstance(value, Mapping | TestVector) else str(value)


class ConnectorMappings:
    """Set ``connector``; its mappings are read from ``mappings/<slug>``."""

    connector: ClassVar[type[Connector[Any]]]

    @classmethod
    def mappings(cls) -> MappingRegistry:
        return MappingRegistry.load(REPO / "mappings" / cls.connector.manifest.slug)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "vector" not in metafunc.fixturenames:
            return
        cases = [(m, v) for m in self.mappings() for v in m.tests]
        if metafunc.function.__name__ == "test_inbound_outputs_are_valid_messages":
            cases = [(m, v) for m, v in cases if "contract" in m.target and v.error is None]
        metafunc.parametrize(("mapping", "vector"), cases, ids=_id)

    def test_the_connector_ships_its_mappings(self) -> None:
        mappings = self.mappings()
        slug = self.connector.manifest.slug
        for kind, name in self.connector.manifest.mappings.items():
            assert mappings.find(connector=slug, kind=kind) is mappings.get(name)

    def test_every_vector_passes(self, mapping: Mapping, vector: TestVector) -> None:
        result = run_vector(mapping, vector)
        assert result.passed, f"{mapping.path}: {vector.name}:\n{result.detail}"

    def test_inbound_outputs_are_valid_messages(self, mapping: Mapping, vector: TestVector) -> None:
        slug = self.connector.manifest.slug
        event = {"source": f"/connections/{slug}-test", **mapping.apply(vector.input)}
        result = CHECKER.check(event)
        assert result.ok, result.violations
