"""A running fake Odoo with a small network, and a way to drive the connector against it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from connectors.odoo import OdooConfig, OdooConnector
from connectors.odoo.testing import LOGIN, PASSWORD, FakeOdoo, Network, seed_network
from connectors.sdk import ConnectorState, MemoryState

T = TypeVar("T")


@pytest.fixture
def odoo() -> Iterator[FakeOdoo]:
    fake = FakeOdoo()
    with fake.peer:
        yield fake


@pytest.fixture
def network(odoo: FakeOdoo) -> Network:
    return seed_network(odoo)


def settings(odoo: FakeOdoo, **overrides: Any) -> OdooConfig:
    """The connection's config against ``odoo``: no settle delay unless asked."""
    values: dict[str, Any] = {
        "url": odoo.url,
        "database": odoo.database,
        "login": LOGIN,
        "password": PASSWORD,
        "page_size": 100,
        "settle_seconds": 0,
        **overrides,
    }
    return OdooConfig.model_validate(values)


def drive(
    odoo: FakeOdoo,
    use: Callable[[OdooConnector], Awaitable[T]],
    *,
    state: ConnectorState | None = None,
    **overrides: Any,
) -> T:
    """Build a connector for ``odoo``, run ``use`` with it in a fresh event loop, close it."""

    async def main() -> T:
        connector = OdooConnector(settings(odoo, **overrides), state=state or MemoryState())
        try:
            return await use(connector)
        finally:
            await connector.aclose()

    return asyncio.run(main())
