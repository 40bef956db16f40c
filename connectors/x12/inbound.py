"""From an inbound file (or pushed body) to native records, and what we owe the sender.

Each interchange in the text is parsed and checked; then:

- every accepted transaction set becomes one record of kind ``x12/<set>`` (an 870, one
  per item), its data the set's document plus ``x12``: the envelope it came in (sender,
  receiver, control numbers, version, usage, and ``sent_at`` from GS04/GS05). Its id is
  ``<sender>:<ISA13>:<GS06>:<ST02>``: stable, so reading the same interchange again is
  idempotent in the hub. A set the connector has no reader for still becomes a record
  (``{"segments": [...]}``), which the hub dead-letters for want of a mapping;
- whatever cannot be read — a broken envelope, a rejected group, a rejected set, text that
  is not X12 — becomes a record of kind ``x12/unreadable`` with the error and the raw
  text, so the hub keeps it as an inbound dead letter and nothing is dropped;
- the partner's own 997s and TA1s are not records: the connector reconciles them with
  the interchanges it sent.

It also says which acknowledgements are owed: a 997 for every functional group other than
a 997 group, and a TA1 when the sender asked for one or the envelope is broken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from connectors.sdk import NativeRecord
from connectors.x12.elements import SetError, moment_of
from connectors.x12.envelope import (
    EnvelopeProblem,
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchange,
)
from connectors.x12.segments import X12SyntaxError, split_interchanges
from connectors.x12.sets import READERS, SPLITTERS
from connectors.x12.sets.functional_ack import read_ta1
from connectors.x12.sets.loops import ReadContext

UNREADABLE = "x12/unreadable"
KIND_PREFIX = "x12/"
MAX_RAW_CHARACTERS = 262_144
"""Raw text kept in an unreadable record; the whole file stays in ``failed/``."""


@dataclass(frozen=True)
class Partner:
    """Who may send through this connection: the partner's ISA id, ours as receiver."""

    qualifier: str
    id: str
    our_qualifier: str
    our_id: str
    usage: str | None = None
    """ISA15 this connection takes (P production, T test); ``None`` takes either."""


@dataclass
class OwedAcknowledgment:
    """The acknowledgements owed for one received interchange."""

    interchange: Interchange
    digest: str
    """SHA-256 of the interchange's text: with ISA13, the identity of what was received."""
    groups: list[FunctionalGroup] = field(default_factory=list)
    ta1: bool = False

    @property
    def owed(self) -> bool:
        return bool(self.groups) or self.ta1


@dataclass
class InboundText:
    """Everything read from one file or pushed body."""

    name: str
    records: list[NativeRecord] = field(default_factory=list)
    owed: list[OwedAcknowledgment] = field(default_factory=list)
    partner_997s: list[dict[str, Any]] = field(default_factory=list)
    partner_ta1s: list[dict[str, Any]] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """X12 text: UTF-8 (5010's extended character set), else Latin-1 (every byte is a char)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_inbound(text: str, name: str, partner: Partner, zone: tzinfo) -> InboundText:
    """Read every interchange in ``text``; never raises for bad content."""
    result = InboundText(name)
    try:
        for chunk, separators in split_interchanges(text):
            try:
                interchange = parse_interchange(chunk, separators)
            except X12SyntaxError as exc:
                result.records.append(_unreadable(name, chunk, [str(exc)], None, partner))
                continue
            _check_partner(interchange, partner)
            _read_interchange(
                interchange, chunk, result, partner, ReadContext(zone, separators.component)
            )
    except X12SyntaxError as exc:
        result.records.append(_unreadable(name, text, [exc.message], None, partner))
    return result


def _check_partner(interchange: Interchange, partner: Partner) -> None:
    """An interchange from or to someone else came through the wrong mailbox."""
    if not interchange.accepted:
        return
    if (interchange.sender_qualifier, interchange.sender_id) != (partner.qualifier, partner.id):
        interchange.problems.append(
            EnvelopeProblem(
                f"the sender {interchange.sender_qualifier}/{interchange.sender_id} is not this "
                f"connection's partner {partner.qualifier}/{partner.id}",
                "006",
                1,
            )
        )
    if partner.usage is not None and interchange.usage != partner.usage:
        # A test interchange must never become production receipts, nor the other way round.
        interchange.problems.append(
            EnvelopeProblem(
                f"the interchange is marked {interchange.usage!r} in ISA15, this connection "
                f"takes {partner.usage!r} (P production, T test)",
                "020",
                1,
            )
        )
    if (interchange.receiver_qualifier, interchange.receiver_id) != (
        partner.our_qualifier,
        partner.our_id,
    ):
        interchange.problems.append(
            EnvelopeProblem(
                f"the receiver {interchange.receiver_qualifier}/{interchange.receiver_id} is not "
                f"us ({partner.our_qualifier}/{partner.our_id})",
                "009",
                1,
            )
        )


def _read_interchange(
    interchange: Interchange,
    chunk: str,
    result: InboundText,
    partner: Partner,
    context: ReadContext,
) -> None:
    digest = hashlib.sha256(chunk.encode()).hexdigest()
    owed = OwedAcknowledgment(interchange, digest)
    readable_control = interchange.control.isdigit() and len(interchange.control) == 9
    result.partner_ta1s.extend(read_ta1(segment) for segment in interchange.ta1)
    if not interchange.accepted:
        problems = [str(p) for p in interchange.problems]
        result.records.append(_unreadable(result.name, chunk, problems, interchange, partner))
        owed.ta1 = readable_control  # without a control number there is nothing to answer
        result.owed.append(owed)
        return
    owed.ta1 = interchange.ack_requested
    for group in interchange.groups:
        if group.functional_id == "FA":
            _read_partner_acks(group, interchange, result, partner, context)
            continue
        owed.groups.append(group)
        if not group.accepted:
            problems = [f"functional group {group.control}: AK905 code(s) {', '.join(group.codes)}"]
            text = interchange.text_of(group.segments)
            result.records.append(
                _unreadable(result.name, text, problems, interchange, partner, group)
            )
            continue
        for transaction in group.sets:
            result.records.extend(
                _records_of(transaction, group, interchange, result.name, partner, context)
            )
    result.owed.append(owed)


def _read_partner_acks(
    group: FunctionalGroup,
    interchange: Interchange,
    result: InboundText,
    partner: Partner,
    context: ReadContext,
) -> None:
    for transaction in group.sets:
        problems = [f"AK502 code(s) {', '.join(transaction.codes)}"] if transaction.codes else []
        if not problems:
            try:
                result.partner_997s.append(READERS["997"](transaction, context))
                continue
            except SetError as exc:
                problems = [str(exc.problem)]
        text = interchange.text_of(transaction.segments)
        result.records.append(
            _unreadable(result.name, text, problems, interchange, partner, group, transaction)
        )


def _records_of(
    transaction: TransactionSet,
    group: FunctionalGroup,
    interchange: Interchange,
    name: str,
    partner: Partner,
    context: ReadContext,
) -> list[NativeRecord]:
    record_id = (
        f"{interchange.sender_id}:{interchange.control}:{group.control}:{transaction.control}"
    )
    if not transaction.accepted:
        problems = [f"AK502 code(s) {', '.join(transaction.codes)}"]
        text = interchange.text_of(transaction.segments)
        return [_unreadable(name, text, problems, interchange, partner, group, transaction)]
    reader = READERS.get(transaction.set_id)
    if reader is None:
        document: dict[str, Any] = {
            "transaction_set": transaction.set_id,
            "segments": [list(segment) for segment in transaction.body],
        }
    else:
        try:
            document = reader(transaction, context)
        except SetError as exc:
            transaction.reject(exc.problem)
            text = interchange.text_of(transaction.segments)
            return [
                _unreadable(
                    name, text, [str(exc.problem)], interchange, partner, group, transaction
                )
            ]
    document["x12"] = _envelope(interchange, group, transaction, context)
    kind = KIND_PREFIX + transaction.set_id
    splitter = SPLITTERS.get(transaction.set_id)
    if splitter is None:
        return [NativeRecord(kind, document, record_id)]
    return [NativeRecord(kind, part, record_id + suffix) for suffix, part in splitter(document)]


def _envelope(
    interchange: Interchange,
    group: FunctionalGroup,
    transaction: TransactionSet,
    context: ReadContext,
) -> dict[str, Any]:
    sent_at = None
    if (
        len(group.date) == 8
        and group.date.isdigit()
        and len(group.time) >= 4
        and group.time.isdigit()
    ):
        day = f"{group.date[:4]}-{group.date[4:6]}-{group.date[6:]}"
        try:
            sent_at = moment_of(day, f"{group.time[:2]}:{group.time[2:4]}", context.zone)
        except ValueError:
            sent_at = None
    envelope = {
        "sender_qualifier": interchange.sender_qualifier,
        "sender_id": interchange.sender_id,
        "receiver_qualifier": interchange.receiver_qualifier,
        "receiver_id": interchange.receiver_id,
        "interchange_control": interchange.control,
        "usage": interchange.usage,
        "functional_id": group.functional_id,
        "application_sender": group.sender,
        "application_receiver": group.receiver,
        "group_control": group.control,
        "version": group.version,
        "set_control": transaction.control,
        "sent_at": sent_at,
    }
    return {key: value for key, value in envelope.items() if value}


def _unreadable(
    name: str,
    text: str,
    problems: list[str],
    interchange: Interchange | None,
    partner: Partner,
    group: FunctionalGroup | None = None,
    transaction: TransactionSet | None = None,
) -> NativeRecord:
    """A record of what could not be read, for the hub to keep as a dead letter."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    sender = (
        interchange.sender_id if interchange is not None and interchange.sender_id else partner.id
    )
    parts = [sender]
    if interchange is not None and interchange.control:
        parts.append(interchange.control)
    if group is not None:
        parts.append(group.control)
    if transaction is not None:
        parts.append(transaction.control)
    parts.append(digest)
    data: dict[str, Any] = {
        "file": name,
        "error": "; ".join(problems)[:2000],
        "problems": problems,
        "text": text[:MAX_RAW_CHARACTERS],
    }
    if len(text) > MAX_RAW_CHARACTERS:
        data["truncated"] = True
    if interchange is not None:
        data["interchange_control"] = interchange.control
    if group is not None:
        data["group_control"] = group.control
    if transaction is not None:
        data.update(transaction_set=transaction.set_id, set_control=transaction.control)
    return NativeRecord(UNREADABLE, data, ":".join(parts))
