"""``crossdock mappings test|list``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import get_settings
from tests.conftest import REPO
from tests.mappings.conftest import mapping_document, write

runner = CliRunner()


@pytest.fixture(autouse=True)
def _repo_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_MAPPINGS_PATH", str(REPO / "mappings"))
    get_settings.cache_clear()


def _folder(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "good.yaml",
        mapping_document(
            "good", tests=[{"name": "copies the id", "input": {"id": 1}, "expect": {"id": 1}}]
        ),
    )
    write(
        tmp_path,
        "bad.yaml",
        mapping_document(
            "bad",
            source={"connector": "x", "kind": "y"},
            tests=[
                {"name": "wrong [expectation]", "input": {"id": 2}, "expect": {"id": "2"}},
                {"name": "right", "input": {"id": 3}, "expect": {"id": 3}},
            ],
        ),
    )
    return tmp_path


def test_the_shipped_mappings_pass() -> None:
    result = runner.invoke(app, ["mappings", "test"])
    assert result.exit_code == 0, result.output
    assert "ok    shopify-orders-create: five-line order" in result.output
    assert result.output.splitlines()[-1].endswith(" passed, 0 failed")


def test_a_failing_vector_prints_its_diff_and_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mappings", "test", "--dir", str(_folder(tmp_path))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "FAIL  bad: wrong [expectation]" in lines
    assert "        /id: expected string '2', got integer 2" in lines
    assert "ok    good: copies the id" in lines
    assert lines[-1] == "2 passed, 1 failed"


def test_named_mappings_only(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mappings", "test", "good", "--dir", str(_folder(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "bad" not in result.output
    assert result.output.splitlines()[-1] == "1 passed, 0 failed"


def test_an_unknown_name_or_a_broken_file_exits_1(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    unknown = runner.invoke(app, ["mappings", "test", "nope", "--dir", str(folder)])
    assert unknown.exit_code == 1
    assert "no mapping named nope; known: bad, good" in unknown.output
    write(folder, "broken.yaml", mapping_document("broken", fields={"x": {"path": "a["}}))
    broken = runner.invoke(app, ["mappings", "test", "--dir", str(folder)])
    assert broken.exit_code == 1
    assert "broken.yaml: field x: 'a[' is not valid JMESPath" in broken.output


def test_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mappings", "list", "--dir", str(_folder(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "name\tfrom\tto\ttests\tfile"
    assert lines[1] == f"bad\tx y\treservation 1.0\t2\t{tmp_path / 'bad.yaml'}"
    shipped = runner.invoke(app, ["mappings", "list"])
    assert "shopify-orders-create\tshopify orders/create\treservation 1.0" in shipped.output
