"""``crossdock routes create|update|show|list`` with version pins, on a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.conftest import ADMIN_KEY
from tests.servers import HubServer
from tests.sinks import SECRET, Sink

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("database_url", "contracts_path", "governance_path", "mappings_path"):
        monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_pins_from_the_command_line(cli_env: None, hub: HubServer) -> None:
    with Sink() as sink, hub.client(ADMIN_KEY) as client:
        created = client.post(
            "/v1/connections",
            json={
                "name": "wms-conn",
                "connector": "webhook",
                "config": {"url": sink.url, "signing_secret": SECRET},
            },
        )
        assert created.status_code == 201, created.text
        base = ["routes", "create", "--connection", "wms-conn", "--type", "reservation.*"]
        ok = runner.invoke(app, [*base, "--name", "legacy", "--contract-version", "reservation=1"])
        assert ok.exit_code == 0, ok.output
        assert '"contract_versions": {' in ok.output and '"reservation": "1"' in ok.output
        assert client.get("/v1/routes/legacy").json()["contract_versions"] == {"reservation": "1"}

        shown = runner.invoke(app, ["routes", "show", "legacy"])
        assert shown.exit_code == 0 and '"reservation": "1"' in shown.output
        listed = runner.invoke(app, ["routes", "list"])
        assert "reservation=1" in listed.output

        unknown = runner.invoke(app, [*base, "--name", "x", "--contract-version", "reservation=7"])
        assert unknown.exit_code == 1
        assert "reservation has no version 7.x" in unknown.output
        malformed = runner.invoke(app, [*base, "--name", "x", "--contract-version", "reservation"])
        assert malformed.exit_code == 1 and "FAMILY=PIN" in malformed.output

        moved = runner.invoke(
            app, ["routes", "update", "legacy", "--contract-version", "reservation=2.0"]
        )
        assert moved.exit_code == 0, moved.output
        assert client.get("/v1/routes/legacy").json()["contract_versions"] == {"reservation": "2.0"}
        cleared = runner.invoke(app, ["routes", "update", "legacy", "--no-contract-versions"])
        assert cleared.exit_code == 0, cleared.output
        assert client.get("/v1/routes/legacy").json()["contract_versions"] == {}
