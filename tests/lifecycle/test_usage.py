"""Contract usage: who produced and consumed which version, when last, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.cli import app
from hub.clients.service import ClientService
from hub.contracts.registry import ContractRegistry
from hub.settings import Settings, get_settings
from hub.store.database import create_hub_engine, make_sessionmaker, transaction
from hub.usage.models import ActorKind, ContractUsage, Role
from hub.usage.service import UsageRecorder, UsageRow, write_usage
from tests.conftest import ADMIN_KEY
from tests.deliveries.test_delivery_api import make_route
from tests.inbound.test_webhook_inbound import make_inbound_connection, signed
from tests.lifecycle.conftest import (
    FUTURE_SUNSET,
    V1_0,
    V1_1,
    HubFactory,
    backorder_event,
    deprecation_settings,
    lifecycle_paths,
)
from tests.servers import HubServer
from tests.sinks import Sink

JSON = {"Content-Type": "application/json"}
ADMIN = "bootstrap-admin"  # the name of the client behind ADMIN_KEY


def post(client: httpx.Client, event: dict[str, Any]) -> str:
    response = client.post("/v1/messages", content=orjson.dumps(event), headers=JSON)
    assert response.status_code in (200, 202), response.text
    key: str = response.json()["key"]
    return key


def key_with(settings: Settings, name: str, scope: str) -> tuple[str, str]:
    """A new client's (id, key)."""
    engine = create_hub_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            issued = ClientService().create(session, name=name, scopes=[scope])
            return issued.client.id, issued.key
    finally:
        engine.dispose()


def usage_of(client: httpx.Client, version: str = "1.0") -> dict[str, Any]:
    response = client.get("/v1/contracts/backorder/usage", params={"version": version})
    assert response.status_code == 200, response.text
    [entry] = response.json()["versions"]
    assert entry["version"] == version
    result: dict[str, Any] = entry
    return result


def by_actor(entries: list[dict[str, Any]]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(e["actor"]["kind"], e["actor"]["name"]): e for e in entries}


def wait_for(
    client: httpx.Client, ready: Callable[[dict[str, Any]], bool], timeout: float = 15
) -> dict[str, Any]:
    """The 1.0 usage once ``ready`` holds: flushes happen in the background."""
    deadline = time.monotonic() + timeout
    while True:
        usage = usage_of(client)
        if ready(usage):
            return usage
        if time.monotonic() > deadline:
            raise AssertionError(f"usage never got there: {usage}")
        time.sleep(0.05)


def test_usage_shows_producers_and_consumers_with_last_seen_advancing(
    deprecated_hub: HubServer,
) -> None:
    settings = deprecated_hub.settings
    reader_id, reader_key = key_with(settings, "feed-reader", "messages:read")
    with (
        Sink() as sink,
        deprecated_hub.client(ADMIN_KEY) as admin,
        deprecated_hub.client(reader_key) as reader,
        deprecated_hub.client() as anonymous,
    ):
        make_route(admin, sink, types=["backorder.*"])  # webhook connection wms-conn
        peer = make_inbound_connection(admin)
        post(admin, backorder_event("u-1"))
        post(admin, backorder_event("u-2"))
        body = orjson.dumps(backorder_event("u-inbound"))
        pushed = anonymous.post("/v1/connections/peer/inbound", content=body, headers=signed(body))
        assert pushed.status_code == 202, pushed.text
        sink.wait_for(3)
        assert len(reader.get("/v1/messages").json()["items"]) == 3

        usage = wait_for(
            admin,
            lambda u: (
                len(u["producers"]) == 2
                and len(u["consumers"]) == 2
                and by_actor(u["consumers"]).get(("connection", "wms-conn"), {}).get("count") == 3
            ),
        )
        assert usage["lifecycle"] == "deprecated"
        assert usage["sunset"] == "2099-01-31"
        producers = by_actor(usage["producers"])
        consumers = by_actor(usage["consumers"])
        assert set(producers) == {("client", ADMIN), ("connection", "peer")}
        assert set(consumers) == {("connection", "wms-conn"), ("client", "feed-reader")}
        assert producers[("client", ADMIN)]["count"] == 2
        assert producers[("connection", "peer")]["count"] == 1
        assert producers[("connection", "peer")]["actor"]["id"] == peer["id"]
        assert consumers[("client", "feed-reader")]["actor"]["id"] == reader_id
        assert consumers[("client", "feed-reader")]["count"] == 3
        first = producers[("client", ADMIN)]
        assert first["first_seen"] <= first["last_seen"]

        # Nobody used 1.1 yet: it is listed, with nobody.
        assert usage_of(admin, "1.1") == {
            "version": "1.1",
            "dataschema": V1_1,
            "lifecycle": "active",
            "sunset": None,
            "producers": [],
            "consumers": [],
        }

        time.sleep(0.05)  # so that the next message is seen at a later time
        post(admin, backorder_event("u-3"))
        later = wait_for(admin, lambda u: by_actor(u["producers"])[("client", ADMIN)]["count"] == 3)
        moved = by_actor(later["producers"])[("client", ADMIN)]
        assert moved["last_seen"] > first["last_seen"]
        assert moved["first_seen"] == first["first_seen"]
        # Only what happened since changed.
        assert by_actor(later["producers"])[("connection", "peer")]["count"] == 1


def test_the_usage_endpoint_refuses_what_it_cannot_answer(deprecated_hub: HubServer) -> None:
    with deprecated_hub.client(ADMIN_KEY) as client, deprecated_hub.client() as anonymous:
        assert anonymous.get("/v1/contracts/backorder/usage").status_code == 401
        unknown = client.get("/v1/contracts/widgets/usage")
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "urn:crossdock:problem:not-found"
        assert client.get("/v1/contracts/backorder/usage?version=9.9").status_code == 404
        too_long = client.get("/v1/contracts/backorder/usage", params={"version": "1" * 40})
        assert too_long.status_code == 422
        assert too_long.json()["type"] == "urn:crossdock:problem:invalid-parameters"
        whole = client.get("/v1/contracts/backorder/usage").json()
        assert [v["version"] for v in whole["versions"]] == ["1.0", "1.1"]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Settings], None]]:
    def use(settings: Settings) -> None:
        for name in ("database_url", "contracts_path", "governance_path"):
            monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_counts_are_flushed_at_shutdown_and_shown_by_the_cli(
    lifecycle_hub: HubFactory,
    engine: Engine,
    cli_env: Callable[[Settings], None],
) -> None:
    # An hour between flushes: only the flush at shutdown can write these counts.
    with lifecycle_hub(usage_flush_seconds=3600) as hub, hub.client(ADMIN_KEY) as client:
        post(client, backorder_event("s-1"))
        post(client, backorder_event("s-2", V1_1))
        assert usage_of(client)["producers"] == []
        settings = hub.settings
    with engine.connect() as conn:
        rows = conn.execute(
            select(ContractUsage.version, ContractUsage.role, ContractUsage.count).order_by(
                ContractUsage.version
            )
        ).all()
    assert [tuple(r) for r in rows] == [("1.0", "producer", 1), ("1.1", "producer", 1)]

    cli_env(settings)
    runner = CliRunner()
    table = runner.invoke(app, ["contracts", "usage", "backorder"])
    assert table.exit_code == 0, table.output
    lines = [line.split("\t") for line in table.output.splitlines()]
    assert lines[0] == [
        "version",
        "lifecycle",
        "sunset",
        "role",
        "actor",
        "id",
        "last seen",
        "count",
    ]
    assert [(r[0], r[1], r[2], r[3], r[4], r[7]) for r in lines[1:]] == [
        ("1.0", "deprecated", "2099-01-31", "producer", f"client {ADMIN}", "1"),
        ("1.1", "active", "", "producer", f"client {ADMIN}", "1"),
    ]
    as_json = runner.invoke(app, ["contracts", "usage", "backorder", "--version", "1.0", "--json"])
    assert as_json.exit_code == 0, as_json.output
    [entry] = orjson.loads(as_json.output)["versions"]
    assert entry["producers"][0]["actor"]["name"] == ADMIN
    for wrong in (
        ["contracts", "usage", "widgets"],
        ["contracts", "usage", "backorder", "--version", "7.0"],
    ):
        refused = runner.invoke(app, wrong)
        assert refused.exit_code == 1
        assert "no contract family" in refused.output or "has no version" in refused.output


def test_flushes_from_several_processes_add_up_and_keep_the_latest_time(
    database_url: str, tmp_path: Path
) -> None:
    """``write_usage`` is an upsert: counts add, first_seen keeps the earliest, last_seen the
    latest, whichever order flushes arrive in (processes flush independently)."""
    settings = deprecation_settings(database_url, tmp_path, FUTURE_SUNSET)
    engine = create_hub_engine(settings.database_url)
    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def row(first: datetime, last: datetime, count: int, actor: str = "cli_a") -> UsageRow:
        return UsageRow(
            "backorder", "1.0", Role.PRODUCER, ActorKind.CLIENT, actor, first, last, count
        )

    try:
        sessions = make_sessionmaker(engine)
        for batch in (
            [row(t0, t0 + timedelta(seconds=5), 2)],
            # a slower process flushes an older interval later; and a key twice in one flush
            [row(t0 - timedelta(seconds=9), t0 + timedelta(seconds=1), 3), row(t0, t0, 1, "cli_b")],
            [row(t0 + timedelta(seconds=6), t0 + timedelta(seconds=7), 1, "cli_b")] * 2,
        ):
            with transaction(sessions) as session:
                assert write_usage(session, batch) == [None] * len(batch)
        with Session(engine) as session:
            stored = {u.actor_id: u for u in session.scalars(select(ContractUsage))}
        a, b = stored["cli_a"], stored["cli_b"]
        assert (a.count, a.first_seen, a.last_seen) == (
            5,
            t0 - timedelta(seconds=9),
            t0 + timedelta(seconds=5),
        )
        assert (b.count, b.first_seen, b.last_seen) == (3, t0, t0 + timedelta(seconds=7))
    finally:
        engine.dispose()


def test_the_recorder_aggregates_in_memory_and_gives_back_what_a_flush_could_not_write(
    tmp_path: Path,
) -> None:
    contracts, governance = lifecycle_paths(tmp_path, FUTURE_SUNSET)
    recorder = UsageRecorder(ContractRegistry.load(contracts, governance))
    for _ in range(1000):
        deprecation = recorder.record_dataschema(V1_0, Role.PRODUCER, ActorKind.CLIENT, "cli_a")
    assert deprecation is not None and deprecation.successor == "1.1"
    assert recorder.record_dataschema(V1_1, Role.CONSUMER, ActorKind.CONNECTION, "con_x") is None
    assert recorder.record_dataschema("urn:nothing", Role.PRODUCER, ActorKind.CLIENT, "x") is None
    drained = recorder.drain()
    assert [(r.version, r.role, r.count) for r in drained] == [
        ("1.0", Role.PRODUCER, 1000),
        ("1.1", Role.CONSUMER, 1),
    ]
    assert recorder.drain() == []
    recorder.restore(drained)
    recorder.record_dataschema(V1_0, Role.PRODUCER, ActorKind.CLIENT, "cli_a")
    again = recorder.drain()
    assert [r.count for r in again] == [1001, 1]
    assert again[0].first_seen == drained[0].first_seen
    assert again[0].last_seen >= drained[0].last_seen
