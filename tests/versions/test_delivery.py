"""Version conversion end to end: producers post reservation 2.0 (and 1.0) to a real hub on
loopback, and webhook sinks on loopback receive what their routes are pinned to.

Every test runs on SQLite and, when enabled, on PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import copy
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.settings import Settings
from tests.conftest import ADMIN_KEY, REPO
from tests.deliveries.test_dead_letters import open_letters, wait_until
from tests.deliveries.test_delivery_api import post_event
from tests.servers import HubServer
from tests.sinks import SECRET, Sink

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
CHECKER = MessageChecker(REGISTRY)
V1 = "urn:crossdock:contract:reservation:1.0"
V2 = "urn:crossdock:contract:reservation:2.0"


def examples(version: str) -> list[dict[str, Any]]:
    contract = REGISTRY.get("reservation", version)
    assert contract is not None
    return [copy.deepcopy(e.event) for e in contract.examples if e.valid]


def pinned_route(
    client: httpx.Client, sink: Sink, name: str, pins: dict[str, str] | None = None
) -> None:
    connection = client.post(
        "/v1/connections",
        json={
            "name": f"{name}-conn",
            "connector": "webhook",
            "config": {"url": sink.url, "signing_secret": SECRET},
        },
    )
    assert connection.status_code == 201, connection.text
    body: dict[str, Any] = {"name": name, "connection": f"{name}-conn", "types": ["reservation.*"]}
    if pins is not None:
        body["contract_versions"] = pins
    created = client.post("/v1/routes", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["contract_versions"] == (pins or {})


def by_id(sink: Sink, count: int) -> dict[str, dict[str, Any]]:
    return {r.body["id"]: r.body for r in sink.wait_for(count)}


def assert_valid(event: dict[str, Any], dataschema: str) -> None:
    """What a sink got is a valid message of exactly ``dataschema``, by the hub's own check."""
    assert event["dataschema"] == dataschema
    result = CHECKER.check(event)
    assert result.ok, result.violations
    assert result.contract is not None and result.contract.dataschema == dataschema


def test_a_route_pinned_to_1x_keeps_receiving_valid_1x_while_producers_send_2_0(
    hub: HubServer,
) -> None:
    """The must-hold of issue 6: a 1.x target is untouched by the 2.0 rollout."""
    sent_v2 = examples("2.0")
    sent_v1 = examples("1.0")[:1]
    # An extension attribute of the producer's: not the version's, so conversion keeps it.
    sent_v2[0]["tenant"] = "eu-west"
    with (
        Sink() as legacy,
        Sink() as modern,
        hub.client(ADMIN_KEY) as client,
    ):
        pinned_route(client, legacy, "legacy-wms", {"reservation": "1"})
        pinned_route(client, modern, "modern-wms")
        for event in [*sent_v2, *sent_v1]:
            post_event(client, event)
        total = len(sent_v2) + len(sent_v1)
        got_legacy = by_id(legacy, total)
        got_modern = by_id(modern, total)

    v1_by_subject = {e["data"]["reservation_id"]: e for e in examples("1.0")}
    for sent in sent_v2:
        received = got_legacy[sent["id"]]
        assert_valid(received, V1)
        # The 2.0 examples are the 1.0 ones with measures: converting down gives the 1.0
        # data back exactly, quantities, units and all.
        assert received["data"] == v1_by_subject[sent["data"]["reservation_id"]]["data"]
        envelope = {k: v for k, v in sent.items() if k not in ("data", "dataschema")}
        assert {k: v for k, v in received.items() if k not in ("data", "dataschema")} == envelope
    assert got_legacy[sent_v2[0]["id"]]["tenant"] == "eu-west"
    # 1.x messages go to the 1.x route as they were sent.
    assert got_legacy[sent_v1[0]["id"]] == sent_v1[0]
    # The unpinned route gets every message as sent, 2.0 included.
    for sent in [*sent_v2, *sent_v1]:
        assert got_modern[sent["id"]] == sent
    assert got_modern[sent_v2[0]["id"]]["dataschema"] == V2


def test_1_0_posted_to_a_route_pinned_to_2_0_is_converted_up(hub: HubServer) -> None:
    sent = examples("1.0")
    v2_by_subject = {e["data"]["reservation_id"]: e for e in examples("2.0")}
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        pinned_route(client, sink, "new-erp", {"reservation": "2.0"})
        for event in sent:
            post_event(client, event)
        got = by_id(sink, len(sent))
    for event in sent:
        received = got[event["id"]]
        assert_valid(received, V2)
        lines = received["data"]["lines"]
        for original, line in zip(event["data"]["lines"], lines, strict=True):
            assert line["requested"] == {"value": original["requested_qty"], "uom": original["uom"]}
            if "reserved_qty" in original:
                assert line["reserved"] == {
                    "value": original["reserved_qty"],
                    "uom": original["uom"],
                }
            else:
                assert "reserved" not in line
        counterpart = v2_by_subject.get(event["data"]["reservation_id"])
        if counterpart is not None:
            assert received["data"] == counterpart["data"]


def test_a_pin_is_shown_changed_and_removed(hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        pinned_route(client, sink, "wms", {"reservation": "1"})
        assert client.get("/v1/routes/wms").json()["contract_versions"] == {"reservation": "1"}
        listed = client.get("/v1/routes").json()["items"]
        assert listed[0]["contract_versions"] == {"reservation": "1"}
        changed = client.patch("/v1/routes/wms", json={"contract_versions": {"reservation": "2"}})
        assert changed.status_code == 200, changed.text
        assert changed.json()["contract_versions"] == {"reservation": "2"}
        removed = client.patch("/v1/routes/wms", json={"contract_versions": {}})
        assert removed.json()["contract_versions"] == {}
        audit = client.get("/v1/audit", params={"action": "route.update"}).json()["items"]
        pins = [(e["before"]["contract_versions"], e["after"]["contract_versions"]) for e in audit]
        assert ({"reservation": "1"}, {"reservation": "2"}) in pins
        assert ({"reservation": "2"}, {}) in pins


def _mappings_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", folder)
    return folder


@pytest.fixture
def hub_without_down_mapping(settings: Settings, tmp_path: Path) -> Iterator[HubServer]:
    """A hub whose mappings/ can convert reservation 1.0 up to 2.0 but not 2.0 down."""
    folder = _mappings_copy(tmp_path)
    (folder / "versions" / "reservation-2.0-to-1.0.yaml").unlink()
    settings.mappings_path = folder
    with HubServer(settings) as server:
        yield server


def test_a_pin_that_cannot_be_reached_is_refused_with_the_missing_conversion(
    hub_without_down_mapping: HubServer,
) -> None:
    hub = hub_without_down_mapping
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        body = {"name": "legacy", "connection": "c-conn", "types": ["reservation.*"]}
        pinned_route(client, sink, "c")  # the connection, and an unpinned route
        refused = client.post(
            "/v1/routes", json={**body, "contract_versions": {"reservation": "1"}}
        )
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["type"] == "urn:crossdock:problem:invalid-parameters"
        [violation] = problem["violations"]
        assert violation["pointer"] == "/contract_versions/reservation"
        assert violation["rule"] == "version-reachable"
        assert "reservation 2.0 messages cannot be converted to 1.x" in violation["message"]
        assert "from 2.0 to 1.0" in violation["message"]
        assert "reservation 2.0 messages cannot be converted to 1.x" in problem["detail"]
        assert client.get("/v1/routes/legacy").status_code == 404

        # Up is there: a route pinned to 2.x takes 1.0 producers too.
        assert (
            client.post(
                "/v1/routes", json={**body, "contract_versions": {"reservation": "2"}}
            ).status_code
            == 201
        )
        # …and cannot be moved to the pin that has no way there.
        moved = client.patch("/v1/routes/legacy", json={"contract_versions": {"reservation": "1"}})
        assert moved.status_code == 422
        assert moved.json()["violations"][0]["rule"] == "version-reachable"
        assert client.get("/v1/routes/legacy").json()["contract_versions"] == {"reservation": "2"}


def test_bad_pins_are_422_problems_never_500(hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        pinned_route(client, sink, "c")
        base = {"name": "r", "connection": "c-conn", "types": ["reservation.*"]}
        cases: list[tuple[dict[str, Any], str | None]] = [
            ({"contract_versions": {"widget": "1"}}, "contract-family"),
            ({"contract_versions": {"transfer": "1"}}, "family-routed"),
            ({"contract_versions": {"reservation": "3"}}, "version-exists"),
            ({"contract_versions": {"reservation": "1.7"}}, "version-exists"),
            ({"contract_versions": {"reservation": "v1"}}, None),
            ({"contract_versions": {"reservation": 1}}, None),
            ({"contract_versions": ["reservation"]}, None),
        ]
        for extra, rule in cases:
            response = client.post("/v1/routes", json={**base, **extra})
            assert response.status_code == 422, (extra, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            if rule is not None:
                assert [v["rule"] for v in response.json()["violations"]] == [rule], extra
        # A pin the route's new types no longer receive is refused when the types change.
        created = client.post(
            "/v1/routes", json={**base, "contract_versions": {"reservation": "1"}}
        )
        assert created.status_code == 201, created.text
        narrowed = client.patch("/v1/routes/r", json={"types": ["transfer.*"]})
        assert narrowed.status_code == 422
        assert narrowed.json()["violations"][0]["rule"] == "family-routed"
        assert client.get("/v1/routes/r").json()["types"] == ["reservation.*"]


@pytest.fixture
def hub_with_strict_down_mapping(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[HubServer, Path]]:
    """A hub whose 2.0 → 1.0 mapping insists on a customer_ref (as a target might)."""
    folder = _mappings_copy(tmp_path)
    down = folder / "versions" / "reservation-2.0-to-1.0.yaml"
    down.write_text(
        down.read_text().replace(
            "data.customer_ref: {path: data.customer_ref}",
            "data.customer_ref: {path: data.customer_ref, via: [required]}",
        )
    )
    settings.mappings_path = folder
    with HubServer(settings) as server:
        yield server, down


def test_a_conversion_error_dead_letters_and_replays_once_the_mapping_is_fixed(
    hub_with_strict_down_mapping: tuple[HubServer, Path],
) -> None:
    hub, down = hub_with_strict_down_mapping
    event = examples("2.0")[0]
    del event["data"]["customer_ref"]
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        pinned_route(client, sink, "legacy", {"reservation": "1"})
        key = post_event(client, event)
        [letter] = wait_until(lambda: open_letters(client))
        assert letter["message_key"] == key
        assert letter["reason"] == "permanent"
        assert letter["error_class"] == "mapping_error"
        assert letter["attempts"] == 1
        detail = client.get(f"/v1/deadletters/{letter['id']}").json()
        error = detail["history"][0]["error"]
        assert "converting reservation 2.0 to 1.0" in error
        assert "reservation-2.0-to-1.0" in error
        assert "/data/customer_ref" in error
        assert sink.received == []  # nothing was sent

        # Fix the mapping (as shipped), and replay: the converted message arrives.
        down.write_bytes((REPO / "mappings/versions/reservation-2.0-to-1.0.yaml").read_bytes())
        time.sleep(1.1)  # the hub looks at mapping files at most once a second
        replayed = client.post(f"/v1/deadletters/{letter['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        [received] = sink.wait_for(1)
        assert_valid(received.body, V1)
        assert received.body["id"] == event["id"]


def test_a_route_whose_mapping_reads_1_0_gets_2_0_converted_without_a_pin(
    hub: HubServer, tmp_path: Path
) -> None:
    """The route's mapping is written against reservation 1.0: the route is pinned to 1.x
    by it, so producers moving to 2.0 do not break it."""
    outbox, inbox = tmp_path / "outbox", tmp_path / "inbox"
    outbox.mkdir()
    inbox.mkdir()
    [released] = [e for e in examples("2.0") if e["type"] == "reservation.released"]
    with hub.client(ADMIN_KEY) as client:
        connection = client.post(
            "/v1/connections",
            json={
                "name": "chicago-3pl",
                "connector": "x12",
                "config": {
                    "our_id": "CROSSDOCK",
                    "partner_id": "CHI3PL",
                    "inbox": str(inbox),
                    "outbox": str(outbox),
                },
            },
        )
        assert connection.status_code == 201, connection.text
        created = client.post(
            "/v1/routes",
            json={
                "name": "releases-to-chicago",
                "connection": "chicago-3pl",
                "types": ["reservation.released"],
                "mapping": "x12-940-from-reservation-released",
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["contract_versions"] == {"reservation": "1"}
        key = post_event(client, released)
        wait_until(
            lambda: (
                [d["status"] for d in client.get(f"/v1/messages/{key}/deliveries").json()["items"]]
                == ["delivered"]
            )
        )
    [written] = list(outbox.glob("940-*.x12"))
    text = written.read_text()
    for line in released["data"]["lines"]:
        assert f"*{line['item']['sku']}" in text
        quantity = line.get("reserved") or line["requested"]
        assert f"W01*{quantity['value']}*" in text, text
