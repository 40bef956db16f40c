"""Clients bound to a connection: they post only as it and see only what is its own.

Two connections, ``east`` and ``west``, each with a bound client; messages from both, a
route delivering to each, a dead letter on each. Every read and write of one bound client
must stay on its side, and what is on the other side must look exactly like what does not
exist at all (no existence leak).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.clients.models import Client
from hub.settings import Settings, get_settings
from hub.store.migrate import alembic_config, upgrade
from hub.store.models import Base
from tests.access.peers import Peer, create_client, wait_until, webhook_connection
from tests.conftest import ADMIN_KEY
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer

JSON = {"Content-Type": "application/json"}
runner = CliRunner()


def event_from(connection: str, event_id: str, quantity: int = 5) -> dict[str, Any]:
    event = a_valid_event("reservation", event_id)
    event["source"] = f"/connections/{connection}"
    # Each its own document: a dead letter holds back later messages of the same one.
    event["subject"] = event["data"]["reservation_id"] = f"RSV-{event_id}"
    event["data"]["lines"][0]["requested_qty"] = quantity
    return event


def refuse_big(request: Any) -> tuple[int, dict[str, str], bytes]:
    """Accepts small reservations, refuses (400: permanent) those asking for over 100."""
    quantity = orjson.loads(request.body)["data"]["lines"][0]["requested_qty"]
    return (400 if quantity > 100 else 200), {}, b"{}"


@dataclass
class World:
    hub: HubServer
    admin: httpx.Client
    east: httpx.Client
    west: httpx.Client
    keys: dict[str, str]
    messages: dict[str, str]
    letters: dict[str, str]


@pytest.fixture
def world(hub: HubServer) -> Iterator[World]:
    with Peer(answer=refuse_big) as peer, hub.client(ADMIN_KEY) as admin:
        for side in ("east", "west"):
            assert webhook_connection(admin, side, peer.url).status_code == 201
            route = {"name": f"to-{side}", "connection": side, "types": ["reservation.*"]}
            assert admin.post("/v1/routes", json=route).status_code == 201
        keys = {
            side: create_client(
                admin, f"{side}-system", "messages:write", "messages:read", "ops", connection=side
            )
            for side in ("east", "west")
        }
        messages: dict[str, str] = {}
        with hub.client(keys["east"]) as east, hub.client(keys["west"]) as west:
            for side, client in (("east", east), ("west", west)):
                # Small: delivered to both routes. Big: dead-lettered on both routes.
                for name, quantity in (("small", 5), ("big", 500)):
                    response = client.post(
                        "/v1/messages",
                        content=orjson.dumps(event_from(side, f"{side}-{name}", quantity)),
                        headers=JSON,
                    )
                    assert response.status_code == 202, response.text
                    messages[f"{side}-{name}"] = response.json()["key"]

            def both_dead_lettered() -> list[dict[str, Any]]:
                items: list[dict[str, Any]] = admin.get("/v1/deadletters").json()["items"]
                return items if len(items) == 4 else []

            # "<route's side>-from-<message's side>": id
            route_side = {_route_id(admin, f"to-{side}"): side for side in ("east", "west")}
            message_side = {messages[f"{side}-big"]: side for side in ("east", "west")}
            letters = {
                f"{route_side[item['route_id']]}-from-{message_side[item['message_key']]}": item[
                    "id"
                ]
                for item in wait_until(both_dead_lettered)
            }
            yield World(hub, admin, east, west, keys, messages, letters)


def _route_id(admin: httpx.Client, name: str) -> str:
    route_id: str = admin.get(f"/v1/routes/{name}").json()["id"]
    return route_id


def test_a_bound_client_posts_only_as_its_connection(world: World) -> None:
    refused = world.east.post(
        "/v1/messages", content=orjson.dumps(event_from("west", "spoof")), headers=JSON
    )
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["type"] == "urn:crossdock:problem:outside-binding"
    assert problem["expected_source"] == "/connections/east"
    anonymous_source = a_valid_event("reservation", "plain")
    assert (
        world.east.post(
            "/v1/messages", content=orjson.dumps(anonymous_source), headers=JSON
        ).status_code
        == 403
    )  # the examples' own source is not the connection's either

    batch = [event_from("east", "b-1"), event_from("west", "b-2"), event_from("east", "b-3")]
    answer = world.east.post("/v1/messages/batch", content=orjson.dumps(batch), headers=JSON)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["problem"]["type"] == "urn:crossdock:problem:outside-binding"
    assert answer.json()["accepted"] == 2 and answer.json()["rejected"] == 1
    # The refused event was not stored under any key.
    feed = world.admin.get("/v1/messages", params={"source": "/connections/west"}).json()
    assert "b-2" not in {item["event"]["id"] for item in feed["items"]}


def test_a_bound_client_reads_only_its_own_messages(world: World) -> None:
    feed = world.east.get("/v1/messages").json()
    assert {item["key"] for item in feed["items"]} == {
        world.messages["east-small"],
        world.messages["east-big"],
    }
    asked_for_west = world.east.get("/v1/messages", params={"source": "/connections/west"})
    assert asked_for_west.status_code == 200 and asked_for_west.json()["items"] == []
    own = world.east.get(f"/v1/messages/{world.messages['east-small']}")
    assert own.status_code == 200
    others = world.east.get(f"/v1/messages/{world.messages['west-small']}")
    missing = world.east.get("/v1/messages/msg_doesnotexist")
    assert others.status_code == missing.status_code == 404
    # The same document as for a key that never existed, but for the key it names.
    assert _without_instance(others.json()) == _without_instance(missing.json())
    assert others.json()["detail"] == f"no message with key {world.messages['west-small']!r}"


def test_a_bound_client_sees_only_the_deliveries_to_its_connection(world: World) -> None:
    # A west message was delivered to both routes; east sees only the one to east.
    deliveries = world.east.get(f"/v1/messages/{world.messages['west-small']}/deliveries")
    assert deliveries.status_code == 200
    assert [d["route"] for d in deliveries.json()["items"]] == ["to-east"]
    everything = world.admin.get(f"/v1/messages/{world.messages['west-small']}/deliveries")
    assert sorted(d["route"] for d in everything.json()["items"]) == ["to-east", "to-west"]


def test_a_bound_client_sees_and_handles_only_its_dead_letters(world: World) -> None:
    east_route = _route_id(world.admin, "to-east")
    listed = world.east.get("/v1/deadletters").json()["items"]
    assert len(listed) == 2 and {item["route_id"] for item in listed} == {east_route}
    assert world.east.get("/v1/deadletters", params={"connection": "west"}).json()["items"] == []
    groups = world.east.get("/v1/deadletters/groups").json()["items"]
    assert sum(group["count"] for group in groups) == 2
    own = world.letters["east-from-west"]
    other = world.letters["west-from-east"]
    assert world.east.get(f"/v1/deadletters/{own}").status_code == 200
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"data": {}}),
        ("POST", "/replay", None),
        ("POST", "/discard", {"reason": "not mine"}),
    ):
        response = world.east.request(method, f"/v1/deadletters/{other}{suffix}", json=body)
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["detail"] == f"no dead letter {other!r}"
    # West's letters are untouched; a bulk replay by east replays east's only.
    assert world.admin.get(f"/v1/deadletters/{other}").json()["status"] == "open"
    refused = world.east.post("/v1/deadletters/replays", json={"connection": "west"})
    assert refused.status_code == 403
    job = world.east.post("/v1/deadletters/replays", json={})
    assert job.status_code == 202, job.text
    assert job.json()["total"] == 2
    assert world.east.get(f"/v1/deadletters/replays/{job.json()['id']}").status_code == 200
    assert world.west.get(f"/v1/deadletters/replays/{job.json()['id']}").status_code == 404


def test_a_bound_client_sees_only_its_connection_and_nothing_outside_it(world: World) -> None:
    listed = world.east.get("/v1/connections").json()["items"]
    assert [c["name"] for c in listed] == ["east"]
    assert world.east.get("/v1/connections/east").status_code == 200
    assert world.east.get("/v1/connections/west").status_code == 404
    assert world.east.post("/v1/connections/west/check").status_code == 404
    # Operations that cannot be narrowed to one connection refuse a bound client.
    for path in ("/v1/routes", "/v1/audit"):
        response = world.east.get(path)
        assert response.status_code == 403, path
        assert response.json()["type"] == "urn:crossdock:problem:outside-binding"
    assert world.east.get("/v1/contracts").status_code == 200


def test_binding_rules_and_the_clients_api(world: World) -> None:
    admin = world.admin
    cannot_be_admin = admin.post(
        "/v1/clients", json={"name": "x", "scopes": ["admin"], "connection": "east"}
    )
    assert cannot_be_admin.status_code == 422
    assert cannot_be_admin.json()["violations"][0]["rule"] == "bound-not-admin"
    unknown = admin.post(
        "/v1/clients", json={"name": "y", "scopes": ["ops"], "connection": "nowhere"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["violations"][0]["pointer"] == "/connection"
    shown = admin.get("/v1/clients/east-system").json()
    assert shown["connection"] == "east" and "key" not in shown
    # Rebinding east's key to west turns it around at once in this process.
    moved = admin.patch("/v1/clients/east-system", json={"connection": "west"})
    assert moved.status_code == 200 and moved.json()["connection"] == "west"
    assert world.east.get("/v1/connections").json()["items"][0]["name"] == "west"
    unbound = admin.patch("/v1/clients/east-system", json={"connection": None})
    assert unbound.json()["connection"] is None
    assert len(world.east.get("/v1/messages").json()["items"]) >= 4
    # A connection with bound clients cannot be deleted from under them.
    in_use = admin.delete("/v1/connections/west")
    assert in_use.status_code == 409
    assert "west-system" in in_use.json()["detail"]
    audit = admin.get("/v1/audit", params={"limit": 500}).json()["items"]
    assert {"client.create", "client.update"} <= {entry["action"] for entry in audit}
    assert not any(world.keys["east"] in orjson.dumps(entry).decode() for entry in audit)


def _without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("instance", "detail")}


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CROSSDOCK_CONTRACTS_PATH", str(settings.contracts_path))
    monkeypatch.setenv("CROSSDOCK_GOVERNANCE_PATH", str(settings.governance_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_command_line_binds_clients(cli_env: None, hub: HubServer, engine: Engine) -> None:
    with hub.client(ADMIN_KEY) as admin:
        assert webhook_connection(admin, "north").status_code == 201
    created = runner.invoke(
        cli,
        ["clients", "create", "--name", "north-wms", "--scopes", "messages:write",
         "--connection", "north", "--rate-limit", "50/second"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    with engine.connect() as conn:
        row = conn.execute(select(Client).where(Client.name == "north-wms")).one()
    assert row.connection_id is not None and row.rate_limit == "50/second"
    with hub.client(key) as north:
        spoof = north.post("/v1/messages", content=orjson.dumps(event_from("x", "1")), headers=JSON)
        assert spoof.status_code == 403
    listing = runner.invoke(cli, ["clients", "list"])
    assert "north" in listing.output and "50/second" in listing.output
    bad = runner.invoke(cli, ["clients", "create", "--name", "n2", "--scopes", "admin",
                              "--connection", "north"])  # fmt: skip
    assert bad.exit_code == 1 and "admin" in bad.output
    updated = runner.invoke(cli, ["clients", "update", "north-wms", "--unbind"])
    assert updated.exit_code == 0, updated.output
    assert "connection: -" in updated.output
    with engine.connect() as conn:
        row = conn.execute(select(Client).where(Client.name == "north-wms")).one()
    assert row.connection_id is None


def test_the_migration_goes_down_and_up_and_matches_the_model(engine: Engine) -> None:
    config = alembic_config()

    def columns() -> set[str]:
        return {column["name"] for column in inspect(engine).get_columns("clients")}

    assert {"connection_id", "rate_limit"} <= columns()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert not {"connection_id", "rate_limit"} & columns()
    upgrade(engine)
    assert {"connection_id", "rate_limit"} <= columns()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        drift = [
            diff
            for diff in compare_metadata(context, Base.metadata)
            if "clients" in repr(diff) and "instance_secrets" not in repr(diff)
        ]
    assert drift == []
