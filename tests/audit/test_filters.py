"""``/v1/audit`` and ``crossdock audit list``: filters, time range, cursor, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.audit.reading import entries
from tests.conftest import ADMIN_KEY
from tests.servers import HubServer
from tests.sinks import SECRET

runner = CliRunner()
PROBLEM = "urn:crossdock:problem:invalid-parameters"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("database_url", "contracts_path", "governance_path", "mappings_path"):
        monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _some_history(client: httpx.Client) -> dict[str, Any]:
    """Two clients created and changed, a connection created: what the filters pick from."""
    ids = {}
    for name in ("alpha", "beta"):
        response = client.post("/v1/clients", json={"name": name, "scopes": ["ops"]})
        ids[name] = response.json()["id"]
        client.patch(f"/v1/clients/{name}", json={"rate_limit": "10/second"})
    connection = client.post(
        "/v1/connections",
        json={
            "name": "peer",
            "connector": "webhook",
            "config": {"url": "http://127.0.0.1:9/x", "signing_secret": SECRET},
        },
    )
    assert connection.status_code == 201, connection.text
    ids["peer"] = connection.json()["id"]
    return ids


def _actions(found: list[dict[str, Any]]) -> list[str]:
    return [entry["action"] for entry in found]


def test_filters_combine(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        ids = _some_history(client)
        bootstrap_id = client.get("/v1/clients/bootstrap-admin").json()["id"]
        everything = entries(client)
        # The hub's own entries come first: the bootstrap admin, the policy and mapping loads.
        assert {"client.create", "policy.load", "mapping.load"} <= set(_actions(everything[:3]))

        assert _actions(entries(client, action="client.update")) == ["client.update"] * 2
        assert _actions(entries(client, action="client.*")) == [
            "client.create",  # the bootstrap admin, by the hub
            "client.create",
            "client.update",
            "client.create",
            "client.update",
        ]
        assert _actions(entries(client, action="connection.*")) == ["connection.create"]
        assert entries(client, action="client") == []  # a name, not a prefix
        # `%` and `_` are literal in a prefix: "c%.*" is not "anything starting with c".
        assert entries(client, action="c%.*") == []
        assert entries(client, action="client_.*") == []

        assert _actions(entries(client, target_type="client", target_id=ids["beta"])) == [
            "client.create",
            "client.update",
        ]
        assert _actions(entries(client, target_type="connection")) == ["connection.create"]
        by_name = entries(client, actor="bootstrap-admin")
        assert len(by_name) == 5 and by_name == entries(client, actor=bootstrap_id)
        hub_own = entries(client, actor="system")
        assert {"client.create", "policy.load", "mapping.load"} == set(_actions(hub_own))
        assert entries(client, actor="nobody") == []

        beta_made = entries(client, action="client.create", target_id=ids["beta"])[0]["at"]
        at = datetime.fromisoformat(beta_made)
        later = entries(client, since=at.isoformat(), actor="bootstrap-admin")
        assert _actions(later) == ["client.create", "client.update", "connection.create"]
        earlier = entries(client, until=at.isoformat(), actor="bootstrap-admin")
        assert _actions(earlier) == ["client.create", "client.update"]
        window = entries(
            client,
            since=at.isoformat(),
            until=(at + timedelta(microseconds=1)).isoformat(),
            target_type="client",
        )
        assert _actions(window) == ["client.create"]


def test_the_cursor_pages_and_follows(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        _some_history(client)
        everything = entries(client)
        pages, after = [], None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
            page = client.get("/v1/audit", params=params).json()
            if not page["items"]:
                break
            pages.append(page["items"])
            after = page["next_cursor"]
        assert [len(p) for p in pages[:-1]] == [2] * (len(pages) - 1)
        assert [e for p in pages for e in p] == everything
        # At the end the cursor stays put, and picks up what is appended later.
        end = client.get("/v1/audit", params={"after": after}).json()
        assert end == {"items": [], "next_cursor": after}
        client.post("/v1/clients", json={"name": "gamma", "scopes": ["ops"]})
        fresh = client.get("/v1/audit", params={"after": after}).json()["items"]
        assert [(e["action"], e["after"]["name"]) for e in fresh] == [("client.create", "gamma")]


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"since": "2026-11-25T08:00:00"}, "/query/since"),  # no offset: ambiguous
        ({"until": "yesterday"}, "/query/until"),
        ({"since": "2026-11-25T08:00:00Z", "until": "2026-11-25T08:00:00Z"}, "/query/until"),
        ({"after": "not-a-cursor"}, "/query/after"),
        ({"limit": "0"}, "/query/limit"),
        ({"action": "x" * 65}, "/query/action"),
        ({"since": "9999-12-31T23:59:59-05:00"}, "/query/since"),  # after the last UTC time
    ],
)
def test_bad_filters_are_a_422_problem(
    hub: HubServer, params: dict[str, str], pointer: str
) -> None:
    with hub.client(ADMIN_KEY) as client:
        response = client.get("/v1/audit", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == PROBLEM
    assert pointer in [v["pointer"] for v in problem["violations"]]


def test_audit_list_on_the_command_line(cli_env: None, hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        ids = _some_history(client)
        listed = runner.invoke(app, ["audit", "list", "--action", "client.*", "--json"])
        assert listed.exit_code == 0, listed.output
        lines = [orjson.loads(line) for line in listed.output.splitlines()]
        assert lines == [orjson.loads(orjson.dumps(e)) for e in entries(client, action="client.*")]
        table = runner.invoke(app, ["audit", "list", "--target-id", ids["peer"]])
        assert table.exit_code == 0, table.output
        rows = [line.split("\t") for line in table.output.splitlines()]
        assert rows[0] == ["id", "at", "actor", "action", "target", "detail"]
        assert [row[2:5] for row in rows[1:]] == [
            ["bootstrap-admin", "connection.create", f"connection/{ids['peer']}"]
        ]
        first = entries(client)[0]
        after = runner.invoke(app, ["audit", "list", "--after", str(first["id"]), "--json"])
        assert [orjson.loads(line)["id"] for line in after.output.splitlines()] == [
            e["id"] for e in entries(client)[1:]
        ]
        since = runner.invoke(app, ["audit", "list", "--since", first["at"], "--actor", "system"])
        assert since.exit_code == 0 and "policy.load" in since.output
    naive = runner.invoke(app, ["audit", "list", "--since", "2026-11-25T08:00:00"])
    assert naive.exit_code == 1 and "offset" in naive.output
