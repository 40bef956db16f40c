"""``GET /v1/messages`` and ``/v1/messages/{key}``: the feed a downstream system pulls."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.conftest import ADMIN_KEY
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer


def _seed(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    families = ["reservation", "transfer", "po_release", "receipt", "backorder"]
    events = []
    for i in range(count):
        event = a_valid_event(families[i % 5], f"feed-{i}")
        event["subject"] = f"DOC-{i % 3}"
        event["correlationid"] = f"flow-{i % 2}"
        events.append(event)
    response = client.post(
        "/v1/messages/batch",
        content=orjson.dumps(events),
        headers={"Content-Type": "application/json"},
    )
    assert response.json()["accepted"] == count
    return events


def _drain(client: httpx.Client, limit: int, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["after"] = cursor
        page = client.get("/v1/messages", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return items
    raise AssertionError("the feed did not end")


def test_paging_returns_every_message_once_in_acceptance_order(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        events = _seed(client, 23)
        items = _drain(client, limit=5)
    assert [i["event"]["id"] for i in items] == [e["id"] for e in events]
    assert [i["event"] for i in items] == events  # stored exactly as accepted


def test_a_kept_cursor_sees_only_later_messages(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        _seed(client, 3)
        first = client.get("/v1/messages", params={"limit": 10}).json()
        cursor = first["next_cursor"]
        empty = client.get("/v1/messages", params={"after": cursor}).json()
        assert empty["items"] == []
        assert empty["next_cursor"] == cursor  # polling with it is safe
        later = a_valid_event("receipt", "later-1")
        client.post(
            "/v1/messages",
            content=orjson.dumps(later),
            headers={"Content-Type": "application/json"},
        )
        after = client.get("/v1/messages", params={"after": cursor}).json()
    assert [i["event"]["id"] for i in after["items"]] == ["later-1"]


def test_filters(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        events = _seed(client, 10)
        by_family = _drain(client, 3, type="receipt.*")
        assert {i["event"]["type"].split(".")[0] for i in by_family} == {"receipt"}
        assert len(by_family) == 2
        exact_type = events[0]["type"]
        assert all(i["event"]["type"] == exact_type for i in _drain(client, 50, type=exact_type))
        by_subject = _drain(client, 50, subject="DOC-1")
        assert [i["event"]["id"] for i in by_subject] == [
            e["id"] for e in events if e["subject"] == "DOC-1"
        ]
        by_flow = _drain(client, 50, correlation_id="flow-0")
        assert len(by_flow) == 5
        by_source = _drain(client, 50, source=events[0]["source"])
        assert {i["event"]["source"] for i in by_source} == {events[0]["source"]}
        now = datetime.now(UTC)
        assert (
            len(_drain(client, 50, accepted_after=(now - timedelta(minutes=5)).isoformat())) == 10
        )
        assert _drain(client, 50, accepted_before=(now - timedelta(minutes=5)).isoformat()) == []


def test_get_one_message(hub: HubServer) -> None:
    event = a_valid_event()
    with hub.client(ADMIN_KEY) as client:
        key = client.post(
            "/v1/messages",
            content=orjson.dumps(event),
            headers={"Content-Type": "application/json"},
        ).json()["key"]
        found = client.get(f"/v1/messages/{key}")
        assert found.status_code == 200
        assert found.json()["event"] == event
        assert found.json()["key"] == key
        missing = client.get("/v1/messages/msg_NOPE")
        assert missing.status_code == 404
        assert missing.json()["type"] == "urn:crossdock:problem:not-found"


def test_bad_feed_parameters_are_422_problems(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        for params in (
            {"after": "not-a-cursor"},
            {"limit": "0"},
            {"limit": "5000"},
            {"accepted_after": "yesterday"},
            {"accepted_after": "2026-01-01T00:00:00"},
        ):
            response = client.get("/v1/messages", params=params)
            assert response.status_code == 422, (params, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["violations"]


def test_large_integers_and_decimals_survive_exactly(hub: HubServer) -> None:
    event = copy.deepcopy(a_valid_event("reservation", "exact-1"))
    event["data"]["extensions"] = {"shopify_order_id": 9007199254740993, "weight": 12.345}
    with hub.client(ADMIN_KEY) as client:
        key = client.post(
            "/v1/messages",
            content=orjson.dumps(event),
            headers={"Content-Type": "application/json"},
        ).json()["key"]
        raw = client.get(f"/v1/messages/{key}").content
    assert b"9007199254740993" in raw
    assert b"12.345" in raw
