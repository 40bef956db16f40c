"""Writing mapping files into a temporary folder and loading them, as the hub does."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.mappings import Mapping, MappingRegistry

SMOKE_TEST = [{"name": "smoke", "input": {}, "expect": {}}]

MakeMapping = Callable[..., Mapping]


def mapping_document(name: str = "m", **overrides: Any) -> dict[str, Any]:
    """A valid mapping file's content; ``overrides`` replace or add top-level keys."""
    document: dict[str, Any] = {
        "name": name,
        "source": {"connector": "test", "kind": name},
        "target": {"contract": "reservation", "version": "1.0"},
        "fields": {"id": {"path": "id"}},
        "tests": SMOKE_TEST,
    }
    document.update(overrides)
    return document


def write(folder: Path, relative: str, content: dict[str, Any] | list[Any] | str) -> Path:
    """Write YAML (from a dict or list) or text (from a str) at ``folder/relative``."""
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text)
    return path


@pytest.fixture
def make_mapping(tmp_path: Path) -> MakeMapping:
    """Load a one-mapping folder: ``make_mapping(fields, tables={...}, files={...})``.

    ``files`` are extra files (tables, vectors) by relative path; ``tables`` goes into the
    mapping's ``tables:``; other keyword arguments override top-level keys.
    """
    counter = itertools.count()

    def make(
        fields: dict[str, Any],
        *,
        files: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Mapping:
        folder = tmp_path / f"set{next(counter)}"
        for relative, text in (files or {}).items():
            write(folder, relative, text)
        write(folder, "m.yaml", mapping_document(fields=fields, **overrides))
        return MappingRegistry.load(folder).get("m")

    return make
