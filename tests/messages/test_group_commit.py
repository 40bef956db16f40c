"""Group commit under concurrency, and what a client hears when the store is down."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub.store.database import normalise_url
from tests.conftest import ADMIN_KEY, POSTGRES_URL, hub_settings
from tests.messages.test_ingest_api import a_valid_event, stored_count
from tests.servers import HubServer

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}


async def _post_concurrently(base_url: str, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits) as client:
        bodies = [orjson.dumps(a_valid_event(event_id=f"gc-{i}")) for i in range(count)]
        return await asyncio.gather(*(client.post("/v1/messages", content=b) for b in bodies))


def test_concurrent_requests_share_commits_and_all_are_stored(
    hub: HubServer, engine: Engine
) -> None:
    responses = asyncio.run(_post_concurrently(hub.base_url, 300))
    assert [r.status_code for r in responses] == [202] * 300
    assert len({r.json()["key"] for r in responses}) == 300
    assert stored_count(engine) == 300
    store = hub.state.ingestor.store
    assert store.accepted == 300
    assert store.transactions < 300  # several requests rode on one commit


def test_a_concurrent_repeat_is_stored_once(hub: HubServer, engine: Engine) -> None:
    async def same_event_many_times() -> list[httpx.Response]:
        body = orjson.dumps(a_valid_event(event_id="same-one"))
        async with httpx.AsyncClient(base_url=hub.base_url, headers=HEADERS) as client:
            return await asyncio.gather(
                *(client.post("/v1/messages", content=body) for _ in range(40))
            )

    responses = asyncio.run(same_event_many_times())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 39 + [202]
    assert len({r.json()["key"] for r in responses}) == 1
    assert stored_count(engine) == 1


@pytest.mark.skipif(not POSTGRES_URL, reason="CROSSDOCK_TEST_POSTGRES_URL is not set")
def test_an_unreachable_store_answers_503_and_stores_nothing(postgres_database_url: str) -> None:
    name = make_url(postgres_database_url).database
    superuser = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")

    def cut_off(allowed: bool) -> None:
        with superuser.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )

    def post(client: httpx.Client, event_id: str) -> httpx.Response:
        return client.post("/v1/messages", content=orjson.dumps(a_valid_event(event_id=event_id)))

    settings = hub_settings(postgres_database_url)
    with HubServer(settings) as hub, httpx.Client(base_url=hub.base_url, headers=HEADERS) as client:
        assert post(client, "before").status_code == 202
        cut_off(allowed=False)
        try:
            down = post(client, "during")
            assert down.status_code == 503, down.text
            assert down.json()["type"] == "urn:crossdock:problem:service-unavailable"
            assert "retry-after" in down.headers
            assert client.get("/health").status_code == 503
        finally:
            cut_off(allowed=True)
        after = post(client, "during")
        assert after.status_code == 202  # not a duplicate: nothing was stored while down
    superuser.dispose()
    engine = create_engine(normalise_url(postgres_database_url))
    assert stored_count(engine) == 2
    engine.dispose()
