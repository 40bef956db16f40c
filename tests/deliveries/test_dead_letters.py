"""Dead letters: permanent failures, triage, edit + replay, bulk replay, discard, audit."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY
from tests.deliveries.test_delivery_api import make_route, post_event
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import Sink


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def open_letters(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/deadletters", params=params).json()["items"]
    return items


def refuses_bad_lines(number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
    """A target that rejects (400) any reservation whose first line asks for more than 100."""
    if body["data"]["lines"][0]["requested_qty"] > 100:
        return 400, {"content-type": "application/json"}
    return 200, {}


def test_a_400_dead_letters_at_once_and_edit_plus_replay_delivers(hub: HubServer) -> None:
    event = a_valid_event("reservation", "too-big")
    event["data"]["lines"][0]["requested_qty"] = 500
    with Sink(behaviour=refuses_bad_lines) as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink)
        key = post_event(client, event)
        [letter] = wait_until(lambda: open_letters(client))
        assert letter["reason"] == "permanent"
        assert letter["attempts"] == 1
        assert letter["last_response"]["status"] == 400
        assert letter["message_key"] == key
        assert letter["error_class"] == "http_error"
        assert len(sink.received) == 1  # one attempt only

        detail = client.get(f"/v1/deadletters/{letter['id']}").json()
        assert detail["event"]["id"] == "too-big"
        assert [h["status_code"] for h in detail["history"]] == [400]
        groups = client.get("/v1/deadletters/groups").json()["items"]
        assert groups[0]["signature"] == letter["signature"] and groups[0]["count"] == 1

        data = detail["event"]["data"]
        broken = {**data, "lines": [{**data["lines"][0], "uom": "PARSEC"}]}
        refused = client.patch(f"/v1/deadletters/{letter['id']}", json={"data": broken})
        assert refused.status_code == 422
        assert refused.json()["violations"][0]["pointer"] == "/data/lines/0/uom"

        fixed = {**data, "lines": [{**line, "requested_qty": 50} for line in data["lines"]]}
        assert client.patch(f"/v1/deadletters/{letter['id']}", json={"data": fixed}).json()[
            "edited"
        ]
        replayed = client.post(f"/v1/deadletters/{letter['id']}/replay")
        assert replayed.status_code == 200
        assert replayed.json()["status"] == "replayed"
        arrived = sink.wait_for(1)
        assert arrived[0].body["data"]["lines"][0]["requested_qty"] == 50
        assert client.post(f"/v1/deadletters/{letter['id']}/replay").status_code == 409

        audit = client.get("/v1/audit", params={"target_id": letter["id"]}).json()["items"]
        assert [e["action"] for e in audit] == ["deadletter.edit", "deadletter.replay"]
        edit = audit[0]
        assert edit["actor"]["name"] == "bootstrap-admin"
        assert edit["before"]["data"]["lines"][0]["requested_qty"] == 500
        assert edit["after"]["data"]["lines"][0]["requested_qty"] == 50
        assert '"path":"/lines/0/requested_qty"' in edit["detail"]

        deliveries = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
        assert wait_until(
            lambda: (
                client.get(f"/v1/messages/{key}/deliveries").json()["items"][0]["status"]
                == "delivered"
            )
        )
        assert len(deliveries) == 1  # the same delivery, requeued


def test_a_blocking_dead_letter_holds_its_key_until_discarded(hub: HubServer) -> None:
    first = a_valid_event("reservation", "first")
    first["data"]["lines"][0]["requested_qty"] = 500
    second = a_valid_event("reservation", "second")  # same subject: same ordering key
    other = a_valid_event("reservation", "other-key")
    other["subject"] = "SOMETHING-ELSE"
    with Sink(behaviour=refuses_bad_lines) as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, on_dead_letter="block")
        post_event(client, first)
        [letter] = wait_until(lambda: open_letters(client))
        post_event(client, second)
        post_event(client, other)
        sink.wait_for(1)
        time.sleep(1.2)
        assert [r.body["id"] for r in sink.delivered()] == ["other-key"]  # "second" waits
        discarded = client.post(
            f"/v1/deadletters/{letter['id']}/discard", json={"reason": "order cancelled"}
        )
        assert discarded.json()["status"] == "discarded"
        assert [r.body["id"] for r in sink.wait_for(2)] == ["other-key", "second"]


def test_bulk_replay_by_filter_reports_progress(hub: HubServer) -> None:
    healthy = {"up": False}

    def down_then_up(number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return (200, {}) if healthy["up"] else (422, {})

    with Sink(behaviour=down_then_up) as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, on_dead_letter="skip")
        for i in range(12):
            event = a_valid_event("transfer", f"t-{i}")
            event["subject"] = f"TR-{i}"
            post_event(client, event)
        wait_until(lambda: len(open_letters(client, limit=100)) == 12)
        healthy["up"] = True
        started = client.post("/v1/deadletters/replays", json={"route": "wms", "limit": 10})
        assert started.status_code == 202
        job = started.json()
        assert job["total"] == 10
        done = wait_until(
            lambda: (
                (j := client.get(f"/v1/deadletters/replays/{job['id']}").json())["status"] == "done"
                and j
            )
        )
        assert (done["processed"], done["succeeded"], done["failed"]) == (10, 10, 0)
        assert len(sink.wait_for(10)) == 10
        assert len(open_letters(client)) == 2
        replayed = open_letters(client, status="replayed")
        assert len(replayed) == 10 and all(
            r["resolution"].startswith("replayed by job") for r in replayed
        )


def test_dead_letter_lists_filter_and_404(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        assert client.get("/v1/deadletters", params={"route": "nope"}).json()["items"] == []
        assert client.get("/v1/deadletters/dlq_nothing").status_code == 404
        assert client.get("/v1/deadletters/replays/job_nothing").status_code == 404
        assert client.get("/v1/deadletters", params={"status": "weird"}).status_code == 422
