"""CSV files into native records: one per row, or one per group of rows.

Every cell stays text, exactly as written (``"12.50"`` stays ``"12.50"``): the mapping
decides what is a number. A record says where it came from::

    one row:    {"file": "receipts.csv", "digest": "7022244abf962ab3", "row": 2,
                 "values": {"sku": "A-1", "qty": "12.50"}}
    one group:  {"file": "receipts.csv", "digest": "7022244abf962ab3", "group": "RCV-1",
                 "rows": [2, 3], "values": {...the group's first row...},
                 "lines": [{"row": 2, "values": {...}}, {"row": 3, "values": {...}}]}

``row`` is the line of the file the row starts on (the header is line 1). ``digest``
identifies the file's content (the start of its SHA-256). A record's id is the digest and
its row or group, so the same file read twice gives the same records, which the hub keeps
once; a mapping that sets the message id builds it the same way.

A file that cannot be read as the connection's CSV (wrong encoding, broken quoting, rows of
the wrong width, a missing ``group_by`` column) becomes one record of kind
:data:`UNREADABLE` with the reason and the raw text: no mapping takes it, so the hub keeps
it as an inbound dead letter and the file goes to ``failed/``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from typing import Any

from connectors.csv.config import CsvConfig
from connectors.sdk import NativeRecord

UNREADABLE = "csv/unreadable"
RAW_TEXT_LIMIT = 1_000_000  # of an unreadable file, kept in its dead letter


class Unreadable(Exception):
    """The file is not CSV as the connection describes it."""


def content_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def too_large(size: int) -> str:
    return f"the file has {size} bytes, more than max_file_bytes"


def read_records(name: str, content: bytes, config: CsvConfig) -> list[NativeRecord]:
    """The records of one file's ``content``; an unreadable file is one unreadable record."""
    digest = content_digest(content)
    try:
        if len(content) > config.max_file_bytes:
            raise Unreadable(too_large(len(content)))
        rows = parse_rows(decode(content, config.encoding), config)
        return build_records(name, digest, rows, config)
    except Unreadable as exc:
        return [unreadable_record(name, digest, content, str(exc))]


def unreadable_record(
    name: str, digest: str, content: bytes, error: str, size: int | None = None
) -> NativeRecord:
    """The record of a file that cannot be read: why, and its start as text, for people.

    ``content`` may be the whole file or its start; ``size`` is the file's, when it is not
    ``len(content)``.
    """
    size = len(content) if size is None else size
    return NativeRecord(
        UNREADABLE,
        {
            "file": name,
            "digest": digest,
            "error": error,
            "size": size,
            "text": content[:RAW_TEXT_LIMIT].decode("utf-8", "replace"),
            "truncated": size > RAW_TEXT_LIMIT,
        },
        f"{digest}:unreadable",
    )


def decode(content: bytes, encoding: str) -> str:
    """The text of a file; a UTF-8 file may start with a byte order mark (spreadsheets')."""
    reading = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        return content.decode(reading)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not {encoding} text: byte {exc.start} cannot be decoded") from None


def parse_rows(text: str, config: CsvConfig) -> list[tuple[int, dict[str, str]]]:
    """The data rows as ``(line, {column: text})``; blank lines are skipped."""
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=config.delimiter,
        quotechar=config.quotechar,
        strict=True,
    )
    columns: list[str] | None = None if config.header else list(config.column_names)
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells or cells == [""]:
                continue
            if columns is None:
                columns = _header(cells, start)
                continue
            if len(cells) != len(columns):
                raise Unreadable(
                    f"line {start} has {len(cells)} cells where the header has {len(columns)}"
                )
            rows.append((start, {c: v for c, v in zip(columns, cells, strict=True) if c}))
    except csv.Error as exc:
        raise Unreadable(f"line {reader.line_num}: {exc}") from None
    return rows


def _header(cells: list[str], line: int) -> list[str]:
    """Column names; an unnamed column (a trailing delimiter, say) is ignored."""
    names = [cell.strip() for cell in cells]
    named = [name for name in names if name]
    if not named:
        raise Unreadable(f"line {line}: the header names no column")
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise Unreadable(f"line {line}: the header names {', '.join(duplicates)} twice")
    return names


def build_records(
    name: str, digest: str, rows: list[tuple[int, dict[str, str]]], config: CsvConfig
) -> list[NativeRecord]:
    kind = config.record_kind
    if config.group_by is None:
        return [
            NativeRecord(
                kind,
                {"file": name, "digest": digest, "row": line, "values": values},
                f"{digest}:{line}",
            )
            for line, values in rows
        ]
    column = config.group_by
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, values in rows:
        if column not in values:
            raise Unreadable(f"no column {column!r} to group rows by")
        key = values[column].strip()
        if not key:
            raise Unreadable(f"line {line}: the {column!r} column is empty")
        groups.setdefault(key, []).append((line, values))
    records = []
    for key, members in groups.items():
        data: dict[str, Any] = {
            "file": name,
            "digest": digest,
            "group": key,
            "rows": [line for line, _ in members],
            "values": members[0][1],
            "lines": [{"row": line, "values": values} for line, values in members],
        }
        records.append(NativeRecord(kind, data, f"{digest}:{key}"))
    return records
