"""The x12 connector driven through a real hub (HTTP on loopback, SQLite and PostgreSQL).

The partner's mailbox is a pair of temporary folders, as an SFTP/AS2 gateway leaves them;
the mappings are a copy of ``mappings/x12`` (so that this test depends on nothing else in
``mappings/``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from connectors.x12.envelope import Interchange, parse_interchange
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import READERS
from connectors.x12.sets.loops import ReadContext
from connectors.x12.testing import partner_interchange
from hub.settings import Settings
from tests.conftest import ADMIN_KEY, REPO, hub_settings
from tests.connectors.x12.sample_files import EASTERN, SAMPLES
from tests.servers import HubServer

T = TypeVar("T")
SOURCE = "/connections/acme-edi"
JSON = {"content-type": "application/json"}


@pytest.fixture
def mailbox(tmp_path: Path) -> dict[str, Path]:
    folders = {"inbox": tmp_path / "inbox", "outbox": tmp_path / "outbox"}
    for folder in folders.values():
        folder.mkdir()
    return folders


@pytest.fixture
def x12_hub(database_url: str, tmp_path: Path) -> Iterator[HubServer]:
    mappings = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings" / "x12", mappings / "x12")
    settings: Settings = hub_settings(database_url)
    settings.mappings_path = mappings
    settings.poll_sync_seconds = 0.2
    with HubServer(settings) as server:
        yield server


def wait_for(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def create_partner(client: httpx.Client, mailbox: dict[str, Path], **extra: Any) -> dict[str, Any]:
    config = {
        "our_id": "CROSSDOCK",
        "partner_id": "ACMESUPPLY",
        "inbox": str(mailbox["inbox"]),
        "outbox": str(mailbox["outbox"]),
        "settle_seconds": 0,
        "timezone": "America/New_York",
        **extra.pop("config", {}),
    }
    response = client.post(
        "/v1/connections", json={"name": "acme-edi", "connector": "x12", "config": config, **extra}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def route_850(client: httpx.Client, **extra: Any) -> None:
    response = client.post(
        "/v1/routes",
        json={
            "name": "po-to-acme",
            "connection": "acme-edi",
            "types": ["po_release.released"],
            "mapping": "x12-850-from-po-release-released",
            **extra,
        },
    )
    assert response.status_code == 201, response.text


def released_po(po_number: str) -> dict[str, Any]:
    example = REPO / "contracts/po_release/examples/1.0/valid/01-released-four-lines.json"
    event: dict[str, Any] = orjson.loads(example.read_bytes())["event"]
    event["id"] = f"evt-{po_number}"
    event["subject"] = event["data"]["po_number"] = po_number
    return event


def post_event(client: httpx.Client, event: dict[str, Any]) -> str:
    response = client.post("/v1/messages", content=orjson.dumps(event), headers=JSON)
    assert response.status_code == 202, response.text
    key: str = response.json()["key"]
    return key


def interchange_of(path: Path) -> Interchange:
    [(chunk, separators)] = list(split_interchanges(path.read_text()))
    interchange = parse_interchange(chunk, separators)
    assert interchange.problems == []
    return interchange


def outbox(mailbox: dict[str, Path], prefix: str = "") -> list[str]:
    return sorted(p.name for p in mailbox["outbox"].iterdir() if p.name.startswith(prefix))


def messages(client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/messages", params={"source": SOURCE}).json()[
        "items"
    ]
    return items


def test_a_polled_856_becomes_receipt_advised_and_is_settled_and_acknowledged(
    x12_hub: HubServer, mailbox: dict[str, Path]
) -> None:
    shutil.copy(SAMPLES / "856-ship-notice.x12", mailbox["inbox"] / "ACME_20260325_2210.x12")
    with x12_hub.client(ADMIN_KEY) as client:
        created = create_partner(client, mailbox, poll_interval_seconds=1)
        assert created["mappings"]["x12/856"] == "x12-856-to-receipt-advised"
        [message] = wait_for(lambda: messages(client))
        event = message["event"]
        assert event["id"] == "x12/856:ACMESUPPLY:000004711:4711:0001"
        assert event["type"] == "receipt.advised"
        assert event["source"] == SOURCE
        assert event["data"]["asn_ref"] == "ACME-ASN-558120"
        assert [line["expected_qty"] for line in event["data"]["lines"]] == [400, 240, 60]
        assert [hu["sscc"] for hu in event["data"]["handling_units"]] == [
            "008574120000007314",
            "008574120000007321",
            "008574120000007338",
        ]
        settled = mailbox["inbox"] / "processed" / "ACME_20260325_2210.x12"
        wait_for(settled.exists)
        assert not (mailbox["inbox"] / "ACME_20260325_2210.x12").exists()
        [ack] = wait_for(lambda: outbox(mailbox, "997-"))
        interchange = interchange_of(mailbox["outbox"] / ack)
        assert (interchange.sender_id, interchange.receiver_id) == ("CROSSDOCK", "ACMESUPPLY")
        assert interchange.groups[0].sets[0].body == [
            ["AK1", "SH", "4711"],
            ["AK2", "856", "0001"],
            ["AK5", "A"],
            ["AK9", "A", "1", "1", "1"],
        ]
        polling = client.get("/v1/connections/acme-edi").json()["polling"]
        assert polling["last_error"] is None
        assert orjson.loads(polling["cursor"])["last"] == "ACME_20260325_2210.x12"


def test_an_unreadable_file_is_an_inbound_dead_letter_and_moves_to_failed(
    x12_hub: HubServer, mailbox: dict[str, Path]
) -> None:
    text = (SAMPLES / "856-ship-notice.x12").read_text().replace("SN1**240*CA", "SN1**2A0*CA")
    (mailbox["inbox"] / "bad-asn.x12").write_text(text)
    (mailbox["inbox"] / "not-edi.txt").write_text("Dear customer, please find our ASN attached.")
    with x12_hub.client(ADMIN_KEY) as client:
        create_partner(client, mailbox, poll_interval_seconds=1)

        def letters() -> list[dict[str, Any]]:
            page = client.get("/v1/deadletters", params={"direction": "inbound"}).json()
            items: list[dict[str, Any]] = page["items"]
            return items if len(items) == 2 else []

        found = wait_for(letters)
        assert {letter["record_kind"] for letter in found} == {"x12/unreadable"}
        assert all(letter["reason"] == "mapping_failed" for letter in found)
        # The hub says it has no mapping for the kind; the record says what is wrong.
        records = [
            client.get(f"/v1/deadletters/{letter['id']}").json()["inbound"]["record"]
            for letter in found
        ]
        errors = sorted(record["data"]["error"] for record in records)
        assert errors[0].startswith(
            "SN102 (segment 27 of the set): the number of units shipped '2A0' is not a number"
        )
        assert (
            errors[1]
            == "an interchange must start with an ISA segment, found 'Dear customer, pleas'"
        )
        assert {record["data"]["file"] for record in records} == {"bad-asn.x12", "not-edi.txt"}
        wait_for(lambda: (mailbox["inbox"] / "failed" / "bad-asn.x12").exists())
        wait_for(lambda: (mailbox["inbox"] / "failed" / "not-edi.txt").exists())
        assert messages(client) == []
        # The syntax error is reported back to the partner in its 997.
        [ack] = wait_for(lambda: outbox(mailbox, "997-"))
        body = interchange_of(mailbox["outbox"] / ack).groups[0].sets[0].body
        assert ["AK3", "SN1", "27", "", "8"] in body
        assert ["AK4", "2", "", "6", "2A0"] in body
        assert body[-2:] == [["AK5", "R", "5"], ["AK9", "R", "1", "1", "0"]]


def test_a_routed_po_release_becomes_an_850_in_the_outbox(
    x12_hub: HubServer, mailbox: dict[str, Path]
) -> None:
    with x12_hub.client(ADMIN_KEY) as client:
        create_partner(client, mailbox)
        route_850(client)
        key = post_event(client, released_po("PO-4500018231"))
        [written] = wait_for(lambda: outbox(mailbox, "850-"))
        assert written == "850-000000001.x12"
        interchange = interchange_of(mailbox["outbox"] / written)
        [transaction] = interchange.groups[0].sets
        order = READERS["850"](transaction, ReadContext(EASTERN))
        assert order["po_number"] == "PO-4500018231"
        assert [(line["quantity"], line["uom"], line["unit_price"]) for line in order["lines"]] == [
            ("400", "CA", "38.75"),
            ("250", "CA", "41.2"),
            ("96", "EA", "12.49"),
            ("180", "CA", "27.6"),
        ]
        [delivery] = wait_for(
            lambda: [
                d
                for d in client.get(f"/v1/messages/{key}/deliveries").json()["items"]
                if d["status"] == "delivered"
            ]
        )
        assert delivery["attempts"] == 1
        # Sent and waiting for the partner's 997, within its window: the check is fine.
        check = client.post("/v1/connections/acme-edi/check").json()
        assert check["ok"] is True, check
        assert check["info"]["awaiting_997"] == 1


def test_an_inbound_997_clears_its_interchange_and_an_overdue_one_fails_the_check(
    x12_hub: HubServer, mailbox: dict[str, Path]
) -> None:
    with x12_hub.client(ADMIN_KEY) as client:
        # A 997 window of 0.6 seconds, so that "overdue" comes quickly.
        create_partner(
            client, mailbox, poll_interval_seconds=1, config={"ack_window_minutes": 0.01}
        )
        route_850(client)
        post_event(client, released_po("PO-1"))
        wait_for(lambda: outbox(mailbox, "850-"))
        post_event(client, released_po("PO-2"))
        wait_for(lambda: len(outbox(mailbox, "850-")) == 2)
        # The partner acknowledges the first interchange only (its group control number 1).
        ack = [
            ["AK1", "PO", "1"],
            ["AK2", "850", "0001"],
            ["AK5", "A"],
            ["AK9", "A", "1", "1", "1"],
        ]
        (mailbox["inbox"] / "997-from-acme.x12").write_text(
            partner_interchange([("997", ack)], 4705)
        )
        wait_for(lambda: (mailbox["inbox"] / "processed" / "997-from-acme.x12").exists())
        assert messages(client) == [], "a 997 is not a canonical message"
        time.sleep(0.7)
        check = client.post("/v1/connections/acme-edi/check").json()
        assert check["ok"] is False
        assert "no 997 within 0.01 min: 850 PO-2 ISA13 000000002" in check["detail"]
        assert [late["subject"] for late in check["info"]["overdue_997"]] == ["PO-2"]
        assert check["info"]["awaiting_997"] == 1


def test_a_retried_delivery_does_not_draw_a_new_control_number(
    x12_hub: HubServer, mailbox: dict[str, Path]
) -> None:
    mailbox["outbox"].rmdir()  # the gateway's share is not mounted yet
    with x12_hub.client(ADMIN_KEY) as client:
        create_partner(client, mailbox)
        retry = {
            "max_attempts": 20,
            "initial_delay": 0.2,
            "multiplier": 1,
            "max_delay": 0.2,
            "jitter": 0,
        }
        route_850(client, retry=retry)
        key = post_event(client, released_po("PO-RETRY"))

        def failed_attempts() -> list[dict[str, Any]]:
            [delivery] = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
            history: list[dict[str, Any]] = delivery["history"]
            return [a for a in history if a["outcome"] == "connection_error"]

        [first, *_] = wait_for(failed_attempts)
        assert first["classification"] == "transient"
        mailbox["outbox"].mkdir()
        wait_for(lambda: outbox(mailbox, "850-"))
        post_event(client, released_po("PO-NEXT"))
        wait_for(lambda: len(outbox(mailbox, "850-")) == 2)
        # The retried delivery kept the numbers its first attempt drew: 1, then 2 for the next.
        assert outbox(mailbox) == ["850-000000001.x12", "850-000000002.x12"]
        first_file = interchange_of(mailbox["outbox"] / "850-000000001.x12")
        assert first_file.control == "000000001"
        [transaction] = first_file.groups[0].sets
        assert READERS["850"](transaction, ReadContext(EASTERN))["po_number"] == "PO-RETRY"
        [delivery] = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
        assert delivery["status"] == "delivered"
        assert delivery["attempts"] >= 2
