"""The world every scenario runs in: the hub and the distributor's systems around it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.world import World, open_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    yield from open_world(database_url, tmp_path)
