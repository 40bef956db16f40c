"""The settings of one CSV connection: its directories and its file format."""

from __future__ import annotations

import codecs
import string
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connectors.sdk import ConnectorConfig

TEMPLATE_FIELDS = ("message_key", "delivery_id", "route", "type", "subject", "event_id")
"""What an outbound file name may contain: ``{message_key}``, ``{delivery_id}``, …"""

_SAMPLE = {
    "message_key": "msg_01J",
    "delivery_id": 1,
    "route": "r",
    "type": "t.e",
    "subject": "s",
    "event_id": "e",
}


class CsvConfig(ConnectorConfig):
    """Where files arrive and leave, and what they look like."""

    inbox: str | None = Field(
        default=None,
        description="Absolute path of the directory polled for files. Files read go to its "
        "`processed/` subdirectory once every record landed, else to `failed/`.",
    )
    outbox: str | None = Field(
        default=None, description="Absolute path of the directory messages are written to."
    )
    pattern: str = Field(
        default="*.csv",
        min_length=1,
        description="Which inbox files to read (a glob, case-insensitive); hidden files never.",
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    encoding: str = Field(
        default="utf-8",
        description="Text encoding of the files (`utf-8`, `cp1252`, `latin-1`, …). A UTF-8 "
        "byte order mark is skipped when reading; `utf-8-sig` also writes one.",
    )
    header: bool = Field(default=True, description="Whether the first row names the columns.")
    column_names: list[str] = Field(
        default_factory=list,
        description="The column names of files without a header row (required then).",
    )
    record_kind: str = Field(
        default="csv/row",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$",
        description="The record kind of inbound rows: it picks their mapping.",
    )
    group_by: str | None = Field(
        default=None,
        min_length=1,
        description="A column whose rows with the same value make one record with a `lines` "
        "list: how a flat export carries a multi-line document (a receipt per receipt number).",
    )
    page_size: int = Field(default=10, ge=1, le=1000, description="Files read per poll page.")
    settle_seconds: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description="Leave files changed more recently than this for the next poll: a writer "
        "may not be done with them.",
    )
    retry_after_seconds: float = Field(
        default=300.0,
        ge=1,
        description="A file read before but still in the inbox after this long (its move "
        "failed, or the hub stopped between storing its records and moving it) is read "
        "again; the hub recognises its records as duplicates.",
    )
    max_file_bytes: int = Field(
        default=50_000_000, ge=1, description="Larger files are not read: they are refused."
    )
    file_name: str = Field(
        default="{type}-{message_key}.csv",
        min_length=1,
        description="Name of each outbound file, from the message: "
        + ", ".join(f"`{{{name}}}`" for name in TEMPLATE_FIELDS)
        + ". Characters other than letters, digits, `.`, `_` and `-` become `_`. The same "
        "message always makes the same name, so a retry never makes a second file.",
    )
    output_columns: list[str] = Field(
        default_factory=list,
        description="Column order of outbound files; empty: the payload's `columns`, else "
        "its keys in the order they first appear.",
    )
    line_terminator: Literal["crlf", "lf"] = Field(
        default="crlf", description="Line ends of outbound files (RFC 4180 says CRLF)."
    )

    @field_validator("inbox", "outbox")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError("give an absolute path: the hub's working directory may change")
        return value

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _printable_character(cls, value: str) -> str:
        if value in "\r\n":
            raise ValueError("a line break cannot delimit or quote")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("file_name")
    @classmethod
    def _template(cls, value: str) -> str:
        if "/" in value or "\\" in value:
            raise ValueError("a file name, not a path: no / or \\")
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"not a template: {exc}") from None
        unknown = sorted(names - set(TEMPLATE_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {', '.join(TEMPLATE_FIELDS)}")
        try:
            value.format(**_SAMPLE)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a template: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CsvConfig:
        if self.inbox is None and self.outbox is None:
            raise ValueError("give an inbox, an outbox or both")
        both = self.inbox is not None and self.outbox is not None
        if both and Path(str(self.inbox)).resolve() == Path(str(self.outbox)).resolve():
            raise ValueError("the inbox and the outbox must differ")
        if not self.header and not self.column_names:
            raise ValueError("files without a header row need column_names")
        if self.header and self.column_names:
            raise ValueError("column_names are for files without a header row")
        if self.delimiter == self.quotechar:
            raise ValueError("the delimiter and the quote character must differ")
        return self

    @property
    def newline(self) -> str:
        return "\r\n" if self.line_terminator == "crlf" else "\n"
