"""A connector from its own distribution, driven through the real hub with no hub changes.

``crossdock-acme-wms`` (tests/fixtures/acme-wms-connector) is installed into the test
environment like any third-party package. Here it shows up in the API, sends mapped
orders to a fake Acme WMS speaking its REST protocol, takes signed pushes, polls for
receipts, and an unmappable push is kept, fixed by editing the mapping, and replayed into
a delivered message.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from crossdock_acme_wms.testing import TOKEN, WEBHOOK_SECRET, FakeAcmeWms, sample_receipt

from hub.mappings import MappingRegistry, run_tests
from hub.settings import Settings
from tests.conftest import ADMIN_KEY, REPO, hub_settings
from tests.deliveries.test_delivery_api import post_event
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import SECRET, Sink

RECEIPT_MAPPING = """\
name: acme-receipt
description: An Acme WMS receipt becomes receipt.received.
source: {connector: acme-wms, kind: acme.receipt}
target: {contract: receipt, version: "1.0"}
fields:
  type: {value: receipt.received}
  subject: {concat: [{value: ACME-RCV-}, {path: receipt_no}]}
  time: {path: received_at}
  data.receipt_id: {concat: [{value: ACME-RCV-}, {path: receipt_no}]}
  data.asn_ref: {path: asn}
  data.location.code: {path: warehouse}
  data.lines:
    each: lines
    fields:
      line_no: {path: line}
      item.sku: {path: sku, via: [upper]}
      item.gtin: {path: upc, via: [gtin]}
      received_qty: {path: QUANTITY, via: [decimal, required]}
      uom: {path: unit, via: [uom]}
tests:
  - name: one line
    input:
      receipt_no: 9007199254740993
      asn: ASN-1
      warehouse: DC-ATL
      received_at: "2026-11-24T08:30:00Z"
      lines: [{line: 1, sku: bolt-m8, upc: "4006381333931", qty: "1.5", unit: kg}]
    expect:
      type: receipt.received
      subject: ACME-RCV-9007199254740993
      time: "2026-11-24T08:30:00Z"
      data:
        receipt_id: ACME-RCV-9007199254740993
        asn_ref: ASN-1
        location: {code: DC-ATL}
        lines:
          - {line_no: 1, item: {sku: BOLT-M8, gtin: "04006381333931"}, received_qty: 1.5, uom: KG}
"""

ORDER_MAPPING = """\
name: acme-order
description: A reservation becomes an Acme WMS order.
source: {contract: reservation, version: "1.0"}
target: {connector: acme-wms, kind: acme.order}
fields:
  order_no: {path: data.order_ref}
  reference: {path: data.reservation_id}
  lines:
    each: data.lines
    fields:
      sku: {path: item.sku}
      qty: {path: requested_qty, via: [decimal]}
      unit: {path: uom}
tests:
  - name: one line
    input:
      data:
        order_ref: SO-1
        reservation_id: RSV-1
        lines: [{item: {sku: A-1}, requested_qty: 2.5, uom: KG}]
    expect:
      order_no: SO-1
      reference: RSV-1
      lines: [{sku: A-1, qty: 2.5, unit: KG}]
"""


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "mappings"
    directory.mkdir()
    (directory / "acme-receipt.yaml").write_text(RECEIPT_MAPPING)
    (directory / "acme-order.yaml").write_text(ORDER_MAPPING)
    # The order mapping reads reservation 1.0: routes with it convert 2.0 down first.
    shutil.copytree(REPO / "mappings" / "versions", directory / "versions")
    return directory


@pytest.fixture
def acme_hub(database_url: str, mappings_dir: Path) -> Iterator[HubServer]:
    settings: Settings = hub_settings(database_url)
    settings.mappings_path = mappings_dir
    settings.poll_sync_seconds = 0.2
    with HubServer(settings) as server:
        yield server


@pytest.fixture
def wms() -> Iterator[FakeAcmeWms]:
    fake = FakeAcmeWms()
    with fake.peer:
        yield fake


def create_acme(client: httpx.Client, wms: FakeAcmeWms, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/connections",
        json={
            "name": "acme",
            "connector": "acme-wms",
            "config": {
                "base_url": wms.peer.url,
                "api_token": TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "page_size": 2,
            },
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_the_installed_package_is_listed_and_configured(
    acme_hub: HubServer, wms: FakeAcmeWms
) -> None:
    with acme_hub.client(ADMIN_KEY) as client:
        listed = {c["slug"]: c for c in client.get("/v1/connectors").json()["items"]}
        acme = listed["acme-wms"]
        assert acme["manifest"]["kinds"] == ["wms"]
        assert acme["manifest"]["polls"] is True
        assert acme["config_schema"]["properties"]["api_token"]["writeOnly"] is True
        assert acme["secret_fields"] == ["api_token", "webhook_secret"]

        created = create_acme(client, wms)
        assert TOKEN not in orjson.dumps(created).decode()
        assert created["secrets_set"] == ["api_token", "webhook_secret"]
        assert created["mappings"] == {"acme.receipt": "acme-receipt"}

        check = client.post("/v1/connections/acme/check")
        assert check.status_code == 200
        assert check.json()["ok"] is True

        bad = client.patch("/v1/connections/acme", json={"config": {"api_token": "wrong"}})
        assert bad.status_code == 200
        failed = client.post("/v1/connections/acme/check").json()
        assert failed["ok"] is False
        assert "401" in failed["detail"]

        invalid = client.post(
            "/v1/connections",
            json={"name": "acme-2", "connector": "acme-wms", "config": {"base_url": "nope"}},
        )
        assert invalid.status_code == 422
        pointers = {v["pointer"] for v in invalid.json()["violations"]}
        assert {"/config/base_url", "/config/api_token", "/config/webhook_secret"} <= pointers
        unknown_mapping = client.post(
            "/v1/connections",
            json={
                "name": "acme-3",
                "connector": "acme-wms",
                "config": {"base_url": wms.peer.url, "api_token": "t", "webhook_secret": "s"},
                "mappings": {"acme.receipt": "no-such-mapping"},
            },
        )
        assert unknown_mapping.status_code == 422


def test_orders_go_out_through_the_route_mapping(
    acme_hub: HubServer, wms: FakeAcmeWms, mappings_dir: Path
) -> None:
    with acme_hub.client(ADMIN_KEY) as client:
        create_acme(client, wms)
        route = client.post(
            "/v1/routes",
            json={
                "name": "to-acme",
                "connection": "acme",
                "types": ["reservation.*"],
                "mapping": "acme-order",
            },
        )
        assert route.status_code == 201, route.text
        event = a_valid_event("reservation", "for-acme")
        key = post_event(client, event)
        [order] = wait_for(lambda: list(wms.orders))
        assert order["order_no"] == event["data"]["order_ref"]
        assert [line["sku"] for line in order["lines"]] == [
            line["item"]["sku"] for line in event["data"]["lines"]
        ]
        assert [line["qty"] for line in order["lines"]] == [
            line["requested_qty"] for line in event["data"]["lines"]
        ]
        sent = [r for r in wms.peer.requests if r.path == "/api/v1/orders"]
        assert sent[0].headers["idempotency-key"] == key

        # An edited mapping reaches the next delivery without a restart.
        time.sleep(1.1)  # the hub looks at the files at most once a second
        edited = ORDER_MAPPING.replace(
            "  reference: {path: data.reservation_id}\n",
            "  reference: {path: data.reservation_id}\n  channel: {value: crossdock}\n",
        ).replace("      reference: RSV-1\n", "      reference: RSV-1\n      channel: crossdock\n")
        (mappings_dir / "acme-order.yaml").write_text(edited)
        post_event(client, a_valid_event("reservation", "after-edit"))
        orders = wait_for(lambda: list(wms.orders) if len(wms.orders) == 2 else None)
        assert "channel" not in orders[0]
        assert orders[1]["channel"] == "crossdock"
        missing = client.post(
            "/v1/routes",
            json={"name": "bad", "connection": "acme", "types": ["*"], "mapping": "nope"},
        )
        assert missing.status_code == 422


def test_an_unmappable_push_is_kept_fixed_and_replayed_into_a_delivery(
    acme_hub: HubServer, wms: FakeAcmeWms, mappings_dir: Path
) -> None:
    receipt = sample_receipt(9007199254740993)  # 2**53 + 1: a float would make it ...992
    with Sink() as sink, acme_hub.client(ADMIN_KEY) as client:
        create_acme(client, wms)
        sink_connection = client.post(
            "/v1/connections",
            json={
                "name": "erp",
                "connector": "webhook",
                "config": {"url": sink.url, "signing_secret": SECRET},
            },
        )
        assert sink_connection.status_code == 201
        routed = client.post(
            "/v1/routes", json={"name": "receipts", "connection": "erp", "types": ["receipt.*"]}
        )
        assert routed.status_code == 201

        push = wms.push(receipt)
        response = client.post(
            "/v1/connections/acme/inbound", content=push.body, headers=dict(push.headers)
        )
        assert response.status_code == 202, response.text
        [item] = response.json()["items"]
        assert item["status"] == "dead_lettered"
        assert item["reason"] == "mapping_failed"
        assert "QUANTITY" in item["error"] or "received_qty" in item["error"]
        letter_id = item["dead_letter_id"]

        assert client.post(f"/v1/deadletters/{letter_id}/replay").status_code == 422

        (mappings_dir / "acme-receipt.yaml").write_text(
            RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
        )
        replayed = client.post(f"/v1/deadletters/{letter_id}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "replayed"
        [key] = replayed.json()["replay_message_keys"]

        message = client.get(f"/v1/messages/{key}").json()["event"]
        assert message["source"] == "/connections/acme"
        assert message["id"] == "acme.receipt:9007199254740993"
        assert message["data"]["receipt_id"] == "ACME-RCV-9007199254740993"
        assert [line["received_qty"] for line in message["data"]["lines"]] == [12.5, 200]
        assert [line["item"]["gtin"] for line in message["data"]["lines"]] == [
            "04006381333931",
            "00036000291452",
        ]
        [delivered] = sink.wait_for(1)
        assert delivered.body == message

        audit = client.get("/v1/audit", params={"target_id": letter_id}).json()["items"]
        assert [entry["action"] for entry in audit] == ["deadletter.replay"]

        # The same push again (Acme retrying) is a duplicate: same answer, nothing new.
        again = client.post(
            "/v1/connections/acme/inbound", content=push.body, headers=dict(push.headers)
        )
        assert again.status_code == 200
        assert again.json()["duplicate"] is True


def test_receipts_are_polled_page_by_page_with_a_stored_cursor(
    acme_hub: HubServer, wms: FakeAcmeWms, mappings_dir: Path
) -> None:
    (mappings_dir / "acme-receipt.yaml").write_text(
        RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
    )
    # The hub looks for edited mappings at most once a second, and it just started (and
    # looked): load the edit now, so that the first poll already maps with it.
    assert acme_hub.state.mappings.refresh()
    for n in range(3):
        wms.add_receipt(sample_receipt(9007199254740000 + n))
    with acme_hub.client(ADMIN_KEY) as client:
        create_acme(client, wms, poll_interval_seconds=1)

        def polled() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = client.get(
                "/v1/messages", params={"source": "/connections/acme"}
            ).json()["items"]
            return items if len(items) == 3 else []

        messages = wait_for(polled)
        assert sorted(m["event"]["id"] for m in messages) == [
            f"acme.receipt:{9007199254740000 + n}" for n in range(3)
        ]
        polling = wait_for(
            lambda: (
                (p := client.get("/v1/connections/acme").json()["polling"])["cursor"] == "3" and p
            )
        )
        assert polling["last_error"] is None
        assert polling["last_polled_at"] is not None
        # After each stored page the connector told Acme which receipts landed.
        landed = [number for ack in wms.acks for number in ack["landed"]]
        assert sorted(landed) == [str(9007199254740000 + n) for n in range(3)]
        pages = [r.query["after"] for r in wms.peer.requests if r.path == "/api/v1/events"]
        assert pages[:2] == ["0", "2"]

        # New records are picked up from the stored cursor, old ones never again.
        wms.add_receipt(sample_receipt(9007199254740100))
        wait_for(
            lambda: (
                len(
                    client.get("/v1/messages", params={"source": "/connections/acme"}).json()[
                        "items"
                    ]
                )
                == 4
            )
        )
        afters = [int(r.query["after"]) for r in wms.peer.requests if r.path == "/api/v1/events"]
        assert afters == sorted(afters), "the cursor went back"
        assert afters.count(0) == 1


def test_the_mappings_used_here_pass_their_own_vectors(mappings_dir: Path) -> None:
    registry = MappingRegistry.load(mappings_dir)
    broken = run_tests(registry)
    assert [r.name for r in broken if not r.passed] == ["one line"]  # the QUANTITY typo
    (mappings_dir / "acme-receipt.yaml").write_text(
        RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
    )
    registry.refresh()
    assert all(r.passed for r in run_tests(registry)), run_tests(registry)


def test_a_bulk_replay_takes_inbound_dead_letters_and_leaves_the_still_broken_open(
    acme_hub: HubServer, wms: FakeAcmeWms, mappings_dir: Path
) -> None:
    fixable = [sample_receipt(9007199254743000 + n) for n in range(3)]
    hopeless = sample_receipt(9007199254743999)
    hopeless["lines"][0]["upc"] = "4006381333932"  # a wrong check digit: no mapping fixes it
    with acme_hub.client(ADMIN_KEY) as client:
        create_acme(client, wms)
        for receipt in [*fixable, hopeless]:
            push = wms.push(receipt)
            response = client.post(
                "/v1/connections/acme/inbound", content=push.body, headers=dict(push.headers)
            )
            assert response.json()["dead_lettered"] == 1
        (mappings_dir / "acme-receipt.yaml").write_text(
            RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
        )
        started = client.post(
            "/v1/deadletters/replays", json={"direction": "inbound", "connection": "acme"}
        )
        assert started.status_code == 202, started.text
        job = wait_for(
            lambda: (j := client.get(started.headers["location"]).json())["status"] == "done" and j
        )
        assert (job["processed"], job["succeeded"], job["failed"]) == (4, 3, 1)
        still_open = client.get("/v1/deadletters", params={"direction": "inbound"}).json()
        [letter] = still_open["items"]
        assert letter["reason"] == "mapping_failed"
        assert "check digit" in letter["error"]
        assert letter["attempts"] == 2
        messages = client.get("/v1/messages", params={"source": "/connections/acme"}).json()
        assert sorted(m["event"]["id"] for m in messages["items"]) == sorted(
            f"acme.receipt:{r['receipt_no']}" for r in fixable
        )
