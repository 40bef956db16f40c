"""The shape of the repository: data folders hold only checked data, connectors only use the SDK."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from hub.mappings import MappingRegistry
from tests.conftest import REPO

DATA_FOLDERS = ("contracts", "mappings", "governance")


def _project_files(folder: str) -> list[Path]:
    return [p for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def test_data_folders_hold_no_python() -> None:
    for folder in DATA_FOLDERS:
        assert not [p for p in _project_files(folder) if p.suffix == ".py"], folder


def test_every_data_file_is_one_the_suite_checks() -> None:
    """Each file must be of a kind a test validates against a schema, so none goes unchecked."""
    mapping_files = MappingRegistry.load(REPO / "mappings").files
    checked: dict[str, Callable[[Path], bool]] = {
        "contracts": lambda p: (
            p.name.endswith(".schema.json") or p.parent.parent.parent.name == "examples"
        ),
        "governance": lambda p: (
            (p.parent.name == "contracts" and p.suffix == ".yaml")
            or p.name in ("delivery.yaml", "hub.yaml")
        ),
        "mappings": lambda p: p.resolve() in mapping_files,
    }
    for folder in DATA_FOLDERS:
        for path in _project_files(folder):
            if path.name == "README.md":
                continue
            assert checked[folder](path), f"{path} is not a kind of file the suite checks"


def test_governance_yaml_parses() -> None:
    for path in (REPO / "governance").rglob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text()), dict), path


def test_connectors_import_only_the_sdk_from_the_project() -> None:
    """The import-linter contracts of pyproject.toml (also part of `make lint`)."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_no_grab_bag_modules() -> None:
    names = {"utils.py", "helpers.py", "misc.py"}
    found = [
        p
        for folder in ("hub", "connectors")
        for p in (REPO / folder).rglob("*.py")
        if p.name in names
    ]
    assert found == []
