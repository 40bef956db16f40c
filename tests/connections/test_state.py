"""``Connector.state`` in the hub's database: values, and numbers that never repeat."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from connectors.sdk import ConnectorState, MemoryState, SequenceExhausted
from hub.connections.state import DatabaseState
from tests.conftest import ADMIN_KEY, hub_settings
from tests.servers import HubServer


def state_of(hub: HubServer, connection_id: str) -> ConnectorState:
    return DatabaseState(connection_id, hub.state.committer, hub.state.read_sessions)


async def exercise(state: ConnectorState) -> dict[str, Any]:
    assert await state.get("missing") is None
    await state.put("icn:000000001", {"sent_at": "2026-11-24T10:00:00Z", "big": 2**63 - 1})
    await state.put("icn:000000002", {"sent_at": "2026-11-24T10:05:00Z"})
    await state.put("other", [1, "two", 3.5])
    await state.put("other", "replaced")
    await state.delete("icn:000000002")
    await state.delete("never-there")
    firsts = [await state.next_number("isa", start=7) for _ in range(3)]
    assert [await state.next_number("tiny", limit=2) for _ in range(2)] == [1, 2]
    with pytest.raises(SequenceExhausted):
        await state.next_number("tiny", limit=2)
    with pytest.raises(ValueError, match="1 to 200 characters"):
        await state.put("x" * 201, 1)
    return {
        "get": await state.get("icn:000000001"),
        "other": await state.get("other"),
        "scan": await state.scan("icn:"),
        "numbers": firsts,
        "tiny": await state.next_number("tiny", start=1, limit=None),
    }


def test_the_database_state_behaves_like_the_memory_state(database_url: str) -> None:
    expected = asyncio.run(exercise(MemoryState()))
    assert expected["numbers"] == [7, 8, 9]
    assert expected["tiny"] == 3
    with HubServer(hub_settings(database_url)) as hub:
        stored = asyncio.run(exercise(state_of(hub, "con_a")))
        other_connection = asyncio.run(state_of(hub, "con_b").scan(""))
    assert stored == expected
    assert other_connection == {}


def test_two_processes_never_draw_the_same_number(postgres_database_url: str) -> None:
    drawn: list[int] = []
    lock = threading.Lock()

    def draw(hub: HubServer) -> None:
        async def many() -> list[int]:
            state = state_of(hub, "con_shared")
            return list(await asyncio.gather(*(state.next_number("isa") for _ in range(100))))

        numbers = asyncio.run(many())
        with lock:
            drawn.extend(numbers)

    settings = hub_settings(postgres_database_url)
    with HubServer(settings) as first, HubServer(settings) as second:
        threads = [threading.Thread(target=draw, args=(hub,)) for hub in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(drawn) == list(range(1, 201))


def test_a_deleted_connection_takes_its_state_along(database_url: str) -> None:
    with HubServer(hub_settings(database_url)) as hub, hub.client(ADMIN_KEY) as client:
        created = client.post(
            "/v1/connections",
            json={
                "name": "gone",
                "connector": "webhook",
                "config": {"url": "http://127.0.0.1:9/", "signing_secret": "whsec_c2VjcmV0"},
            },
        )
        connection_id = created.json()["id"]
        asyncio.run(state_of(hub, connection_id).put("k", 1))
        assert client.delete("/v1/connections/gone").status_code == 204
        assert asyncio.run(state_of(hub, connection_id).scan("")) == {}
