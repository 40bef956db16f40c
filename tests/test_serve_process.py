"""``crossdock serve`` as a real process: first start, authentication hint, crash survival."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import ADMIN_KEY, LOOPBACK_ENV, REPO
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubProcess


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CROSSDOCK_DATABASE_URL": database_url,
        "CROSSDOCK_CONTRACTS_PATH": str(REPO / "contracts"),
        "CROSSDOCK_GOVERNANCE_PATH": str(REPO / "governance"),
        "CROSSDOCK_MAPPINGS_PATH": str(REPO / "mappings"),
        **LOOPBACK_ENV,
        **extra,
    }


@pytest.fixture
def processes() -> Iterator[list[HubProcess]]:
    started: list[HubProcess] = []
    yield started
    for process in started:
        process.stop()


def test_first_start_creates_an_admin_and_prints_its_key(
    tmp_path: Path, processes: list[HubProcess]
) -> None:
    # A fresh working directory and no settings at all: the `make run` experience.
    hub = HubProcess(
        {"CROSSDOCK_DATABASE_URL": "", "CROSSDOCK_BOOTSTRAP_ADMIN_KEY": ""}, str(tmp_path)
    )
    hub.env.pop("CROSSDOCK_DATABASE_URL")
    hub.env.pop("CROSSDOCK_BOOTSTRAP_ADMIN_KEY")
    (tmp_path / "contracts").symlink_to(REPO / "contracts")
    (tmp_path / "governance").symlink_to(REPO / "governance")
    (tmp_path / "mappings").symlink_to(REPO / "mappings")
    processes.append(hub.start())
    assert (tmp_path / "crossdock.db").exists()
    match = re.search(r"(cdk_[A-Za-z0-9_-]{20,})", hub.log())
    assert match, hub.log()
    response = httpx.get(
        f"{hub.base_url}/v1/contracts", headers={"Authorization": f"Bearer {match[1]}"}
    )
    assert response.status_code == 200
    hub.stop()
    # The second start creates no new key, and says how to make one.
    again = HubProcess({}, str(tmp_path), port=hub.port)
    again.env.pop("CROSSDOCK_DATABASE_URL", None)
    again.env.pop("CROSSDOCK_BOOTSTRAP_ADMIN_KEY", None)
    again.log_path = tmp_path / "second.log"
    processes.append(again.start())
    assert "cdk_" not in again.log()
    assert "crossdock clients create" in again.log()


def test_accepted_messages_survive_kill_9(
    database_url: str, tmp_path: Path, processes: list[HubProcess]
) -> None:
    hub = HubProcess(_env(database_url, CROSSDOCK_BOOTSTRAP_ADMIN_KEY=ADMIN_KEY), str(tmp_path))
    processes.append(hub.start())
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    keys = []
    with httpx.Client(base_url=hub.base_url, headers=headers) as client:
        for i in range(20):
            response = client.post(
                "/v1/messages", content=orjson.dumps(a_valid_event(event_id=f"k9-{i}"))
            )
            assert response.status_code == 202
            keys.append(response.json()["key"])
    hub.kill()

    restarted = HubProcess(hub.env, str(tmp_path), port=hub.port)
    processes.append(restarted.start())
    with httpx.Client(base_url=restarted.base_url, headers=headers) as client:
        for key in keys:
            assert client.get(f"/v1/messages/{key}").status_code == 200
        again = client.post("/v1/messages", content=orjson.dumps(a_valid_event(event_id="k9-0")))
        assert again.status_code == 200
        assert again.json()["duplicate"] is True


def test_several_serve_processes_share_the_port_and_the_database(
    database_url: str, tmp_path: Path, processes: list[HubProcess]
) -> None:
    hub = HubProcess(
        _env(
            database_url,
            CROSSDOCK_WEB_CONCURRENCY="2",
            CROSSDOCK_BOOTSTRAP_ADMIN_KEY=ADMIN_KEY,
        ),
        str(tmp_path),
    )
    processes.append(hub.start())

    async def post_many() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=16)
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            base_url=hub.base_url, headers=headers, limits=limits, timeout=30
        ) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            "/v1/messages",
                            content=orjson.dumps(a_valid_event("reservation", f"multi-{n}")),
                            headers={"Content-Type": "application/json"},
                        )
                        for n in range(200)
                    )
                )
            )

    responses = asyncio.run(post_many())
    assert [r.status_code for r in responses] == [202] * 200
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        seen: set[str] = set()
        cursor = None
        while True:
            page = c.get(
                "/v1/messages", params={"limit": 100, **({"after": cursor} if cursor else {})}
            )
            body = page.json()
            seen.update(m["event"]["id"] for m in body["items"])
            cursor = body["next_cursor"]
            if not body["has_more"]:
                break
    assert seen == {f"multi-{n}" for n in range(200)}
    assert hub.process is not None
    assert len(re.findall(r"Application startup complete", hub.log())) == 2, hub.log()
