"""Message limits from governance/ (a family's, else the hub's) are enforced at ingest, on
single posts, batch items and inbound records alike, over real HTTP on both databases."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.contracts.registry import ContractRegistry
from hub.settings import Settings
from tests.conftest import ADMIN_KEY, REPO
from tests.messages.test_ingest_api import a_valid_event, post
from tests.servers import HubServer

JSON = {"content-type": "application/json"}


@pytest.fixture
def limited_hub(settings: Settings, tmp_path: Path) -> Iterator[HubServer]:
    """Receipts limited to 2 lines and 1,200 bytes; every family to 64 KiB (hub.yaml)."""
    governance = tmp_path / "governance"
    shutil.copytree(REPO / "governance", governance)
    receipt = governance / "contracts" / "receipt.yaml"
    receipt.write_text(
        receipt.read_text().split("\nlimits:")[0]
        + "\nlimits:\n  max_lines: 2\n  max_message_bytes: 1200\n"
    )
    hub_yaml = governance / "hub.yaml"
    hub_yaml.write_text(
        hub_yaml.read_text().replace("max_message_bytes: 1048576", "max_message_bytes: 65536")
    )
    settings.governance_path = governance
    with HubServer(settings) as server:
        yield server


def receipt_with(lines: int, note: str = "") -> dict[str, Any]:
    event = a_valid_event("receipt", f"evt-lines-{lines}-{len(note)}")
    first = event["data"]["lines"][0]
    event["data"]["lines"] = [
        {**copy.deepcopy(first), "line_no": n, **({"lot": note} if note else {})}
        for n in range(1, lines + 1)
    ]
    return event


def test_the_registry_takes_the_family_limit_else_the_hub_one(tmp_path: Path) -> None:
    registry = ContractRegistry.load(REPO / "contracts", REPO / "governance")
    receipt = registry.get("receipt", "1.0")
    assert receipt is not None
    assert (receipt.max_message_bytes, receipt.max_lines) == (1048576, 5000)


def test_too_many_lines_and_too_many_bytes_are_422_with_their_rule(
    limited_hub: HubServer,
) -> None:
    with limited_hub.client(ADMIN_KEY) as client:
        assert post(client, receipt_with(2)).status_code == 202
        too_long = post(client, receipt_with(3))
        assert too_long.status_code == 422, too_long.text
        [violation] = too_long.json()["violations"]
        assert violation["pointer"] == "/data/lines"
        assert violation["rule"] == "limits:max-lines"
        assert "at most 2" in violation["message"]

        fits = post(client, receipt_with(1, note="L" * 40))
        assert fits.status_code == 202, "about 950 bytes fit"
        big = receipt_with(2, note="X" * 60)  # about 1,230 bytes
        answer = post(client, big)
        assert answer.status_code == 422, answer.text
        [violation] = answer.json()["violations"]
        assert (violation["pointer"], violation["rule"]) == ("", "limits:max-message-bytes")
        assert "at most 1200" in violation["message"]

        # Another family keeps the hub-wide limit.
        reservation = a_valid_event("reservation", "evt-reservation-big")
        reservation["data"]["lines"][0]["item"]["description"] = "Y" * 200
        assert post(client, reservation).status_code == 202

        # In a batch, each item on its own.
        batch = client.post(
            "/v1/messages/batch",
            content=orjson.dumps([receipt_with(3), receipt_with(1)]),
            headers=JSON,
        )
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        assert [r["status"] for r in results] == ["rejected", "accepted"]
        assert results[0]["problem"]["violations"][0]["rule"] == "limits:max-lines"
