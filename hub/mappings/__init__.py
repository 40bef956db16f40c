"""Declarative mappings: YAML files in ``mappings/`` that turn one JSON document into another.

A mapping turns a connector's native payload (a Shopify order webhook) into a canonical
message, or a message of one contract version into another version. Each file says, for
every target field, which source path its value comes from and which named transforms it
passes through, and carries test vectors. Files are compiled into Python once, when loaded.
The file format is described in ``docs/mappings.md``.

    registry = MappingRegistry.load(settings.mappings_path)
    event = registry.get("shopify-orders-create").apply(orjson.loads(body))
"""

from hub.mappings.errors import MappingError, MappingLoadError
from hub.mappings.loader import Mapping
from hub.mappings.registry import MappingRegistry
from hub.mappings.transforms import TRANSFORMS
from hub.mappings.vectors import TestResult, TestVector, run_tests

__all__ = [
    "TRANSFORMS",
    "Mapping",
    "MappingError",
    "MappingLoadError",
    "MappingRegistry",
    "TestResult",
    "TestVector",
    "run_tests",
]
