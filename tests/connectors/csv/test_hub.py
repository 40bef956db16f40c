"""The csv connector driven through a real hub: exports dropped into the inbox become
messages (or dead letters) and move on; routed messages become files in the outbox.

The hub reads this folder's mappings only (a copy of ``mappings/csv``), so the test stands
on the files it ships.
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from connectors.csv.testing import Receipt, ReceiptLine, receipt_config, receipt_export
from hub.contracts.registry import ContractRegistry
from tests.conftest import ADMIN_KEY, REPO, hub_settings
from tests.servers import HubServer

SOURCE = "/connections/atl-wms-files"


@pytest.fixture
def hub(database_url: str, tmp_path: Path) -> Iterator[HubServer]:
    mappings = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings" / "csv", mappings / "csv")
    settings = hub_settings(database_url)
    settings.mappings_path = mappings
    settings.poll_sync_seconds = 0.2
    with HubServer(settings) as server:
        yield server


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "wms" / "out", tmp_path / "wms" / "in"
    inbox.mkdir(parents=True)
    outbox.mkdir(parents=True)
    return inbox, outbox


def connect(client: httpx.Client, inbox: Path, outbox: Path) -> None:
    response = client.post(
        "/v1/connections",
        json={
            "name": "atl-wms-files",
            "connector": "csv",
            "config": receipt_config(inbox, outbox, settle_seconds=0),
            "poll_interval_seconds": 1,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["mappings"] == {"csv/wms-receipt": "csv-wms-receipt"}


def drop(inbox: Path, name: str, content: bytes) -> None:
    aside = inbox.parent / f".{name}.part"
    aside.write_bytes(content)
    aside.rename(inbox / name)


def received(client: httpx.Client) -> list[dict[str, Any]]:
    page = client.get("/v1/messages", params={"source": SOURCE, "type": "receipt.received"})
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_an_export_becomes_receipts_and_moves_to_processed(
    hub: HubServer, dirs: tuple[Path, Path]
) -> None:
    inbox, outbox = dirs
    export = receipt_export(
        [
            Receipt(
                "RCV-ATL-26-00917",
                "PO-4500018231",
                [
                    ReceiptLine(
                        "NTR-GLV-L-CS10",
                        "396",
                        expected="400",
                        unit="CS",
                        ean="10085741200343",
                        lot="GL2603-021",
                        best_before="28/02/2029",
                    ),
                    ReceiptLine(
                        "SAN-WIPE-160",
                        "240",
                        accepted="228",
                        rejected="12",
                        expected="240",
                        unit="case",
                        condition="damaged",
                    ),
                ],
                asn="ACME-ASN-558120",
            ),
            Receipt(
                "RCV-ATL-26-00918",
                "PO-4500018240",
                [ReceiptLine("HYD-HOSE-R2-12", "12.50", unit="ft")],
            ),
        ]
    )
    with hub.client(ADMIN_KEY) as client:
        connect(client, inbox, outbox)
        check = client.post("/v1/connections/atl-wms-files/check").json()
        assert check["ok"] is True, check
        drop(inbox, "receipts-20260326.csv", export)

        messages = wait_for(lambda: (m := received(client)) and len(m) == 2 and m)
        events = {m["event"]["subject"]: m["event"] for m in messages}
        first = events["RCV-ATL-26-00917"]
        assert first["source"] == SOURCE
        assert first["time"] == "2026-03-26T18:37:00Z"
        assert first["data"]["po_ref"] == "PO-4500018231"
        assert [
            (line["received_qty"], line.get("accepted_qty"), line.get("rejected_qty"), line["uom"])
            for line in first["data"]["lines"]
        ] == [(396, 396, 0, "CS"), (240, 228, 12, "CS")]
        second = events["RCV-ATL-26-00918"]
        assert second["data"]["lines"][0]["received_qty"] == 12.5
        assert second["id"].startswith("csv:") and second["id"].endswith(":RCV-ATL-26-00918")

        wait_for(lambda: (inbox / "processed" / "receipts-20260326.csv").exists())
        assert not (inbox / "receipts-20260326.csv").exists()
        polling = client.get("/v1/connections/atl-wms-files").json()["polling"]
        assert polling["last_error"] is None
        assert polling["cursor"].endswith("/receipts-20260326.csv")

        # The same export dropped again is the same two messages: nothing new.
        drop(inbox, "receipts-20260326-again.csv", export)
        wait_for(lambda: (inbox / "processed" / "receipts-20260326-again.csv").exists())
        assert len(received(client)) == 2


def test_a_broken_file_is_an_inbound_dead_letter_and_moves_to_failed(
    hub: HubServer, dirs: tuple[Path, Path]
) -> None:
    inbox, outbox = dirs
    broken = b'receipt_no;po_number;sku\nRCV-1;PO-1;"NTR-GLV\n'
    with hub.client(ADMIN_KEY) as client:
        connect(client, inbox, outbox)
        drop(inbox, "receipts-broken.csv", broken)
        wait_for(lambda: (inbox / "failed" / "receipts-broken.csv").exists())
        letters = client.get("/v1/deadletters", params={"direction": "inbound"}).json()["items"]
        [letter] = letters
        assert letter["reason"] == "mapping_failed"
        assert letter["record_kind"] == "csv/unreadable"
        assert "csv/unreadable" in letter["error"]
        detail = client.get(f"/v1/deadletters/{letter['id']}").json()
        record = detail["inbound"]["record"]
        assert record["data"]["file"] == "receipts-broken.csv"
        assert record["data"]["text"] == broken.decode()
        assert "line" in record["data"]["error"]
        assert received(client) == []


def test_a_routed_transfer_becomes_a_pick_list_file(
    hub: HubServer, dirs: tuple[Path, Path]
) -> None:
    inbox, outbox = dirs
    registry = ContractRegistry.load(REPO / "contracts", REPO / "governance")
    version = registry.get("transfer", "1.0")
    assert version is not None
    event = copy.deepcopy(next(e.event for e in version.examples if e.valid))
    event["data"]["lines"][1]["requested_qty"] = 144.5
    with hub.client(ADMIN_KEY) as client:
        connect(client, inbox, outbox)
        route = client.post(
            "/v1/routes",
            json={
                "name": "picks-to-atl",
                "connection": "atl-wms-files",
                "types": ["transfer.requested"],
                "mapping": "csv-pick-list",
            },
        )
        assert route.status_code == 201, route.text
        posted = client.post(
            "/v1/messages",
            content=orjson.dumps(event),
            headers={"content-type": "application/json"},
        )
        assert posted.status_code == 202, posted.text
        key = posted.json()["key"]
        path = outbox / f"transfer.requested-{key}.csv"
        wait_for(path.exists)
        rows = list(csv.reader(io.StringIO(path.read_text(), newline=""), delimiter=";"))
        assert rows[0] == [
            "transfer_id", "from_location", "to_location", "ship_date", "line_no", "sku",
            "gtin", "description", "quantity", "uom", "lot",
        ]  # fmt: skip
        lines = event["data"]["lines"]
        assert [row[5] for row in rows[1:]] == [line["item"]["sku"] for line in lines]
        assert [row[8] for row in rows[1:]] == ["80", "144.5", "60"]
        assert [row[10] for row in rows[1:]] == [line.get("lot", "") for line in lines]
        assert all(row[0] == event["data"]["transfer_id"] for row in rows[1:])
        assert [p.name for p in outbox.iterdir()] == [path.name]
        deliveries = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
        assert [d["status"] for d in deliveries] == ["delivered"]
