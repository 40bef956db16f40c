"""``crossdock contracts list|validate``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import get_settings
from tests.conftest import REPO

runner = CliRunner()
EXAMPLES = REPO / "contracts" / "receipt" / "examples" / "1.0"


@pytest.fixture(autouse=True)
def _repo_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_CONTRACTS_PATH", str(REPO / "contracts"))
    monkeypatch.setenv("CROSSDOCK_GOVERNANCE_PATH", str(REPO / "governance"))
    get_settings.cache_clear()


def _event_file(tmp_path: Path, example: Path) -> Path:
    path = tmp_path / example.name
    path.write_bytes(orjson.dumps(orjson.loads(example.read_bytes())["event"]))
    return path


def test_list_shows_every_family() -> None:
    result = runner.invoke(app, ["contracts", "list"])
    assert result.exit_code == 0
    for family in ("reservation", "transfer", "po_release", "receipt", "backorder"):
        assert family in result.output


def test_validate_passes_valid_files_and_prints_every_violation(tmp_path: Path) -> None:
    valid = [_event_file(tmp_path, p) for p in sorted((EXAMPLES / "valid").glob("*.json"))]
    ok = runner.invoke(app, ["contracts", "validate", *map(str, valid)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("ok") == len(valid)

    invalid_example = sorted((EXAMPLES / "invalid").glob("*.json"))[0]
    expected = orjson.loads(invalid_example.read_bytes())["violations"]
    bad = runner.invoke(
        app, ["contracts", "validate", str(valid[0]), str(_event_file(tmp_path, invalid_example))]
    )
    assert bad.exit_code == 1
    for pointer in expected:
        assert pointer in bad.output


def test_validate_reports_files_that_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{nope")
    result = runner.invoke(app, ["contracts", "validate", str(path)])
    assert result.exit_code == 1
    assert "not JSON" in result.output
