"""Connections, routes and deliveries through the API, delivering to a real HTTP sink."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine

from tests.conftest import ADMIN_KEY
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import SECRET, Sink

JSON = {"Content-Type": "application/json"}


def make_route(client: httpx.Client, sink: Sink, name: str = "wms", **route: Any) -> dict[str, Any]:
    connection = client.post(
        "/v1/connections",
        json={
            "name": f"{name}-conn",
            "connector": "webhook",
            "config": {"url": sink.url, "signing_secret": SECRET},
            "breaker_threshold": route.pop("breaker_threshold", 5),
            "breaker_cooldown_seconds": route.pop("breaker_cooldown_seconds", 30),
        },
    )
    assert connection.status_code == 201, connection.text
    body = {"name": name, "connection": f"{name}-conn", "types": ["*"], **route}
    created = client.post("/v1/routes", json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def post_event(client: httpx.Client, event: dict[str, Any]) -> str:
    response = client.post("/v1/messages", content=orjson.dumps(event), headers=JSON)
    assert response.status_code == 202, response.text
    key: str = response.json()["key"]
    return key


def test_a_message_reaches_its_subscriber_signed_and_visible(hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, types=["reservation.*"])
        key = post_event(client, a_valid_event("reservation", "r-1"))
        post_event(client, a_valid_event("receipt", "not-routed"))
        [received] = sink.wait_for(1)
        assert received.body["id"] == "r-1"
        assert received.headers["crossdock-message-key"] == key
        assert received.headers["content-type"] == "application/cloudevents+json"
        assert sink.bad_signatures == 0

        deliveries = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
        for _ in range(50):
            if deliveries and deliveries[0]["status"] == "delivered":
                break
            deliveries = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
        [delivery] = deliveries
        assert delivery["status"] == "delivered"
        assert delivery["route"] == "wms"
        assert delivery["attempts"] == 1
        assert delivery["history"][0]["classification"] == "success"
        # Recorded in a batch, yet each delivery keeps its own delivery time: its attempt's end.
        assert delivery["delivered_at"] == delivery["history"][0]["finished_at"]
        assert delivery["latency_ms"] is not None and delivery["latency_ms"] >= 0
        metrics = client.get("/metrics").text
        assert 'crossdock_delivery_latency_seconds_count{route="wms"} 1.0' in metrics
        assert 'crossdock_breaker_state{connection="wms-conn",state="closed"} 1.0' in metrics


def test_filters_choose_messages_by_content(hub: HubServer) -> None:
    wanted = a_valid_event("reservation", "wanted")
    wanted["data"]["priority"] = "critical"
    other = a_valid_event("reservation", "other")
    other["data"]["priority"] = "standard"
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, filter="data.priority == 'critical'")
        post_event(client, other)
        post_event(client, wanted)
        [received] = sink.wait_for(1)
        assert received.body["id"] == "wanted"


def test_connection_secrets_are_write_only(hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink)
        for response in (client.get("/v1/connections/wms-conn"), client.get("/v1/connections")):
            assert SECRET not in response.text
        shown = client.get("/v1/connections/wms-conn").json()
        assert shown["secrets_set"] == ["signing_secret"]
        assert "signing_secret" not in shown["config"]
        changed = client.patch("/v1/connections/wms-conn", json={"concurrency": 2})
        assert changed.status_code == 200
        assert changed.json()["concurrency"] == 2
        assert changed.json()["secrets_set"] == ["signing_secret"]  # kept when not resent


def test_bad_connection_and_route_input_is_422(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        unknown = client.post("/v1/connections", json={"name": "x", "connector": "carrier-pigeon"})
        assert unknown.status_code == 422
        bad_config = client.post(
            "/v1/connections",
            json={"name": "x", "connector": "webhook", "config": {"url": "not a url"}},
        )
        assert bad_config.status_code == 422
        pointers = {v["pointer"] for v in bad_config.json()["violations"]}
        assert pointers == {"/config/url"}
        unsigned = client.post(
            "/v1/connections",
            json={"name": "x", "connector": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
        )
        assert unsigned.status_code == 422
        [violation] = unsigned.json()["violations"]
        assert violation["pointer"] == "/config"
        assert "signing_secret is required" in violation["message"]
        no_connection = client.post(
            "/v1/routes", json={"name": "r", "connection": "nope", "types": ["*"]}
        )
        assert no_connection.status_code == 422
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink)
        bad_filter = client.post(
            "/v1/routes",
            json={"name": "r2", "connection": "wms-conn", "types": ["*"], "filter": "data[?"},
        )
        assert bad_filter.status_code == 422
        assert bad_filter.json()["violations"][0]["pointer"] == "/filter"
        bad_type = client.post(
            "/v1/routes", json={"name": "r3", "connection": "wms-conn", "types": ["Receipt"]}
        )
        assert bad_type.status_code == 422
        assert client.delete("/v1/connections/wms-conn").status_code == 409


def test_a_paused_route_holds_deliveries_until_resumed(hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, paused=True)
        post_event(client, a_valid_event("transfer", "held"))
        time.sleep(1.5)
        assert sink.delivered() == []
        assert client.post("/v1/routes/wms/resume").json()["paused"] is False
        [received] = sink.wait_for(1)
        assert received.body["id"] == "held"


def test_a_2xx_write_is_committed_before_the_answer(hub: HubServer, engine: Engine) -> None:
    from sqlalchemy import select

    from hub.routes.models import Route

    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        for i in range(10):
            route = make_route(client, sink, name=f"commit-{i}")
            with engine.connect() as conn:  # another connection, straight after the 201
                assert (
                    conn.scalar(select(Route.name).where(Route.id == route["id"])) == f"commit-{i}"
                )


def test_a_webhook_sends_its_authorization_secret_and_refuses_credentials_in_headers(
    hub: HubServer,
) -> None:
    token = "Bearer wms-token-5f1c9a7e3b2d"
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        refused = client.post(
            "/v1/connections",
            json={
                "name": "wms-in-clear",
                "connector": "webhook",
                "config": {
                    "url": sink.url,
                    "signing_secret": SECRET,
                    "headers": {"Authorization": token},
                },
            },
        )
        assert refused.status_code == 422, refused.text
        assert token not in refused.text
        assert "authorization" in refused.json()["detail"]
        created = client.post(
            "/v1/connections",
            json={
                "name": "wms-conn",
                "connector": "webhook",
                "config": {
                    "url": sink.url,
                    "signing_secret": SECRET,
                    "authorization": token,
                    "headers": {"x-tenant": "eu-west"},
                },
            },
        )
        assert created.status_code == 201, created.text
        assert "authorization" in created.json()["secrets_set"]
        shown = client.get("/v1/connections/wms-conn").text
        assert "wms-token" not in shown
        route = client.post(
            "/v1/routes", json={"name": "wms", "connection": "wms-conn", "types": ["*"]}
        )
        assert route.status_code == 201, route.text
        post_event(client, a_valid_event("receipt", "evt-authorized"))
        [received] = sink.wait_for(1)
        assert received.headers["authorization"] == token
        assert received.headers["x-tenant"] == "eu-west"
