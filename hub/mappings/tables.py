"""Lookup tables kept in files beside the mappings.

Two formats:

* **CSV** (``.csv``, UTF-8): a header row; the first column is the key, the other columns
  are values (``key,value``, or ``key,code,gln,name``). An empty cell is a missing value.
* **YAML** (``.yaml``/``.yml``): a mapping of key to value; a value may itself be a mapping
  whose keys act as columns (``"1234": {code: WH-RTM, gln: "8719946000013"}``).

Keys are strings: a lookup turns its input into a string first (``1234`` → ``"1234"``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.mappings.files import FileError, as_json, read_yaml

DEFAULT_COLUMN = "value"


@dataclass(frozen=True)
class Table:
    """One loaded table: rows by key; each row maps column name to value."""

    path: Path
    columns: tuple[str, ...]
    rows: dict[str, dict[str, Any]]
    whole_values: dict[str, Any]  # YAML: the value as written (a scalar or a mapping)

    def column(self, name: str | None) -> dict[str, Any]:
        """Key → value of one column (``None``: the ``value`` column, else the first one).

        Raises :class:`KeyError` for a column the table does not have.
        """
        if name is None:
            if self.whole_values:
                return dict(self.whole_values)
            name = DEFAULT_COLUMN if DEFAULT_COLUMN in self.columns else self.columns[0]
        if name not in self.columns:
            raise KeyError(name)
        return {key: row.get(name) for key, row in self.rows.items()}


def key_text(value: Any) -> str:
    """How a table key is written: strings as they are, numbers in their shortest form."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"a table key is a string or a number, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    raise ValueError(f"a table key is a string or a number, not {type(value).__name__}")


def load_table(path: Path) -> Table:
    """Read a CSV or YAML table; raises :class:`FileError` naming the file and the row."""
    if path.suffix == ".csv":
        return _load_csv(path)
    if path.suffix in (".yaml", ".yml"):
        return _load_yaml(path)
    raise FileError(f"{path}: a table is a .csv, .yaml or .yml file")


def _load_csv(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"{path}: cannot read: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or len(header) < 2 or any(not cell.strip() for cell in header):
        raise FileError(f"{path}: the first row names the columns: key and at least one value")
    names = [cell.strip() for cell in header]
    if len(set(names)) != len(names):
        raise FileError(f"{path}: column names repeat: {', '.join(names)}")
    rows: dict[str, dict[str, Any]] = {}
    for number, cells in enumerate(reader, start=2):
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != len(names):
            raise FileError(f"{path}: row {number} has {len(cells)} cells, the header {len(names)}")
        key = cells[0].strip()
        if key in rows:
            raise FileError(f"{path}: row {number}: key {key!r} appears twice")
        rows[key] = {
            name: (cell.strip() or None) for name, cell in zip(names[1:], cells[1:], strict=True)
        }
    return Table(path, tuple(names[1:]), rows, {})


def _load_yaml(path: Path) -> Table:
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise FileError(f"{path}: a YAML table is a mapping of key to value")
    document = as_json({_key_text(path, k): v for k, v in document.items()}, str(path))
    rows: dict[str, dict[str, Any]] = {}
    columns: dict[str, None] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            rows[key] = value
            columns.update(dict.fromkeys(value))
        else:
            rows[key] = {DEFAULT_COLUMN: value}
            columns[DEFAULT_COLUMN] = None
    return Table(path, tuple(columns), rows, document)


def _key_text(path: Path, key: Any) -> str:
    try:
        return key_text(key)
    except ValueError as exc:
        raise FileError(f"{path}: {exc}") from None
