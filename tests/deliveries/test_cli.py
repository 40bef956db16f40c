"""``crossdock routes …``, ``crossdock deadletters …`` and ``crossdock worker``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.conftest import ADMIN_KEY, LOOPBACK_ENV
from tests.deliveries.test_dead_letters import open_letters, wait_until
from tests.deliveries.test_delivery_api import make_route, post_event
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import Sink

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("database_url", "contracts_path", "governance_path"):
        monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_routes_from_the_command_line(cli_env: None, hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, name="first")  # also creates connection first-conn
        created = run(
            "routes",
            "create",
            "--name",
            "cli-route",
            "--connection",
            "first-conn",
            "--type",
            "receipt.*",
            "--type",
            "transfer.received",
            "--filter",
            "data.location.code == 'DC-1'",
            "--max-attempts",
            "3",
            "--initial-delay",
            "0.5",
        )
        assert '"name": "cli-route"' in created
        shown = client.get("/v1/routes/cli-route").json()
        assert shown["types"] == ["receipt.*", "transfer.received"]
        assert shown["retry"]["max_attempts"] == 3 and shown["retry"]["initial_delay"] == 0.5
        assert "cli-route" in run("routes", "list")
        run("routes", "pause", "cli-route")
        assert client.get("/v1/routes/cli-route").json()["paused"] is True
        run("routes", "resume", "cli-route")
        run("routes", "update", "cli-route", "--filter", "")
        assert client.get("/v1/routes/cli-route").json()["filter"] is None
        run("routes", "delete", "cli-route")
        assert client.get("/v1/routes/cli-route").status_code == 404
        bad = runner.invoke(
            app, ["routes", "create", "--name", "x", "--connection", "nope", "--type", "*"]
        )
        assert bad.exit_code == 1
        assert "no connection" in bad.output
        audit = client.get("/v1/audit", params={"target_type": "route", "actor": "cli"}).json()[
            "items"
        ]
        assert [e["action"] for e in audit] == [
            "route.create",
            "route.pause",
            "route.resume",
            "route.update",
            "route.delete",
        ]


def test_dead_letters_from_the_command_line(cli_env: None, hub: HubServer) -> None:
    healthy = {"up": False}

    def behaviour(number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return (200, {}) if healthy["up"] else (400, {})

    with Sink(behaviour=behaviour) as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, on_dead_letter="skip")
        for i in range(6):
            event = a_valid_event("backorder", f"bo-{i}")
            event["subject"] = f"BO-{i}"
            post_event(client, event)
        letters = wait_until(lambda: len(open_letters(client)) == 6 and open_letters(client))
        listing = run("deadletters", "list")
        assert all(letter["id"] in listing for letter in letters)
        assert letters[0]["signature"] in run("deadletters", "groups")
        assert '"reason": "permanent"' in run("deadletters", "show", letters[0]["id"])
        healthy["up"] = True
        run("deadletters", "replay", letters[0]["id"])
        output = run("deadletters", "replay", "--route", "wms", "--limit", "3")
        assert "3 replayed" in output
        run("deadletters", "discard", letters[5]["id"], "--reason", "customer cancelled")
        assert len(sink.wait_for(4)) == 4
        assert len(open_letters(client)) == 1
        assert (
            client.get("/v1/audit", params={"action": "deadletter.discard"}).json()["items"][0][
                "detail"
            ]
            == "customer cancelled"
        )


def test_a_separate_worker_process_delivers(settings: Settings, tmp_path: Any) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    settings.worker_enabled = False
    env = {
        **os.environ,
        "CROSSDOCK_DATABASE_URL": settings.database_url,
        "CROSSDOCK_CONTRACTS_PATH": str(settings.contracts_path),
        "CROSSDOCK_GOVERNANCE_PATH": str(settings.governance_path),
        **LOOPBACK_ENV,
    }
    with Sink() as sink, HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        make_route(client, sink)
        post_event(client, a_valid_event("receipt", "via-worker"))
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("crossdock")), "worker"],
                env=env,
                stdout=log,
                stderr=log,
            )
        try:
            [received] = sink.wait_for(1, timeout=20)
            assert received.body["id"] == "via-worker"
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0
