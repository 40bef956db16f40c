"""A hub whose ``backorder`` 1.0 is deprecated in favour of 1.1, on a copy of the policies.

The shipped policies deprecate nothing, so these tests build their own contract and
governance folders: ``backorder`` 1.0 as shipped, a 1.1 that is the same schema under a new
number, and a policy that deprecates 1.0 with the sunset the test asks for.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.settings import Settings
from tests.conftest import REPO, hub_settings
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer

FUTURE_SUNSET = date(2099, 1, 31)
PAST_SUNSET = date(2020, 1, 1)
V1_0 = "urn:crossdock:contract:backorder:1.0"
V1_1 = "urn:crossdock:contract:backorder:1.1"


def lifecycle_paths(root: Path, sunset: date) -> tuple[Path, Path]:
    """Contracts and governance folders under ``root`` with backorder 1.0 deprecated."""
    contracts = root / "contracts"
    shutil.copytree(REPO / "contracts" / "backorder", contracts / "backorder")
    schema = orjson.loads((contracts / "backorder" / "1.0.schema.json").read_bytes())
    schema["$id"] = V1_1
    schema["title"] = "Backorder 1.1"
    schema["x-crossdock"]["version"] = "1.1"
    (contracts / "backorder" / "1.1.schema.json").write_bytes(orjson.dumps(schema))

    governance = root / "governance"
    shutil.copytree(REPO / "governance", governance)
    policy = governance / "contracts" / "backorder.yaml"
    text = policy.read_text()
    shipped = 'versions:\n  "1.0":\n    status: active\n'
    assert shipped in text, "the shipped backorder policy changed; update this fixture"
    policy.write_text(
        text.replace(
            shipped,
            f'versions:\n  "1.0":\n    status: deprecated\n    sunset: {sunset.isoformat()}\n'
            '  "1.1":\n    status: active\n',
        )
    )
    return contracts, governance


def deprecation_settings(database_url: str, root: Path, sunset: date, **extra: Any) -> Settings:
    contracts, governance = lifecycle_paths(root, sunset)
    fields = hub_settings(database_url).model_dump(exclude_unset=True)
    fields.update(
        contracts_path=contracts,
        governance_path=governance,
        usage_flush_seconds=0.1,
        # The sinks of these tests listen on loopback, which the shipped policy refuses.
        outbound_allowed_networks="127.0.0.1/32",
    )
    fields.update(extra)
    return Settings(**fields)


def backorder_event(event_id: str, dataschema: str = V1_0) -> dict[str, Any]:
    event = copy.deepcopy(a_valid_event("backorder", event_id))
    event["dataschema"] = dataschema
    return event


HubFactory = Callable[..., AbstractContextManager[HubServer]]


@pytest.fixture
def lifecycle_hub(database_url: str, tmp_path: Path) -> HubFactory:
    """``lifecycle_hub(sunset, **settings)``: a hub (context manager) with 1.0 deprecated."""

    def start(sunset: date = FUTURE_SUNSET, **extra: Any) -> HubServer:
        root = tmp_path / f"paths-{sunset.isoformat()}-{len(list(tmp_path.iterdir()))}"
        return HubServer(deprecation_settings(database_url, root, sunset, **extra))

    return start


@pytest.fixture
def deprecated_hub(lifecycle_hub: HubFactory) -> Iterator[HubServer]:
    """A running hub whose backorder 1.0 is deprecated, sunset far in the future."""
    with lifecycle_hub() as server:
        yield server
