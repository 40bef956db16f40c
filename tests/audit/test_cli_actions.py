"""What ``crossdock`` commands change is audited too, with the actor ``cli``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.audit.reading import entries, one_entry, wait_for_entry
from tests.conftest import ADMIN_KEY
from tests.deliveries.test_dead_letters import open_letters, wait_until
from tests.deliveries.test_delivery_api import make_route, post_event
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import Sink

runner = CliRunner()
CLI_ACTOR = {"id": None, "name": "cli"}


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("database_url", "contracts_path", "governance_path", "mappings_path"):
        monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_clients_changed_on_the_command_line_are_audited(cli_env: None, hub: HubServer) -> None:
    output = run("clients", "create", "--name", "erp-feed", "--scopes", "messages:read")
    key = output.strip().splitlines()[-1]
    run(
        "clients", "update", "erp-feed", "--scopes", "messages:read,ops", "--rate-limit", "5/second"
    )
    run("clients", "revoke", "erp-feed")
    run("clients", "revoke", "erp-feed")  # already revoked: nothing changes, nothing recorded
    with hub.client(ADMIN_KEY) as client:
        client_id = client.get("/v1/clients/erp-feed").json()["id"]
        found = entries(client, target_type="client", target_id=client_id)
    assert [(e["action"], e["actor"]) for e in found] == [
        ("client.create", CLI_ACTOR),
        ("client.update", CLI_ACTOR),
        ("client.revoke", CLI_ACTOR),
    ]
    create, update, revoke = found
    assert create["before"] is None and create["after"]["key_prefix"] == key[:10]
    assert (update["before"]["scopes"], update["after"]["scopes"]) == (
        ["messages:read"],
        ["messages:read", "ops"],
    )
    assert (update["before"]["rate_limit"], update["after"]["rate_limit"]) == (None, "5/second")
    assert revoke["before"]["revoked_at"] is None and revoke["after"]["revoked_at"]
    assert key not in orjson.dumps(found).decode()


def test_a_poll_from_the_command_line_is_audited(
    cli_env: None, hub: HubServer, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with hub.client(ADMIN_KEY) as client:
        created = client.post(
            "/v1/connections",
            json={
                "name": "files",
                "connector": "csv",
                "config": {"inbox": str(inbox)},
                "poll_interval_seconds": 3600,
            },
        )
        assert created.status_code == 201, created.text
        report = orjson.loads(run("connections", "poll", "files"))
        assert report["claimed"] is True
        entry = one_entry(client, action="connection.poll")
    assert entry["actor"] == CLI_ACTOR
    assert entry["target"] == {"type": "connection", "id": created.json()["id"]}
    assert entry["before"] == {"cursor": None}
    assert entry["after"]["pages"] == report["pages"] and entry["after"]["error"] is None


def test_dead_letters_handled_on_the_command_line_are_audited(
    cli_env: None, hub: HubServer
) -> None:
    def refuses(number: int, body: dict[str, object]) -> tuple[int, dict[str, str]]:
        return 400, {}

    with Sink(behaviour=refuses) as sink, hub.client(ADMIN_KEY) as client:
        make_route(client, sink, on_dead_letter="skip")
        for i in range(4):
            event = a_valid_event("backorder", f"bo-{i}")
            event["subject"] = f"BO-{i}"
            post_event(client, event)
        letters = wait_until(lambda: len(open_letters(client)) == 4 and open_letters(client))
        run("deadletters", "replay", letters[0]["id"])
        run("deadletters", "discard", letters[1]["id"], "--reason", "duplicate order")
        run("deadletters", "replay", "--route", "wms", "--limit", "2")
        replay = one_entry(client, action="deadletter.replay")
        discard = one_entry(client, action="deadletter.discard")
        bulk = one_entry(client, action="deadletter.bulk_replay")
        finish = wait_for_entry(client, action="deadletter.bulk_replay.finish")
    assert [e["actor"] for e in (replay, discard, bulk)] == [CLI_ACTOR] * 3
    assert replay["target"]["id"] == letters[0]["id"] and replay["after"]["status"] == "replayed"
    assert discard["detail"] == "duplicate order"
    assert bulk["after"]["route"] == "wms" and bulk["after"]["limit"] == 2
    assert finish["target"] == bulk["target"]
    assert finish["after"]["created_by"] == "cli" and finish["after"]["processed"] == 2
