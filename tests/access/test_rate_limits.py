"""Per-client rate limits: 429 problems with RateLimit and Retry-After headers, a client's own
limit over the hub's default, separate counters per client, the fast lane included."""

from __future__ import annotations

import re
import time

import orjson
import pytest
from pydantic import ValidationError

from hub.settings import Settings
from tests.access.peers import create_client
from tests.conftest import ADMIN_KEY
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer

JSON = {"Content-Type": "application/json"}


def test_a_client_over_its_limit_gets_429_with_the_headers_to_wait(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as admin:
        key = create_client(admin, "chatty", "messages:read", rate_limit="3/minute")
        other = create_client(admin, "calm", "messages:read", rate_limit="3/minute")
    with hub.client(key) as chatty, hub.client(other) as calm:
        for _ in range(3):
            assert chatty.get("/v1/messages").status_code == 200
        refused = chatty.get("/v1/messages")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == "urn:crossdock:problem:rate-limited"
        assert problem["limit"] == 3 and problem["window_seconds"] == 60
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 60
        assert refused.headers["ratelimit-policy"] == '"client";q=3;w=60'
        assert re.fullmatch(r'"client";r=0;t=(\d+)', refused.headers["ratelimit"])
        assert refused.headers["ratelimit"].endswith(f"t={wait}")
        # Its own counter only: another client with the same limit is untouched.
        assert calm.get("/v1/messages").status_code == 200
    with hub.client() as anonymous:
        # Requests without a valid key are refused before counting: 401, never 429.
        assert anonymous.get("/v1/messages").status_code == 401


def test_the_default_applies_to_every_path_including_the_fast_lane(settings: Settings) -> None:
    settings.rate_limit = "2/3 seconds"  # wide enough for a loaded machine's slow requests
    event = a_valid_event("reservation", "limited")
    with HubServer(settings) as hub, hub.client(ADMIN_KEY) as admin:
        posted = [
            admin.post(
                "/v1/messages",
                content=orjson.dumps({**event, "id": f"limited-{n}"}),
                headers=JSON,
            ).status_code
            for n in range(3)
        ]
        assert posted == [202, 202, 429]
        time.sleep(3.1)  # a moving window: once the first two are 3 s old, two slots are free
        assert admin.get("/v1/contracts").status_code == 200
        assert admin.get("/v1/contracts").status_code == 200
        assert admin.get("/v1/contracts").status_code == 429


def test_a_changed_limit_applies_at_once_and_bad_limits_are_refused(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as admin:
        key = create_client(admin, "tight", "ops", rate_limit="1/minute")
        bad = admin.post("/v1/clients", json={"name": "x", "scopes": ["ops"], "rate_limit": "lots"})
        assert bad.status_code == 422
        assert bad.json()["violations"][0]["pointer"] == "/rate_limit"
        with hub.client(key) as tight:
            assert tight.get("/v1/connectors").status_code == 200
            assert tight.get("/v1/connectors").status_code == 429
            relaxed = admin.patch("/v1/clients/tight", json={"rate_limit": "100/minute"})
            assert relaxed.status_code == 200 and relaxed.json()["rate_limit"] == "100/minute"
            assert tight.get("/v1/connectors").status_code == 200
            back = admin.patch("/v1/clients/tight", json={"rate_limit": None})
            assert back.json()["rate_limit"] is None


def test_the_setting_takes_one_limit_only() -> None:
    assert Settings(rate_limit="20000/minute").rate_limit == "20000/minute"
    for bad in ("fast", "10/second;100/minute", "0/second"):
        with pytest.raises(ValidationError):
            Settings(rate_limit=bad)
