"""``crossdock connectors …`` and ``crossdock connections …``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from crossdock_acme_wms.testing import FakeAcmeWms, sample_receipt
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.conftest import ADMIN_KEY, LOOPBACK_ENV, REPO
from tests.inbound.test_external_connector import RECEIPT_MAPPING, create_acme
from tests.servers import HubServer

runner = CliRunner()
CROSSDOCK = str(Path(sys.executable).with_name("crossdock"))


@pytest.fixture
def acme_settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "acme-receipt.yaml").write_text(
        RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
    )
    settings.mappings_path = mappings
    settings.worker_enabled = False  # the command line polls here, not the server
    for name in ("database_url", "contracts_path", "governance_path", "mappings_path"):
        monkeypatch.setenv(f"CROSSDOCK_{name.upper()}", str(getattr(settings, name)))
    for variable, value in LOOPBACK_ENV.items():
        monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_connectors_list_shows_the_installed_packages() -> None:
    result = runner.invoke(app, ["connectors", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()}
    assert rows["webhook"][-1] == "crossdock"
    assert rows["acme-wms"][-1] == "crossdock-acme-wms"
    assert rows["acme-wms"][5] == "yes"  # polls


def test_connectors_test_runs_the_conformance_suite_for_an_installed_connector() -> None:
    done = subprocess.run(
        [CROSSDOCK, "connectors", "test", "acme-wms"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "16 passed" in done.stdout
    missing = runner.invoke(app, ["connectors", "test", "carrier-pigeon"])
    assert missing.exit_code == 1
    assert "no connector 'carrier-pigeon'" in missing.output


def test_connections_check_and_poll_from_the_command_line(acme_settings: Settings) -> None:
    wms = FakeAcmeWms()
    for n in range(3):
        wms.add_receipt(sample_receipt(9007199254742000 + n))
    with wms.peer:
        with HubServer(acme_settings) as hub, hub.client(ADMIN_KEY) as client:
            create_acme(client, wms, poll_interval_seconds=3600)
        checked = runner.invoke(app, ["connections", "check", "acme"])
        assert checked.exit_code == 0, checked.output
        assert orjson.loads(checked.output)["ok"] is True

        polled = runner.invoke(app, ["connections", "poll", "acme"])
        assert polled.exit_code == 0, polled.output
        report = orjson.loads(polled.output)
        assert report["claimed"] is True
        assert (report["pages"], report["records"], report["accepted"]) == (2, 3, 3)

        listed = runner.invoke(app, ["connections", "list"])
        assert "acme\tacme-wms\tclosed\t3600s\t3\t" in listed.output

    down = runner.invoke(app, ["connections", "check", "acme"])  # the fake WMS has stopped
    assert down.exit_code == 1
    assert orjson.loads(down.output)["ok"] is False
