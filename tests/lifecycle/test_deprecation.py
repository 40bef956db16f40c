"""Deprecation and Sunset headers, warnings, and refusal after the sunset, over real HTTP."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, func, select

from hub.contracts.lifecycle import deprecation_headers, deprecation_of
from hub.deadletters.models import DeadLetter
from hub.messages.models import Message
from tests.conftest import ADMIN_KEY
from tests.inbound.test_webhook_inbound import make_inbound_connection, signed
from tests.lifecycle.conftest import (
    FUTURE_SUNSET,
    PAST_SUNSET,
    V1_0,
    V1_1,
    HubFactory,
    backorder_event,
)
from tests.servers import HubServer

JSON = {"Content-Type": "application/json"}
SUNSET_PROBLEM = "urn:crossdock:problem:contract-version-sunset"


def assert_deprecated(response: httpx.Response, sunset: date, started: float) -> None:
    """The response carries RFC 9745 / RFC 8594 headers that parse and say the right thing."""
    deprecation = response.headers.get("deprecation")
    assert deprecation is not None, dict(response.headers)
    match = re.fullmatch(r"@(-?[0-9]+)", deprecation)
    assert match, f"Deprecation is not a structured-field date: {deprecation!r}"
    # The policy has no deprecation day: the hub says "by the time it loaded the policy".
    assert started - 1 <= int(match[1]) <= time.time()
    sunset_at = parsedate_to_datetime(response.headers["sunset"])
    assert sunset_at == datetime(sunset.year, sunset.month, sunset.day, tzinfo=UTC)
    assert response.headers["sunset"].endswith(" GMT")  # an HTTP-date (IMF-fixdate)
    assert response.headers["link"] == (
        '</v1/contracts/backorder>; rel="deprecation"; type="application/json"'
    )


def assert_not_deprecated(response: httpx.Response) -> None:
    for name in ("deprecation", "sunset", "link"):
        assert name not in response.headers, (name, response.headers[name])


def assert_warned(body: dict[str, Any], sunset: date = FUTURE_SUNSET) -> None:
    [warning] = body["warnings"]
    assert warning == {
        "type": "contract-version-deprecated",
        "dataschema": V1_0,
        "sunset": sunset.isoformat(),
        "successor": "1.1",
        "detail": f"backorder 1.0 is deprecated and refused from {sunset}; move to backorder 1.1",
    }


def post(client: httpx.Client, event: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/messages", content=orjson.dumps(event), headers=JSON)


def test_producers_of_a_deprecated_version_are_told_and_of_an_active_one_not(
    lifecycle_hub: HubFactory,
) -> None:
    started = time.time()
    with lifecycle_hub() as hub, hub.client(ADMIN_KEY) as client:
        old = post(client, backorder_event("old-1"))
        assert old.status_code == 202, old.text
        assert_deprecated(old, FUTURE_SUNSET, started)
        assert_warned(old.json())
        assert old.headers["location"] == f"/v1/messages/{old.json()['key']}"

        again = post(client, backorder_event("old-1"))  # a duplicate is told as well
        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        assert_deprecated(again, FUTURE_SUNSET, started)
        assert_warned(again.json())

        new = post(client, backorder_event("new-1", V1_1))
        assert new.status_code == 202, new.text
        assert_not_deprecated(new)
        assert "warnings" not in new.json()

        family = client.get("/v1/contracts/backorder").json()
        lifecycles = {v["version"]: (v["lifecycle"], v["sunset"]) for v in family["versions"]}
        assert lifecycles == {"1.0": ("deprecated", "2099-01-31"), "1.1": ("active", None)}


def test_a_batch_warns_per_item_and_carries_the_headers_when_any_item_is_deprecated(
    deprecated_hub: HubServer,
) -> None:
    started = time.time() - 60  # the hub loaded its policies before this test began
    invalid = backorder_event("broken")
    del invalid["data"]["lines"]
    batch = [backorder_event("b-old"), backorder_event("b-new", V1_1), invalid]
    with deprecated_hub.client(ADMIN_KEY) as client:
        mixed = client.post("/v1/messages/batch", content=orjson.dumps(batch), headers=JSON)
        assert mixed.status_code == 200, mixed.text
        assert_deprecated(mixed, FUTURE_SUNSET, started)
        old, new, rejected = mixed.json()["results"]
        assert old["status"] == "accepted"
        assert_warned(old)
        assert new["status"] == "accepted" and "warnings" not in new
        assert rejected["status"] == "rejected" and "warnings" not in rejected

        current = client.post(
            "/v1/messages/batch",
            content=orjson.dumps([backorder_event("b-new-2", V1_1)]),
            headers=JSON,
        )
        assert current.status_code == 200
        assert_not_deprecated(current)
        assert "warnings" not in current.json()["results"][0]


def test_consumers_reading_the_feed_or_one_message_are_told(deprecated_hub: HubServer) -> None:
    started = time.time() - 60
    with deprecated_hub.client(ADMIN_KEY) as client:
        old_key = post(client, backorder_event("f-old")).json()["key"]
        new_key = post(client, backorder_event("f-new", V1_1)).json()["key"]

        one = client.get(f"/v1/messages/{old_key}")
        assert one.status_code == 200
        assert_deprecated(one, FUTURE_SUNSET, started)
        assert_warned(one.json())

        other = client.get(f"/v1/messages/{new_key}")
        assert other.status_code == 200
        assert_not_deprecated(other)
        assert set(other.json()) == {"key", "accepted_at", "event"}

        page = client.get("/v1/messages")
        assert_deprecated(page, FUTURE_SUNSET, started)
        first, second = page.json()["items"]
        assert first["key"] == old_key
        assert_warned(first)
        assert second["key"] == new_key and "warnings" not in second

        # A page holding only current versions carries nothing.
        cursor = client.get("/v1/messages", params={"limit": 1}).json()["next_cursor"]
        later = client.get("/v1/messages", params={"after": cursor})
        assert [item["key"] for item in later.json()["items"]] == [new_key]
        assert_not_deprecated(later)


def test_inbound_producers_are_told_in_the_answer(
    deprecated_hub: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.time() - 60
    body = orjson.dumps([backorder_event("in-old"), backorder_event("in-new", V1_1)])
    with deprecated_hub.client(ADMIN_KEY) as client, deprecated_hub.client() as anonymous:
        make_inbound_connection(client)
        with caplog.at_level(logging.WARNING, logger="hub.usage.service"):
            answer = anonymous.post(
                "/v1/connections/peer/inbound", content=body, headers=signed(body)
            )
            assert answer.status_code == 202, answer.text
            assert_deprecated(answer, FUTURE_SUNSET, started)
            old, new = answer.json()["items"]
            assert old["status"] == "accepted"
            assert_warned(old)
            assert new["status"] == "accepted" and "warnings" not in new
            # ... and the use of a deprecated version is logged (once per flush, not per message).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                "deprecated contract version in use" in r.getMessage() for r in caplog.records
            ):
                time.sleep(0.05)
        [logged] = [r for r in caplog.records if "deprecated contract version" in r.getMessage()]
        assert logged.__dict__["actor_kind"] == "connection"
        assert logged.__dict__["version"] == "1.0"
        assert logged.__dict__["sunset"] == FUTURE_SUNSET.isoformat()

        # The same delivery again: the first answer, warnings and headers included.
        again = anonymous.post("/v1/connections/peer/inbound", content=body, headers=signed(body))
        assert again.status_code == 200
        assert_deprecated(again, FUTURE_SUNSET, started)
        assert_warned(again.json()["items"][0])


def count(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_after_the_sunset_the_version_is_refused_with_its_own_problem_type(
    lifecycle_hub: HubFactory, engine: Engine
) -> None:
    with lifecycle_hub(PAST_SUNSET) as hub, hub.client(ADMIN_KEY) as client:
        refused = post(client, backorder_event("late"))
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == SUNSET_PROBLEM
        assert problem["status"] == 422
        [violation] = problem["violations"]
        assert violation["pointer"] == "/dataschema"
        assert violation["rule"] == "contract-sunset"
        assert "2020-01-01" in violation["message"]
        assert "send backorder 1.1" in violation["message"]

        # Data errors in a sunset version's message are beside the point: still the sunset.
        broken = backorder_event("late-and-broken")
        broken["data"]["lines"] = "not a list"
        assert post(client, broken).json()["type"] == SUNSET_PROBLEM

        current = post(client, backorder_event("in-time", V1_1))
        assert current.status_code == 202
        assert_not_deprecated(current)

        batch = [backorder_event("late-2"), backorder_event("in-time-2", V1_1)]
        answer = client.post("/v1/messages/batch", content=orjson.dumps(batch), headers=JSON)
        late, in_time = answer.json()["results"]
        assert late["status"] == "rejected"
        assert late["problem"]["type"] == SUNSET_PROBLEM
        assert in_time["status"] == "accepted"
        assert_not_deprecated(answer)  # nothing accepted was of a deprecated version

        # Pushed by a connection: kept as an inbound dead letter that says why.
        make_inbound_connection(client)
        body = orjson.dumps(backorder_event("late-inbound"))
        pushed = client.post("/v1/connections/peer/inbound", content=body, headers=signed(body))
        assert pushed.status_code == 202, pushed.text
        [item] = pushed.json()["items"]
        assert item["status"] == "dead_lettered"
        assert item["reason"] == "contract_violation"
        assert [v["rule"] for v in item["violations"]] == ["contract-sunset"]
    assert count(engine, Message) == 2
    assert count(engine, DeadLetter) == 1


def test_headers_for_several_deprecations_name_the_earliest_dates() -> None:
    loaded = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    early = deprecation_of("backorder", "1.0", date(2027, 1, 31), "1.1", loaded)
    late = deprecation_of(
        "receipt", "1.0", date(2027, 6, 30), "2.0", datetime(2026, 12, 1, tzinfo=UTC)
    )
    headers = deprecation_headers([late, early])
    assert headers["Deprecation"] == f"@{int(loaded.timestamp())}"
    assert headers["Sunset"] == "Sun, 31 Jan 2027 00:00:00 GMT"
    assert headers["Link"] == (
        '</v1/contracts/backorder>; rel="deprecation"; type="application/json", '
        '</v1/contracts/receipt>; rel="deprecation"; type="application/json"'
    )
    assert deprecation_headers([]) == {}
    # A policy loaded after the sunset never makes the deprecation later than the sunset.
    after = deprecation_of("backorder", "1.0", date(2020, 1, 1), "1.1", loaded)
    assert after.deprecated_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_the_deprecation_date_of_the_policy_is_the_header_date() -> None:
    loaded = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    given = deprecation_of("backorder", "1.0", date(2027, 1, 31), "1.1", loaded, date(2026, 10, 1))
    assert deprecation_headers([given])["Deprecation"] == (
        f"@{int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())}"
    )
    unknown = deprecation_of("backorder", "1.0", date(2027, 1, 31), "1.1", loaded)
    assert deprecation_headers([unknown])["Deprecation"] == f"@{int(loaded.timestamp())}"
