"""Pushed requests through the real hub: verification, dedupe, dead letters, replay."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, func, select
from standardwebhooks.webhooks import Webhook

from hub.deadletters.models import DeadLetter
from hub.inbound.models import InboundReceipt
from hub.messages.models import Message
from tests.conftest import ADMIN_KEY
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer

PEER_SECRET = "whsec_" + base64.b64encode(b"inbound-peer-secret-for-the-tests").decode()


def make_inbound_connection(client: httpx.Client, name: str = "peer") -> dict[str, Any]:
    response = client.post(
        "/v1/connections",
        json={"name": name, "connector": "webhook", "config": {"verify_secret": PEER_SECRET}},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def signed(
    body: bytes, webhook_id: str = "wh-1", at: float | None = None, secret: str = PEER_SECRET
) -> dict[str, str]:
    when = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, when, body.decode()),
    }


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Message)).scalar_one(),
            conn.execute(select(func.count()).select_from(DeadLetter)).scalar_one(),
            conn.execute(select(func.count()).select_from(InboundReceipt)).scalar_one(),
        )


def test_a_signed_canonical_event_is_accepted_once(hub: HubServer, engine: Engine) -> None:
    event = a_valid_event("reservation", "pushed-1")
    body = orjson.dumps(event)
    with hub.client(ADMIN_KEY) as client:
        make_inbound_connection(client)
        with hub.client() as anonymous:  # the signature is the credential, not an API key
            first = anonymous.post(
                "/v1/connections/peer/inbound", content=body, headers=signed(body)
            )
            assert first.status_code == 202, first.text
            answer = first.json()
            assert answer["duplicate"] is False
            assert answer["accepted"] == 1
            [item] = answer["items"]
            assert item["status"] == "accepted"
            stored = client.get(f"/v1/messages/{item['message_key']}").json()
            assert stored["event"] == event

            again = anonymous.post(
                "/v1/connections/peer/inbound", content=body, headers=signed(body)
            )
            assert again.status_code == 200
            assert again.json()["duplicate"] is True
            assert again.json()["items"] == answer["items"]
    assert counts(engine) == (1, 0, 1)


def test_bad_signature_and_stale_timestamp_get_401_and_store_nothing(
    hub: HubServer, engine: Engine
) -> None:
    body = orjson.dumps(a_valid_event("reservation", "forged"))
    wrong_secret = "whsec_" + base64.b64encode(b"somebody-else-entirely-0123456789").decode()
    with hub.client(ADMIN_KEY) as client:
        make_inbound_connection(client)
        cases = {
            "wrong secret": signed(body, secret=wrong_secret),
            "stale": signed(body, at=time.time() - 3600),
            "unsigned": {"content-type": "application/json"},
        }
        for case, headers in cases.items():
            response = client.post("/v1/connections/peer/inbound", content=body, headers=headers)
            assert response.status_code == 401, case
            problem = response.json()
            assert problem["type"] == "urn:crossdock:problem:inbound-verification-failed"
            assert response.headers["content-type"] == "application/problem+json"
        tampered = signed(body)
        response = client.post(
            "/v1/connections/peer/inbound", content=body + b" ", headers=tampered
        )
        assert response.status_code == 401
        assert client.post("/v1/connections/nobody/inbound", content=body).status_code == 404
    assert counts(engine) == (0, 0, 0)


def test_an_invalid_payload_is_kept_as_an_inbound_dead_letter(
    hub: HubServer, engine: Engine
) -> None:
    event = a_valid_event("reservation", "broken-1")
    event["data"]["lines"][0]["item"]["gtin"] = "4006381333932"  # wrong check digit
    good = a_valid_event("reservation", "fine-1")
    body = orjson.dumps([event, good, "not an object"])
    with hub.client(ADMIN_KEY) as client:
        make_inbound_connection(client)
        response = client.post(
            "/v1/connections/peer/inbound", content=body, headers=signed(body, "wh-batch")
        )
        assert response.status_code == 202, response.text
        answer = response.json()
        # The parser refuses the whole request (an item is not an object): one dead letter
        # with the raw body, nothing accepted.
        assert answer["accepted"] == 0
        [item] = answer["items"]
        assert item["status"] == "dead_lettered"
        assert item["reason"] == "parse_failed"

        body = orjson.dumps([event, good])
        response = client.post(
            "/v1/connections/peer/inbound", content=body, headers=signed(body, "wh-batch-2")
        )
        answer = response.json()
        assert [i["status"] for i in answer["items"]] == ["dead_lettered", "accepted"]
        bad = answer["items"][0]
        assert bad["reason"] == "contract_violation"
        assert any(v["rule"].startswith("gtin") for v in bad["violations"]), bad

        listed = client.get("/v1/deadletters", params={"direction": "inbound"}).json()["items"]
        assert len(listed) == 2
        assert bad["dead_letter_id"] in {letter["id"] for letter in listed}
        assert client.get("/v1/deadletters", params={"direction": "outbound"}).json()["items"] == []
        detail = client.get(f"/v1/deadletters/{bad['dead_letter_id']}").json()
        assert detail["direction"] == "inbound"
        assert detail["source_delivery_id"] == "wh-batch-2"
        assert detail["record_kind"] == "cloudevent"
        assert orjson.loads(detail["inbound"]["body"]) == [event, good]
        assert detail["inbound"]["record"]["data"] == event
        assert "webhook-signature" in detail["inbound"]["headers"]

        # Still broken: a replay refuses and leaves the letter open.
        replay = client.post(f"/v1/deadletters/{bad['dead_letter_id']}/replay")
        assert replay.status_code == 422
        assert replay.json()["type"] == "urn:crossdock:problem:replay-failed"
        assert client.get(f"/v1/deadletters/{bad['dead_letter_id']}").json()["status"] == "open"
        edit = client.patch(f"/v1/deadletters/{bad['dead_letter_id']}", json={"data": good["data"]})
        assert edit.status_code == 409
    assert counts(engine)[:2] == (1, 2)


def test_a_connection_without_a_verify_secret_refuses_inbound(hub: HubServer) -> None:
    body = orjson.dumps(a_valid_event())
    with hub.client(ADMIN_KEY) as client:
        created = client.post(
            "/v1/connections",
            json={
                "name": "out-only",
                "connector": "webhook",
                "config": {"url": "http://127.0.0.1:9/hook", "signing_secret": PEER_SECRET},
            },
        )
        assert created.status_code == 201, created.text
        response = client.post(
            "/v1/connections/out-only/inbound", content=body, headers=signed(body)
        )
        assert response.status_code == 401
        assert "verify_secret" in response.json()["detail"]


def test_the_same_delivery_sent_many_times_at_once_is_stored_once(
    hub: HubServer, engine: Engine
) -> None:
    """Concurrent repeats land in one group commit or several: either way, one message."""
    body = orjson.dumps(a_valid_event("reservation", "raced-1"))
    headers = signed(body, "wh-raced")
    with hub.client(ADMIN_KEY) as client:
        make_inbound_connection(client)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=hub.base_url, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/connections/peer/inbound", content=body, headers=headers)
                    for _ in range(20)
                )
            )

    responses = asyncio.run(burst())
    assert sorted(r.status_code for r in responses) == [200] * 19 + [202]
    keys = {r.json()["items"][0]["message_key"] for r in responses}
    assert len(keys) == 1
    assert counts(engine) == (1, 0, 1)
