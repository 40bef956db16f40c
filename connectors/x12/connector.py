"""The ``x12`` connector: X12 EDI with one trading partner through an inbox and an outbox.

One connection is one trading partner (a supplier portal, a 3PL warehouse, a carrier).
An SFTP or AS2 gateway (which handles transport security) delivers the partner's files
into the inbox and sends whatever appears in the outbox.

- **Out** (``send``): the route's mapping turns a canonical message into a payload —
  ``po_release.released`` → 850, ``transfer.requested`` → 943, ``reservation.released`` →
  940 — which is validated, written as one interchange with never-repeating control
  numbers, read back to prove it, and put in the outbox atomically. A retried delivery
  rewrites the same interchange (same control numbers and dates) instead of drawing new
  ones. Each interchange then waits for the partner's 997; ``check()`` fails when one is
  overdue or rejected.
- **In** (``poll``): inbox files, oldest first, become records ``x12/855``, ``x12/856``,
  ``x12/861``, ``x12/870``, ``x12/944``, ``x12/945``, ``x12/214`` (mapped to canonical
  messages by the files in ``mappings/x12/``), and ``x12/unreadable`` for what cannot be
  read. The partner's 997s are reconciled here, not passed on. Once the hub has stored a
  file's records (``committed``), the connector writes the 997 it owes for it and moves
  the file to ``processed/`` (every record accepted) or ``failed/``.
- **Pushed** (``verify``/``parse``): a gateway that can POST may deliver an interchange
  to the connection's inbound endpoint instead, signed with Standard Webhooks headers
  and ``push_secret``; it is read the same way and its 997 goes to the outbox.

See docs/connectors/x12.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from standardwebhooks.webhooks import Webhook

from connectors.sdk import (
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorState,
    InboundRequest,
    Manifest,
    NativeRecord,
    OutboundMessage,
    PollResult,
    RecordFate,
    SendOutcome,
    SequenceExhausted,
    VerificationFailed,
    Verified,
    verify_standard_webhook,
)
from connectors.x12 import acknowledgments
from connectors.x12.envelope import parse_interchange
from connectors.x12.inbound import InboundText, OwedAcknowledgment, Partner, decode, read_inbound
from connectors.x12.mailbox import (
    Cursor,
    InboxFile,
    list_inbox,
    next_page,
    settle,
    write_atomically,
)
from connectors.x12.segments import Separators, X12SyntaxError, split_interchanges
from connectors.x12.sets import PAYLOADS, READERS, outbound_interchange
from connectors.x12.sets.functional_ack import acknowledgment_interchange
from connectors.x12.sets.loops import ReadContext
from connectors.x12.sets.payloads import document
from connectors.x12.writer import (
    EnvelopeSettings,
    Party,
    X12Writer,
)

logger = logging.getLogger(__name__)

CONTROL_LIMIT = 999_999_999  # nine digits: ISA13, and what GS06 and ST02 allow
_ID = r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,14}$"

MAPPINGS = {
    "x12/214": "x12-214-to-transfer-in-transit",
    "x12/855": "x12-855-to-po-release-acknowledged",
    "x12/856": "x12-856-to-receipt-advised",
    "x12/861": "x12-861-to-receipt-received",
    "x12/870": "x12-870-to-backorder-updated",
    "x12/944": "x12-944-to-transfer-received",
    "x12/945": "x12-945-to-transfer-shipped",
}
"""The default mapping of each record kind (files in ``mappings/x12/``)."""


class X12Config(ConnectorConfig):
    """One trading partner: identities, version, mailbox folders, acknowledgement window."""

    our_qualifier: str = Field(
        default="ZZ",
        pattern=r"^[A-Z0-9]{2}$",
        description="ISA05 qualifier of our id (ZZ, 01, 08, 12, ...).",
    )
    our_id: str = Field(
        pattern=_ID, description="Our interchange id (ISA06 out, ISA08 in), up to 15 characters."
    )
    partner_qualifier: str = Field(
        default="ZZ", pattern=r"^[A-Z0-9]{2}$", description="The partner's ISA qualifier."
    )
    partner_id: str = Field(
        pattern=_ID, description="The partner's interchange id, up to 15 characters."
    )
    our_application_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9 ._-]{2,15}$",
        description="GS02 we send; default: our_id.",
    )
    partner_application_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9 ._-]{2,15}$",
        description="GS03 we send; default: partner_id.",
    )
    version: str = Field(
        default="004010",
        pattern=r"^00[0-9]{4}[A-Z0-9]{0,6}$",
        description="GS08 of what we write (004010, 005010, 004010VICS); ISA12 is its first five "
        "digits. Whatever version the partner sends is read.",
    )
    usage: Literal["P", "T"] = Field(default="P", description="ISA15: P production, T test.")
    inbox: str = Field(
        min_length=1, description="Folder the gateway drops the partner's files into."
    )
    outbox: str = Field(min_length=1, description="Folder the gateway sends files from.")
    processed_dir: str | None = Field(default=None, description="Default: <inbox>/processed.")
    failed_dir: str | None = Field(default=None, description="Default: <inbox>/failed.")
    ack_window_minutes: float = Field(
        default=240, gt=0, le=43_200, description="How long the partner has to send its 997."
    )
    page_size: int = Field(default=20, ge=1, le=1000, description="Inbox files per poll page.")
    settle_seconds: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description="Leave inbox files younger than this (still being written).",
    )
    redeliver_after_seconds: float = Field(
        default=600.0,
        ge=1,
        le=86_400,
        description="Hand over again a file still in the inbox this long after its page was "
        "stored.",
    )
    timezone: str = Field(
        default="UTC", description="IANA zone of the partner's X12 dates and times."
    )
    element_separator: str = Field(default="*", min_length=1, max_length=1)
    component_separator: str = Field(default=">", min_length=1, max_length=1)
    segment_terminator: str = Field(default="~", min_length=1, max_length=1)
    repetition_separator: str = Field(
        default="^", min_length=1, max_length=1, description="ISA11 from version 00402 on."
    )
    line_breaks: bool = Field(default=True, description="Write a line break after each segment.")
    ta1_requested: bool = Field(default=False, description="ISA14: ask the partner for TA1s.")
    push_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks secret (whsec_...) of a gateway that POSTs interchanges to "
        "the inbound endpoint; without it, pushes are refused and only the inbox is read.",
    )
    push_tolerance_seconds: int = Field(default=300, ge=1, le=3600)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _distinct_separators(self) -> X12Config:
        try:
            self.separators()
        except X12SyntaxError as exc:
            raise ValueError(exc.message) from None
        return self

    def separators(self) -> Separators:
        return Separators(
            self.element_separator,
            self.component_separator,
            self.segment_terminator,
            self.repetition_separator,
        )


@dataclass(frozen=True)
class InboxBatch:
    """One inbox file of a poll page, and where its records are in the page."""

    file: InboxFile
    read: InboundText
    start: int


@dataclass(frozen=True)
class InboxPage:
    """What ``poll`` hands back to ``committed`` through ``PollResult.context``."""

    batches: Sequence[InboxBatch]


class X12Connector(Connector[X12Config]):
    manifest = Manifest(
        slug="x12",
        name="X12 EDI",
        version="1.0.0",
        kinds=("supplier", "wms", "tms"),
        sends=("po_release.released", "transfer.requested", "reservation.released"),
        receives=(
            "po_release.acknowledged",
            "receipt.advised",
            "receipt.received",
            "transfer.shipped",
            "transfer.in_transit",
            "transfer.received",
            "backorder.updated",
        ),
        polls=True,
        mappings=MAPPINGS,
        description="X12 EDI with one trading partner through an SFTP/AS2 gateway's inbox and "
        "outbox: 850, 940, 943 out; 855, 856, 861, 870, 944, 945, 214 in; 997s both ways.",
    )
    config_model = X12Config
    harness = "connectors.x12.testing:X12Harness"

    def __init__(
        self, config: X12Config, *, timeout: float = 10.0, state: ConnectorState | None = None
    ) -> None:
        super().__init__(config, timeout=timeout, state=state)
        self.zone = ZoneInfo(config.timezone)
        self.inbox = Path(config.inbox)
        self.outbox = Path(config.outbox)
        self.processed = (
            Path(config.processed_dir) if config.processed_dir else self.inbox / "processed"
        )
        self.failed = Path(config.failed_dir) if config.failed_dir else self.inbox / "failed"
        self.envelope = EnvelopeSettings(
            sender=Party(
                config.our_qualifier, config.our_id, config.our_application_code or config.our_id
            ),
            receiver=Party(
                config.partner_qualifier,
                config.partner_id,
                config.partner_application_code or config.partner_id,
            ),
            version=config.version,
            usage=config.usage,
            separators=config.separators(),
            line_breaks=config.line_breaks,
            ta1_requested=config.ta1_requested,
        )
        self.writer = X12Writer(self.envelope)
        self.partner = Partner(
            config.partner_qualifier,
            config.partner_id,
            config.our_qualifier,
            config.our_id,
            config.usage,
        )
        self._verifier = (
            Webhook(config.push_secret.get_secret_value()) if config.push_secret else None
        )

    # -- health ------------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        problems = [
            problem
            for label, folder in (("inbox", self.inbox), ("outbox", self.outbox))
            if (problem := await asyncio.to_thread(_folder_problem, label, folder))
        ]
        late = await acknowledgments.overdue(self.state)
        rejected = await acknowledgments.rejections(self.state)
        waiting = await acknowledgments.awaiting(self.state)
        if late:
            problems.append(
                f"{len(late)} interchange(s) have no 997 within "
                f"{self.config.ack_window_minutes} min: "
                + ", ".join(
                    f"{e['set']} {e.get('subject') or ''} ISA13 {e['interchange_control']}"
                    for e in late[:5]
                )
            )
        if rejected:
            problems.append(
                f"{len(rejected)} interchange(s) rejected by the partner's 997: "
                + ", ".join(
                    f"{e['set']} {e.get('subject') or ''} ({e.get('status')})" for e in rejected[:5]
                )
            )
        detail = (
            "; ".join(problems)
            if problems
            else f"inbox and outbox ready; {waiting} interchange(s) awaiting a 997"
        )
        return CheckResult(
            ok=not problems,
            detail=detail,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            info={
                "inbox": str(self.inbox),
                "outbox": str(self.outbox),
                "awaiting_997": waiting,
                "overdue_997": late,
                "rejected_997": rejected,
            },
        )

    # -- out ---------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendOutcome:
        if message.payload is None:
            return SendOutcome.mapping_error(
                "the x12 connector writes a route's mapped payload: give the route a mapping "
                "(x12-850-from-po-release-released, x12-943-from-transfer-requested, "
                "x12-940-from-reservation-released)"
            )
        try:
            payload = PAYLOADS.validate_python(message.payload)
        except ValidationError as exc:
            return SendOutcome.mapping_error(
                f"the mapped payload is not a valid X12 payload: {_summary(exc)}"
            )
        set_id = payload.transaction_set
        try:
            numbers = await self._numbers_for(f"sent:{message.delivery_id}", 1)
        except SequenceExhausted as exc:
            return SendOutcome.rejected(f"control numbers are used up: {exc}")
        icn, gcn, st = numbers["icn"], numbers["gcn"], numbers["st"][0]
        try:
            text = outbound_interchange(
                self.writer,
                payload,
                interchange=icn,
                group=gcn,
                set_control=st,
                when=datetime.fromisoformat(numbers["at"]),
            )
        except ValueError as exc:
            return SendOutcome.mapping_error(str(exc))
        problem = self._reads_back(text, document(payload))
        if problem is not None:
            return SendOutcome.rejected(
                f"the written {set_id} does not read back as written: {problem}"
            )
        name = f"{set_id}-{icn:09d}.x12"
        try:
            await asyncio.to_thread(write_atomically, self.outbox, name, text.encode())
        except OSError as exc:
            return SendOutcome.from_exception(exc)
        subject = message.event.get("subject")
        await acknowledgments.expect_997(
            self.state,
            interchange_control=icn,
            group_control=gcn,
            set_control=st,
            set_id=set_id,
            subject=str(subject) if subject is not None else None,
            file=name,
            sent_at=datetime.now(UTC),
            window=timedelta(minutes=self.config.ack_window_minutes),
        )
        return SendOutcome.ok()

    async def _numbers_for(self, key: str, sets: int) -> dict[str, Any]:
        """Control numbers (and the time) for what ``key`` names: drawn once, then reused.

        Stored before anything is written, so a retry after any failure rewrites the same
        interchange. A number drawn for an attempt that then failed for good is skipped:
        X12 allows gaps, never repeats.
        """
        numbers: dict[str, Any] | None = await self.state.get(key)
        if numbers is None:
            numbers = {
                "icn": await self.state.next_number("isa", limit=CONTROL_LIMIT),
                "gcn": await self.state.next_number("gs", limit=CONTROL_LIMIT) if sets else None,
                "st": [
                    await self.state.next_number("st", limit=CONTROL_LIMIT) for _ in range(sets)
                ],
                "at": datetime.now(self.zone).replace(second=0, microsecond=0).isoformat(),
            }
            await self.state.put(key, numbers)
        return numbers

    def _reads_back(self, text: str, expected: dict[str, Any] | None) -> str | None:
        """Parse a written interchange again: envelope, counts, control numbers, content."""
        try:
            [(chunk, separators)] = list(split_interchanges(text))
            interchange = parse_interchange(chunk, separators)
        except (X12SyntaxError, ValueError) as exc:
            return str(exc)
        problems = [str(p) for p in interchange.problems]
        for group in interchange.groups:
            problems += [f"GS {group.control}: AK905 {code}" for code in group.codes]
            for transaction in group.sets:
                problems += [
                    f"ST {transaction.control}: AK502 {code}" for code in transaction.codes
                ]
                if expected is not None and not problems:
                    read = READERS[transaction.set_id](
                        transaction, ReadContext(self.zone, separators.component)
                    )
                    if read != expected:
                        problems.append("the content read back differs from the payload")
        return "; ".join(problems) or None

    # -- in: the inbox -----------------------------------------------------------------------

    async def poll(self, cursor: str | None) -> PollResult:
        now = time.time()
        files = await asyncio.to_thread(list_inbox, self.inbox, self.config.settle_seconds, now)
        page, more, after = next_page(
            files,
            Cursor.decode(cursor),
            self.config.page_size,
            now,
            self.config.redeliver_after_seconds,
        )
        records: list[NativeRecord] = []
        batches: list[InboxBatch] = []
        for found in page:
            try:
                raw = await asyncio.to_thread(found.path.read_bytes)
            except FileNotFoundError:
                after.held.pop(found.name, None)  # taken away meanwhile: nothing to read
                continue
            read = read_inbound(decode(raw), found.name, self.partner, self.zone)
            batches.append(InboxBatch(found, read, len(records)))
            records.extend(read.records)
        return PollResult(records, after.encode(), more, InboxPage(batches))

    async def committed(
        self, records: Sequence[NativeRecord], fates: Sequence[RecordFate], context: Any
    ) -> None:
        if isinstance(context, InboundRequest):
            read = read_inbound(decode(context.body), _push_name(context), self.partner, self.zone)
            await self._acknowledge(read)
            await self._reconcile(read)
            return
        page = context.context if isinstance(context, PollResult) else None
        if not isinstance(page, InboxPage):
            return
        for batch in page.batches:
            own = fates[batch.start : batch.start + len(batch.read.records)]
            try:
                await self._settle(batch, own)
            except Exception:
                # One file's trouble must not keep the others of the page from settling.
                logger.exception("settling an inbox file failed", extra={"file": batch.file.name})

    async def _settle(self, batch: InboxBatch, fates: Sequence[RecordFate]) -> None:
        acknowledged = await self._acknowledge(batch.read)
        await self._reconcile(batch.read)
        if not acknowledged:
            # Leave the file in the inbox: it is handed over again later, and its 997 with it.
            return
        accepted = all(fate in ("accepted", "duplicate") for fate in fates)
        folder = self.processed if accepted else self.failed
        await asyncio.to_thread(settle, batch.file.path, folder)

    async def _acknowledge(self, read: InboundText) -> bool:
        """Write every 997/TA1 owed for what was read; False if one could not be written."""
        written = True
        for owed in read.owed:
            if not owed.owed:
                continue
            try:
                await self._write_acknowledgment(owed)
            except (OSError, SequenceExhausted, ValueError):
                logger.exception(
                    "writing an acknowledgement failed",
                    extra={"file": read.name, "interchange": owed.interchange.control},
                )
                written = False
        return written

    async def _write_acknowledgment(self, owed: OwedAcknowledgment) -> None:
        interchange = owed.interchange
        key = f"ack:{interchange.sender_id}:{interchange.control}:{owed.digest[:16]}"
        numbers = await self._numbers_for(key, len(owed.groups))
        text = acknowledgment_interchange(
            self.writer,
            interchange,
            owed.groups,
            ta1_owed=owed.ta1,
            control=numbers["icn"],
            group_control=numbers["gcn"],
            set_controls=numbers["st"],
            when=datetime.fromisoformat(numbers["at"]),
        )
        name = f"{'997' if owed.groups else 'TA1'}-{numbers['icn']:09d}.x12"
        await asyncio.to_thread(write_atomically, self.outbox, name, text.encode())

    async def _reconcile(self, read: InboundText) -> None:
        now = datetime.now(UTC)
        for ack in read.partner_997s:
            outcome = await acknowledgments.reconcile_997(self.state, ack, now)
            logger.info(
                "partner 997 reconciled",
                extra={"group_control": ack.get("group_control"), "outcome": outcome},
            )
        for ta1 in read.partner_ta1s:
            await acknowledgments.reconcile_ta1(self.state, ta1, now)

    # -- in: pushed by a gateway -------------------------------------------------------------

    def verify(self, request: InboundRequest) -> Verified:
        if self._verifier is None:
            raise VerificationFailed(
                "this connection has no push_secret: pushes are off, the inbox is read"
            )
        return verify_standard_webhook(request, self._verifier, self.config.push_tolerance_seconds)

    async def parse(self, request: InboundRequest) -> Sequence[NativeRecord]:
        return read_inbound(
            decode(request.body), _push_name(request), self.partner, self.zone
        ).records


def _push_name(request: InboundRequest) -> str:
    return f"push:{request.header('webhook-id') or 'unsigned'}"


def _folder_problem(label: str, folder: Path) -> str | None:
    if not folder.is_dir():
        return f"the {label} {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the {label} {folder} is not writable"
    return None


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = "/".join(
            str(step) for step in error["loc"] if not str(step).startswith("function-")
        )
        parts.append(f"/{where}: {error['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more
