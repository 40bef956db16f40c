"""Installed connectors, found through the ``crossdock.connectors`` entry-point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from connectors.sdk import Connector

logger = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "crossdock.connectors"


class ConnectorRegistry:
    """Connector classes by slug. Built-in and third-party connectors register the same way."""

    def __init__(self, connectors: dict[str, type[Connector]]) -> None:  # type: ignore[type-arg]
        self.connectors = connectors

    @classmethod
    def discover(cls) -> ConnectorRegistry:
        found: dict[str, type[Connector]] = {}  # type: ignore[type-arg]
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                connector = entry_point.load()
            except Exception:
                logger.exception(
                    "connector entry point failed to load", extra={"entry_point": entry_point.name}
                )
                continue
            if not (isinstance(connector, type) and issubclass(connector, Connector)):
                logger.error(
                    "entry point is not a Connector", extra={"entry_point": entry_point.name}
                )
                continue
            problems = connector.problems()
            if problems:
                logger.error(
                    "connector is inconsistent and was not registered",
                    extra={"entry_point": entry_point.name, "problems": problems},
                )
                continue
            found[connector.manifest.slug] = connector
        return cls(dict(sorted(found.items())))

    def get(self, slug: str) -> type[Connector] | None:  # type: ignore[type-arg]
        return self.connectors.get(slug)
