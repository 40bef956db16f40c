"""The ``csv`` connector: systems that exchange flat files through directories.

Many warehouse systems and ERPs integrate by dropping CSV exports in a folder and picking
up files from another. Inbound, the connector polls the *inbox*: each file becomes records
(one per row, or one per ``group_by`` value; :mod:`connectors.csv.reading`) that a mapping
turns into canonical messages; once the hub stored them, the file moves to ``processed/``
(every record landed) or ``failed/`` (something became a dead letter). Outbound, each
delivery's mapped payload becomes one CSV file in the *outbox*
(:mod:`connectors.csv.writing`). Files are read and written in a worker thread: a large
file never stalls the hub's event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.csv.config import CsvConfig
from connectors.csv.inbox import FAILED, PROCESSED, FileKey, InboxFile, file_away, listing, select
from connectors.csv.reading import (
    RAW_TEXT_LIMIT,
    content_digest,
    read_records,
    too_large,
    unreadable_record,
)
from connectors.csv.writing import OutboxOccupied, PayloadError, deliver, file_name, render
from connectors.sdk import (
    CheckResult,
    Connector,
    Manifest,
    NativeRecord,
    OutboundMessage,
    PollResult,
    RecordFate,
    SendOutcome,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadFile:
    """One file of a polled page: which records are its, to file it away after."""

    file: InboxFile
    digest: str
    records: int


class CsvConnector(Connector[CsvConfig]):
    """CSV files in an inbox become records; messages become CSV files in an outbox."""

    manifest = Manifest(
        slug="csv",
        name="CSV files",
        version="1.0.0",
        kinds=("wms", "erp", "generic"),
        sends=("*",),
        polls=True,
        mappings={"csv/wms-receipt": "csv-wms-receipt"},
        description="Flat files through directories: polls an inbox for CSV exports (a row "
        "or a group of rows per record, mapped to any contract) and writes each routed "
        "message, mapped to rows, as a CSV file into an outbox.",
    )
    config_model = CsvConfig
    harness = "connectors.csv.testing:CsvHarness"

    @property
    def inbox(self) -> Path | None:
        return Path(self.config.inbox) if self.config.inbox else None

    @property
    def outbox(self) -> Path | None:
        return Path(self.config.outbox) if self.config.outbox else None

    # -- check ----------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        problems, found = await asyncio.to_thread(self._inspect)
        latency = round((time.perf_counter() - started) * 1000, 1)
        if problems:
            return CheckResult(ok=False, detail="; ".join(problems), latency_ms=latency)
        return CheckResult(ok=True, detail="; ".join(found), latency_ms=latency)

    def _inspect(self) -> tuple[list[str], list[str]]:
        problems: list[str] = []
        found: list[str] = []
        for role, directory in (("inbox", self.inbox), ("outbox", self.outbox)):
            if directory is None:
                continue
            if not directory.is_dir():
                problems.append(f"the {role} {directory} is not a directory")
                continue
            probe = directory / f".crossdock-check-{uuid.uuid4().hex}"
            try:
                probe.write_bytes(b"")
                probe.unlink()
            except OSError as exc:
                problems.append(f"the {role} {directory} is not writable: {exc.strerror}")
                continue
            if role == "inbox":
                waiting = len(listing(directory, self.config.pattern))
                found.append(f"inbox {directory}: {waiting} file(s) waiting")
            else:
                found.append(f"outbox {directory}: writable")
        return problems, found

    # -- send -----------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Write the route's mapped payload as one CSV file into the outbox."""
        outbox = self.outbox
        if outbox is None:
            return SendOutcome.rejected("this csv connection has no outbox: it only reads")
        if message.payload is None:
            return SendOutcome.mapping_error(
                "the csv connector writes the route's mapped payload: give the route a "
                "mapping to rows (like csv-pick-list)"
            )
        try:
            content = render(message.payload, self.config)
        except PayloadError as exc:
            return SendOutcome.mapping_error(f"the payload is not a CSV file: {exc}")
        name = file_name(self.config.file_name, message)
        try:
            await asyncio.to_thread(deliver, outbox, name, content)
        except OutboxOccupied:
            return SendOutcome.conflict(
                f"the outbox still holds another {name}; writing once it is collected"
            )
        except OSError as exc:
            # An unmounted share, a full disk: the directory may well come back.
            return SendOutcome.from_exception(exc)
        return SendOutcome.ok()

    # -- poll -----------------------------------------------------------------------------

    async def poll(self, cursor: str | None) -> PollResult:
        """The next files of the inbox, each read whole into records."""
        inbox = self.inbox
        if inbox is None:
            return PollResult([], cursor)
        after = FileKey.parse(cursor) if cursor is not None else None
        return await asyncio.to_thread(self._read_page, inbox, after)

    def _read_page(self, inbox: Path, after: FileKey | None) -> PollResult:
        selection = select(
            listing(inbox, self.config.pattern),
            after,
            now_ns=time.time_ns(),
            settle_ns=int(self.config.settle_seconds * 1e9),
            retry_ns=int(self.config.retry_after_seconds * 1e9),
            limit=self.config.page_size,
        )
        records: list[NativeRecord] = []
        read: list[ReadFile] = []
        newest = after
        for file in selection.files:
            path = inbox / file.name
            try:
                if file.size > self.config.max_file_bytes:
                    # Refused unread: only its start is kept, for people to see what it is.
                    with path.open("rb") as stream:
                        digest = hashlib.file_digest(stream, "sha256").hexdigest()[:16]
                        stream.seek(0)
                        start = stream.read(RAW_TEXT_LIMIT)
                    found = [
                        unreadable_record(
                            file.name, digest, start, too_large(file.size), size=file.size
                        )
                    ]
                else:
                    content = path.read_bytes()
                    digest = content_digest(content)
                    found = read_records(file.name, content, self.config)
            except FileNotFoundError:
                continue  # someone else took it
            except OSError as exc:  # no permission to read it, say: a person must look
                digest = f"unread-{file.key.ctime_ns}"
                found = [unreadable_record(file.name, digest, b"", f"cannot read: {exc}")]
            if not file.unchanged(path):
                continue  # written while we read: it comes again, complete, next time
            records.extend(found)
            read.append(ReadFile(file, digest, len(found)))
            newest = file.key if newest is None or file.key > newest else newest
        next_cursor = newest.dump() if newest is not None else None
        return PollResult(records, next_cursor, selection.more, context=read)

    async def committed(
        self, records: Sequence[NativeRecord], fates: Sequence[RecordFate], context: Any
    ) -> None:
        """Move each file read to ``processed/`` if all its records landed, else ``failed/``."""
        inbox = self.inbox
        if inbox is None or not isinstance(context, PollResult):
            return
        files = context.context
        if not isinstance(files, list):
            return
        await asyncio.to_thread(self._file_away, inbox, files, list(fates))

    def _file_away(self, inbox: Path, files: list[ReadFile], fates: list[RecordFate]) -> None:
        position = 0
        failures: list[str] = []
        for read in files:
            mine = fates[position : position + read.records]
            position += read.records
            folder = PROCESSED if all(f != "dead_lettered" for f in mine) else FAILED
            try:
                moved = file_away(inbox, read.file, folder, read.digest)
            except OSError as exc:
                failures.append(f"{read.file.name}: {exc}")
                continue
            if moved is None:
                logger.warning(
                    "an inbox file changed after it was read; it will be read again",
                    extra={"file": read.file.name},
                )
        if failures:
            # The records are stored; the files come again after retry_after_seconds.
            raise OSError(f"could not move {len(failures)} file(s): {'; '.join(failures)}"[:500])
