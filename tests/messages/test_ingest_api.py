"""``POST /v1/messages`` and ``/batch`` through a real hub on loopback, on every backend."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, func, select

from hub.contracts.registry import ContractRegistry
from hub.messages.models import Message
from tests.conftest import ADMIN_KEY, REPO
from tests.servers import HubServer

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
EXAMPLES = [e for v in REGISTRY.all_versions() for e in v.examples]
PROBLEM = "application/problem+json"


def a_valid_event(family: str = "reservation", event_id: str = "evt-1") -> dict[str, Any]:
    version = REGISTRY.get(family, "1.0")
    assert version is not None
    event = copy.deepcopy(next(e.event for e in version.examples if e.valid))
    event["id"] = event_id
    return event


def post(
    client: httpx.Client, body: Any, content_type: str = "application/cloudevents+json"
) -> httpx.Response:
    return client.post(
        "/v1/messages", content=orjson.dumps(body), headers={"Content-Type": content_type}
    )


def stored_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Message)).scalar_one())


def test_every_shipped_example_is_judged_through_the_api(hub: HubServer, engine: Engine) -> None:
    with hub.client(ADMIN_KEY) as client:
        accepted = 0
        for example in EXAMPLES:
            response = post(client, example.event)
            if example.valid:
                assert response.status_code == 202, (example.name, response.text)
                accepted += 1
            else:
                assert response.status_code == 422, (example.name, response.text)
                assert response.headers["content-type"] == PROBLEM
                problem = response.json()
                assert problem["type"] == "urn:crossdock:problem:contract-violation"
                pointers = {v["pointer"] for v in problem["violations"]}
                assert set(example.violations) <= pointers, (example.name, problem)
    assert stored_count(engine) == accepted


def test_accepted_then_duplicate_then_conflict(hub: HubServer, engine: Engine) -> None:
    event = a_valid_event()
    with hub.client(ADMIN_KEY) as client:
        first = post(client, event)
        assert first.status_code == 202
        body = first.json()
        assert body["duplicate"] is False and body["key"].startswith("msg_")
        assert first.headers["location"] == f"/v1/messages/{body['key']}"
        # A 202 means committed: a separate connection sees the row at once.
        with engine.connect() as conn:
            row = conn.execute(select(Message.key).where(Message.event_id == event["id"])).one()
        assert row.key == body["key"]

        again = post(client, event, "application/json")
        assert again.status_code == 200
        assert again.json() == {**body, "duplicate": True}

        changed = copy.deepcopy(event)
        changed["data"]["order_ref"] = "SO-SOMETHING-ELSE"
        conflict = post(client, changed)
        assert conflict.status_code == 409
        assert conflict.json()["type"] == "urn:crossdock:problem:idempotency-conflict"
        assert conflict.json()["key"] == body["key"]
    assert stored_count(engine) == 1


def test_the_same_id_from_another_source_is_another_message(hub: HubServer, engine: Engine) -> None:
    event = a_valid_event()
    other = {**copy.deepcopy(event), "source": "/connections/another-system"}
    with hub.client(ADMIN_KEY) as client:
        assert post(client, event).status_code == 202
        assert post(client, other).status_code == 202
    assert stored_count(engine) == 2


@pytest.mark.parametrize(
    ("content", "content_type", "status", "slug"),
    [
        (b'{"specversion": "1.0",', "application/json", 400, "malformed-json"),
        (b"", "application/json", 400, "malformed-json"),
        (b"<xml/>", "application/xml", 415, "unsupported-media-type"),
        (b"{}", "", 415, "unsupported-media-type"),
        (b"[1, 2]", "application/json", 422, "contract-violation"),
        (b'{"specversion": "0.3"}', "application/json", 422, "contract-violation"),
        (b"x" * (1024 * 1024 + 1), "application/json", 413, "payload-too-large"),
    ],
)
def test_bad_input_gets_its_problem_document(
    hub: HubServer, engine: Engine, content: bytes, content_type: str, status: int, slug: str
) -> None:
    with hub.client(ADMIN_KEY) as client:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post("/v1/messages", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == f"urn:crossdock:problem:{slug}"
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    assert stored_count(engine) == 0


def test_a_chunked_body_over_the_limit_is_refused(hub: HubServer) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 32 * 1024

    with hub.client(ADMIN_KEY) as client:
        response = client.post(
            "/v1/messages", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413


def test_authentication_and_scopes(hub: HubServer) -> None:
    from hub.clients.service import ClientService
    from hub.store.database import create_hub_engine, make_sessionmaker, transaction

    engine = create_hub_engine(hub.settings.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        reader = ClientService().create(session, name="feed-reader", scopes=["messages:read"]).key
    engine.dispose()
    event = a_valid_event()
    with hub.client() as anonymous:
        response = post(anonymous, event)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.get("/v1/messages").status_code == 401
        assert anonymous.get("/health").status_code == 200
    with hub.client("cdk_not-a-real-key") as stranger:
        assert post(stranger, event).status_code == 401
    with hub.client("Basic-thing") as odd:
        assert post(odd, event).status_code == 401
    with hub.client(reader) as client:
        denied = post(client, event)
        assert denied.status_code == 403
        assert denied.json()["type"] == "urn:crossdock:problem:forbidden"
        assert client.get("/v1/messages").status_code == 200
        assert client.get("/v1/contracts").status_code == 200


def test_batch_accepts_the_valid_and_reports_the_rest(hub: HubServer, engine: Engine) -> None:
    good = [
        a_valid_event(family, f"batch-{i}")
        for i, family in enumerate(
            ["reservation", "transfer", "po_release", "receipt", "backorder"]
        )
    ]
    bad = a_valid_event("receipt", "batch-bad")
    bad["data"]["lines"][0]["uom"] = "PARSEC"
    conflicting = copy.deepcopy(good[0])
    conflicting["data"]["order_ref"] = "SO-CHANGED"
    batch = [good[0], bad, *good[1:], good[0], conflicting, "not an event"]
    with hub.client(ADMIN_KEY) as client:
        response = client.post(
            "/v1/messages/batch",
            content=orjson.dumps(batch),
            headers={"Content-Type": "application/cloudevents-batch+json"},
        )
    assert response.status_code == 200, response.text
    result = response.json()
    statuses = [r["status"] for r in result["results"]]
    assert statuses == [
        "accepted",
        "rejected",
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
        "conflict",
        "rejected",
    ]
    assert [r["index"] for r in result["results"]] == list(range(len(batch)))
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (5, 1, 3)
    assert result["results"][1]["problem"]["violations"][0]["pointer"] == "/data/lines/0/uom"
    assert result["results"][6]["key"] == result["results"][0]["key"]
    assert stored_count(engine) == 5


def test_batch_limits(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        over = client.post(
            "/v1/messages/batch",
            content=orjson.dumps([{}] * 1001),
            headers={"Content-Type": "application/json"},
        )
        assert over.status_code == 413
        assert over.json()["type"] == "urn:crossdock:problem:payload-too-large"
        not_a_list = client.post(
            "/v1/messages/batch", content=b'{"a": 1}', headers={"Content-Type": "application/json"}
        )
        assert not_a_list.status_code == 422
        empty = client.post(
            "/v1/messages/batch", content=b"[]", headers={"Content-Type": "application/json"}
        )
        assert empty.json() == {"accepted": 0, "duplicates": 0, "rejected": 0, "results": []}


def test_unknown_routes_and_methods_are_problems(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        missing = client.get("/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM
        wrong = client.delete("/v1/messages")
        assert wrong.status_code == 405
        assert wrong.json()["type"] == "urn:crossdock:problem:method-not-allowed"
