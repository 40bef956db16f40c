"""Outbound CSV files: the route's mapped payload as rows, written into the outbox whole.

The payload (what the route's mapping made of the message) is one of:

- a list of row objects: ``[{"sku": "A-1", "qty": 12.5}, ...]``;
- an object with a ``rows`` list, and optionally ``columns`` (the column order; a mapping
  writes it as a literal): ``{"columns": ["sku", "qty"], "rows": [...]}``;
- any other object: one row.

Cells are exact: text as is, integers in full, a float as the shortest decimal that is
exactly it (``12.5``, ``0.1``, ``10000000000000000``; never ``1e+16``), booleans as
``true``/``false``, ``null`` as an empty cell. A row holding a list or an object, or a
column the declared columns lack, is a mapping error: it would not fit a flat file.

A file appears in the outbox whole or not at all: it is written under a hidden temporary
name, flushed to disk, then linked to its name, which fails if the name is taken. Taken by
the same bytes (a retry of a delivery already written), that is success; by other bytes
(another message whose template gave the same name, not yet collected), the delivery waits
and tries again rather than overwrite it.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.csv.config import CsvConfig
from connectors.sdk import OutboundMessage

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PayloadError(Exception):
    """The payload cannot be a CSV file."""


class OutboxOccupied(Exception):
    """The outbox holds a different file of the same name, not yet collected."""


def table_of(payload: Any, configured: Sequence[str]) -> tuple[list[str], list[Mapping[str, Any]]]:
    """The columns and rows of ``payload`` (see the module's docstring)."""
    declared: list[str] = list(configured)
    if isinstance(payload, list):
        rows: Any = payload
    elif isinstance(payload, dict) and isinstance(payload.get("rows"), list):
        rows = payload["rows"]
        columns = payload.get("columns")
        if columns is not None:
            if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
                raise PayloadError("columns must be a list of column names")
            declared = declared or columns
    elif isinstance(payload, dict):
        rows = [payload]
    else:
        raise PayloadError(f"a payload of rows, not {type(payload).__name__}")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise PayloadError(f"row {number} is a {type(row).__name__}, not an object")
    if not declared:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        declared = list(seen)
    if not declared:
        raise PayloadError("no rows and no columns: nothing to write")
    known = set(declared)
    for number, row in enumerate(rows, start=1):
        extra = [key for key in row if key not in known]
        if extra:
            raise PayloadError(f"row {number} has {', '.join(extra)}, not among the columns")
    return declared, rows


def cell(value: Any) -> str:
    """One value as CSV text, exactly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PayloadError(f"{value} is not a number a file can hold")
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    raise PayloadError(f"a {type(value).__name__} does not fit in a cell")


def render(payload: Any, config: CsvConfig) -> bytes:
    """The file's bytes: header row (unless ``header: false``), then one line per row."""
    columns, rows = table_of(payload, config.output_columns)
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=config.delimiter,
        quotechar=config.quotechar,
        lineterminator=config.newline,
        quoting=csv.QUOTE_MINIMAL,
    )
    if config.header:
        writer.writerow(columns)
    for number, row in enumerate(rows, start=1):
        try:
            writer.writerow([cell(row.get(column)) for column in columns])
        except PayloadError as exc:
            raise PayloadError(f"row {number}: {exc}") from None
    try:
        return buffer.getvalue().encode(config.encoding)
    except UnicodeEncodeError as exc:
        raise PayloadError(
            f"{exc.object[exc.start : exc.end]!r} cannot be written in {config.encoding}"
        ) from None


def file_name(template: str, message: OutboundMessage) -> str:
    """The outbound file's name for ``message``: the same on every attempt."""
    values: dict[str, Any] = {
        "message_key": message.message_key,
        "delivery_id": message.delivery_id,
        "route": message.route,
        "type": message.event.get("type", ""),
        "subject": message.event.get("subject", ""),
        "event_id": message.event.get("id", ""),
    }
    safe = {k: v if isinstance(v, int) else _UNSAFE.sub("_", str(v)) for k, v in values.items()}
    name = template.format(**safe)
    return name if not name.startswith(".") else "_" + name[1:]


def deliver(outbox: Path, name: str, content: bytes) -> bool:
    """Put ``content`` in the outbox as ``name``; ``False`` if it was there already.

    Raises :class:`OutboxOccupied` when the name holds other bytes, ``OSError`` when the
    outbox cannot be written.
    """
    final = outbox / name
    temporary = outbox / f".{name}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "xb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    try:
        try:
            os.link(temporary, final)  # atomic, and never over an existing file
        except FileExistsError:
            if _holds(final, content):
                return False
            raise OutboxOccupied(name) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # No hard links here (some network shares): check, then rename over.
            if final.exists():
                if _holds(final, content):
                    return False
                raise OutboxOccupied(name) from None
            os.replace(temporary, final)
        _sync_directory(outbox)
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _holds(path: Path, content: bytes) -> bool:
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except FileNotFoundError:
        return False


def _sync_directory(directory: Path) -> None:
    """Make the new name durable (POSIX); not every system can open a directory."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
