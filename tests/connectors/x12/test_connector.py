"""The connector on its own: real files in a temporary mailbox, state in memory."""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from connectors.sdk import (
    InboundRequest,
    MemoryState,
    OutboundMessage,
    OutcomeKind,
    PollResult,
    RecordFate,
    VerificationFailed,
)
from connectors.x12 import X12Config, X12Connector
from connectors.x12.acknowledgments import AWAITING, REJECTED
from connectors.x12.envelope import Interchange, parse_interchange
from connectors.x12.mailbox import Cursor, InboxFile, next_page
from connectors.x12.segments import split_interchanges
from connectors.x12.testing import (
    PARTNER_ID,
    PURCHASE_ORDER,
    PURCHASE_ORDER_EVENT,
    X12Harness,
    partner_interchange,
    ship_notice_body,
    signed_push,
)

T = TypeVar("T")


@pytest.fixture
def mailbox() -> Iterator[X12Harness]:
    harness = X12Harness()
    harness.start()
    yield harness
    harness.stop()


class Partner:
    """A connection's connector with durable (here: in-memory) state across instances."""

    def __init__(self, mailbox: X12Harness, **config: Any) -> None:
        self.mailbox = mailbox
        self.state = MemoryState()
        self.values = {**mailbox.config(), **config}

    def run(self, use: Callable[[X12Connector], Awaitable[T]]) -> T:
        async def main() -> T:
            connector = X12Connector(X12Config.model_validate(self.values), state=self.state)
            try:
                return await use(connector)
            finally:
                await connector.aclose()

        return asyncio.run(main())

    def send(
        self, payload: Any = PURCHASE_ORDER, delivery: int = 1, event: dict[str, Any] | None = None
    ) -> Any:
        message = OutboundMessage(
            delivery_id=delivery,
            message_key=f"msg_{delivery}",
            attempt=1,
            route="to-acme",
            event=event or PURCHASE_ORDER_EVENT,
            payload=payload,
        )
        return self.run(lambda c: c.send(message))

    def poll(self, cursor: str | None = None) -> PollResult:
        return self.run(lambda c: c.poll(cursor))

    def commit(self, page: PollResult, fates: Sequence[RecordFate] | None = None) -> None:
        chosen: list[RecordFate] = (
            list(fates) if fates is not None else ["accepted"] * len(page.records)
        )
        self.run(lambda c: c.committed(page.records, chosen, page))

    def check(self) -> Any:
        return self.run(lambda c: c.check())


def outbox_files(mailbox: X12Harness) -> list[str]:
    return sorted(p.name for p in mailbox.outbox.iterdir())


def interchange_of(path: Path) -> Interchange:
    [(chunk, separators)] = list(split_interchanges(path.read_text()))
    return parse_interchange(chunk, separators)


def drop(mailbox: X12Harness, name: str, text: str, age: float = 60) -> Path:
    path = mailbox.inbox / name
    path.write_text(text)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


# -- sending ---------------------------------------------------------------------------------


def test_a_send_writes_one_interchange_and_waits_for_its_997(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    outcome = partner.send()
    assert outcome.kind is OutcomeKind.DELIVERED, outcome
    assert outbox_files(mailbox) == ["850-000000001.x12"]  # no temporary file left behind
    interchange = interchange_of(mailbox.outbox / "850-000000001.x12")
    assert interchange.problems == []
    assert (
        interchange.control,
        interchange.groups[0].control,
        interchange.groups[0].sets[0].control,
    ) == (
        "000000001",
        "1",
        "0001",
    )
    pending = partner.state.values[f"{AWAITING}000000001"]
    assert (pending["set"], pending["subject"], pending["interchange_control"]) == (
        "850",
        "PO-9007199254740993",
        "000000001",
    )


def test_a_retried_delivery_rewrites_the_same_interchange(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    partner.send(delivery=7)
    first = (mailbox.outbox / "850-000000001.x12").read_bytes()
    assert partner.send(delivery=7).delivered
    assert outbox_files(mailbox) == ["850-000000001.x12"]
    assert (mailbox.outbox / "850-000000001.x12").read_bytes() == first
    assert partner.send(delivery=8).delivered
    assert outbox_files(mailbox) == ["850-000000001.x12", "850-000000002.x12"]


def test_a_failed_write_is_retried_with_the_numbers_it_drew(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    mailbox.outbox.rmdir()
    outcome = partner.send(delivery=11)
    assert outcome.kind is OutcomeKind.CONNECTION_ERROR
    assert "FileNotFoundError" in (outcome.error or "")
    mailbox.outbox.mkdir()
    assert partner.send(delivery=11).delivered
    assert partner.send(delivery=12).delivered
    assert outbox_files(mailbox) == ["850-000000001.x12", "850-000000002.x12"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda p: None, "give the route a mapping"),
        (lambda p: {**p, "lines": []}, "/850/lines: List should have at least 1 item"),
        (lambda p: {**p, "transaction_set": "810"}, "does not match any of the expected tags"),
        (lambda p: {**p, "po_number": "PO*1"}, "BEG03 'PO*1' contains '*'"),
    ],
)
def test_a_payload_that_cannot_be_written_is_a_mapping_error(
    mailbox: X12Harness, change: Callable[[dict[str, Any]], Any], error: str
) -> None:
    outcome = Partner(mailbox).send(payload=change(copy.deepcopy(PURCHASE_ORDER)))
    assert outcome.kind is OutcomeKind.MAPPING_ERROR
    assert error in (outcome.error or ""), outcome.error
    assert outbox_files(mailbox) == []


def test_control_numbers_that_run_out_are_refused_not_repeated(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    partner.state.values["sequence:isa"] = 999_999_999
    outcome = partner.send()
    assert outcome.kind is OutcomeKind.REJECTED
    assert "used up" in (outcome.error or "")


# -- the inbox -------------------------------------------------------------------------------


def test_a_polled_file_is_settled_after_its_records_are_stored(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    drop(mailbox, "asn-1.x12", partner_interchange([("856", ship_notice_body("ASN-1"))], 501))
    page = partner.poll()
    [record] = page.records
    assert (record.kind, record.id) == ("x12/856", f"{PARTNER_ID}:000000501:501:0001")
    assert (mailbox.inbox / "asn-1.x12").exists(), "nothing moves before the hub stored the page"
    partner.commit(page)
    assert not (mailbox.inbox / "asn-1.x12").exists()
    assert (mailbox.inbox / "processed" / "asn-1.x12").exists()
    [ack] = outbox_files(mailbox)
    interchange = interchange_of(mailbox.outbox / ack)
    assert interchange.problems == []
    body = interchange.groups[0].sets[0].body
    assert body == [
        ["AK1", "SH", "501"],
        ["AK2", "856", "0001"],
        ["AK5", "A"],
        ["AK9", "A", "1", "1", "1"],
    ]
    assert partner.poll(page.next_cursor).records == []


def test_a_file_with_a_dead_lettered_record_goes_to_failed_but_is_acknowledged(
    mailbox: X12Harness,
) -> None:
    partner = Partner(mailbox)
    drop(mailbox, "asn-2.x12", partner_interchange([("856", ship_notice_body("ASN-2"))], 502))
    page = partner.poll()
    partner.commit(page, ["dead_lettered"])
    assert (mailbox.inbox / "failed" / "asn-2.x12").exists()
    [ack] = outbox_files(mailbox)
    assert ["AK9", "A", "1", "1", "1"] in interchange_of(mailbox.outbox / ack).groups[0].sets[
        0
    ].body


def test_an_unreadable_file_is_a_record_goes_to_failed_and_gets_a_ta1(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    text = partner_interchange([("856", ship_notice_body("ASN-3"))], 503)
    drop(mailbox, "cut.x12", text[: text.index("GE*")])  # the gateway cut it off
    page = partner.poll()
    [record] = page.records
    assert record.kind == "x12/unreadable"
    assert "no IEA trailer" in record.data["error"]
    partner.commit(page, ["dead_lettered"])
    assert (mailbox.inbox / "failed" / "cut.x12").exists()
    [ack] = outbox_files(mailbox)
    assert ack.startswith("TA1-")
    interchange = interchange_of(mailbox.outbox / ack)
    assert interchange.ta1 == [["TA1", "000000503", *interchange.ta1[0][2:4], "R", "023"]]


def test_partner_997s_settle_what_we_sent(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    assert partner.send().delivered
    assert partner.check().info["awaiting_997"] == 1
    ack_body = [
        ["AK1", "PO", "1"],
        ["AK2", "850", "0001"],
        ["AK5", "A"],
        ["AK9", "A", "1", "1", "1"],
    ]
    drop(mailbox, "997.x12", partner_interchange([("997", ack_body)], 601))
    page = partner.poll()
    assert page.records == []  # consumed by the connector, not a message
    partner.commit(page)
    assert (mailbox.inbox / "processed" / "997.x12").exists()
    assert partner.state.values.get(f"{AWAITING}000000001") is None
    assert [f for f in outbox_files(mailbox) if f.startswith("997")] == [], (
        "a 997 is never acknowledged"
    )
    result = partner.check()
    assert result.ok, result.detail
    assert result.info["awaiting_997"] == 0


def test_an_overdue_997_fails_the_check(mailbox: X12Harness) -> None:
    partner = Partner(mailbox, ack_window_minutes=0.001)
    partner.send()
    time.sleep(0.1)
    result = partner.check()
    assert not result.ok
    assert (
        "1 interchange(s) have no 997 within 0.001 min: 850 PO-9007199254740993 ISA13 000000001"
        in result.detail
    )
    [late] = result.info["overdue_997"]
    assert late["file"] == "850-000000001.x12"


def test_a_rejecting_997_fails_the_check_until_the_document_goes_through(
    mailbox: X12Harness,
) -> None:
    partner = Partner(mailbox)
    partner.send(delivery=1)
    rejected = [
        ["AK1", "PO", "1"],
        ["AK2", "850", "0001"],
        ["AK3", "PO1", "7", "", "8"],
        ["AK4", "3", "", "7", "QQ"],
        ["AK5", "R", "5"],
        ["AK9", "R", "1", "1", "0"],
    ]
    drop(mailbox, "997-r.x12", partner_interchange([("997", rejected)], 602))
    partner.commit(partner.poll())
    result = partner.check()
    assert not result.ok
    assert "rejected by the partner's 997: 850 PO-9007199254740993 (R)" in result.detail
    [entry] = result.info["rejected_997"]
    assert entry["sets"][0]["errors"][0]["elements"] == [
        {"position": "3", "code": "7", "value": "QQ"}
    ]
    # The PO is sent again (a new delivery) and this time accepted: the rejection is resolved.
    partner.send(delivery=2)
    accepted = [["AK1", "PO", "2"], ["AK9", "A", "1", "1", "1"]]
    drop(mailbox, "997-a.x12", partner_interchange([("997", accepted)], 603), age=30)
    partner.commit(partner.poll())
    assert partner.check().ok
    assert not [k for k in partner.state.values if k.startswith(REJECTED)]


def test_a_rejecting_ta1_rejects_the_interchange(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    partner.send()
    text = partner_interchange([("997", [["AK1", "PO", "99"], ["AK9", "A", "1", "1", "1"]])], 604)
    text = text.replace("GS*FA", "TA1*000000001*261124*0900*R*008~\nGS*FA", 1)
    drop(mailbox, "ta1.x12", text)
    partner.commit(partner.poll())
    result = partner.check()
    assert not result.ok
    assert result.info["rejected_997"][0]["status"] == "TA1 R"


def test_the_997_for_a_file_handed_over_again_is_the_same(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    text = partner_interchange([("856", ship_notice_body("ASN-5"))], 505)
    drop(mailbox, "asn-5.x12", text)
    partner.commit(partner.poll())
    first = outbox_files(mailbox)
    # The gateway delivers the same interchange again, under another name.
    drop(mailbox, "asn-5-again.x12", text)
    page = partner.poll()
    assert page.records[0].id == f"{PARTNER_ID}:000000505:505:0001"  # the hub dedupes on it
    partner.commit(page, ["duplicate"])
    assert outbox_files(mailbox) == first
    assert (mailbox.inbox / "processed" / "asn-5-again.x12").exists()


def test_a_file_whose_997_cannot_be_written_stays_in_the_inbox(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    drop(mailbox, "asn-6.x12", partner_interchange([("856", ship_notice_body("ASN-6"))], 506))
    page = partner.poll()
    mailbox.outbox.rmdir()
    partner.commit(page)
    assert (mailbox.inbox / "asn-6.x12").exists()


def test_settling_never_overwrites_a_file(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    (mailbox.inbox / "processed").mkdir()
    (mailbox.inbox / "processed" / "asn.x12").write_text("an older file of the same name")
    drop(mailbox, "asn.x12", partner_interchange([("856", ship_notice_body("ASN-7"))], 507))
    partner.commit(partner.poll())
    assert sorted(p.name for p in (mailbox.inbox / "processed").iterdir()) == [
        "asn.1.x12",
        "asn.x12",
    ]


def test_files_being_written_are_left_alone(mailbox: X12Harness) -> None:
    partner = Partner(mailbox, settle_seconds=30)
    text = partner_interchange([("856", ship_notice_body("ASN-8"))], 508)
    drop(mailbox, "fresh.x12", text, age=1)
    drop(mailbox, "upload.x12.part", text)
    drop(mailbox, ".hidden.x12", text)
    drop(mailbox, "old.x12", text)
    page = partner.poll()
    assert [b.file.name for b in page.context.batches] == ["old.x12"]


def test_the_inbox_is_read_oldest_first_a_page_at_a_time(mailbox: X12Harness) -> None:
    partner = Partner(mailbox, page_size=2)
    for number, age in ((1, 30), (2, 50), (3, 40)):
        drop(
            mailbox,
            f"f{number}.x12",
            partner_interchange([("856", ship_notice_body(f"A{number}"))], 700 + number),
            age=age,
        )
    first = partner.poll()
    assert [b.file.name for b in first.context.batches] == ["f2.x12", "f3.x12"]
    assert first.more
    second = partner.poll(first.next_cursor)
    assert [b.file.name for b in second.context.batches] == ["f1.x12"]
    assert not second.more


def test_the_cursor_hands_over_again_what_stayed_too_long_and_notices_a_new_file() -> None:
    files = [InboxFile(Path(f"/inbox/{n}"), 10, 1_000 + i) for i, n in enumerate(["a", "b"])]
    page, more, cursor = next_page(files, Cursor(), 1, now=100.0, redeliver_after=600)
    assert [f.name for f in page] == ["a"] and more
    page, more, cursor = next_page(
        files, Cursor.decode(cursor.encode()), 5, now=101.0, redeliver_after=600
    )
    assert [f.name for f in page] == ["b"] and not more
    page, _, cursor = next_page(files, cursor, 5, now=200.0, redeliver_after=600)
    assert page == []
    # Still there ten minutes after it was handed over: its page was stored, the move never
    # happened. Hand it over again (the hub sees duplicates), so that it gets settled.
    page, _, cursor = next_page(files, cursor, 5, now=700.5, redeliver_after=600)
    assert [f.name for f in page] == ["a"]
    # A new file under an old name is new.
    replaced = [InboxFile(Path("/inbox/b"), 11, 5_000)]
    page, _, cursor = next_page(replaced, cursor, 5, now=702.0, redeliver_after=600)
    assert [f.name for f in page] == ["b"]
    assert set(cursor.held) == {"b"}  # files gone from the inbox are forgotten
    assert Cursor.decode("not a cursor") == Cursor()


def test_an_inbox_that_is_not_there_fails_the_poll(mailbox: X12Harness) -> None:
    partner = Partner(mailbox, inbox=str(mailbox.root / "gone"))
    with pytest.raises(FileNotFoundError):
        partner.poll()
    result = partner.check()
    assert not result.ok
    assert "does not exist" in result.detail


# -- pushed by a gateway ---------------------------------------------------------------------


def test_a_pushed_interchange_is_read_and_acknowledged(mailbox: X12Harness) -> None:
    partner = Partner(mailbox)
    request = signed_push(partner_interchange([("856", ship_notice_body("ASN-P"))], 801).encode())

    async def receive(connector: X12Connector) -> None:
        verified, records = await connector.receive(request)
        assert verified.delivery_id == request.header("webhook-id")
        assert [r.kind for r in records] == ["x12/856"]
        await connector.committed(records, ["accepted"], request)

    partner.run(receive)
    [ack] = outbox_files(mailbox)
    assert interchange_of(mailbox.outbox / ack).groups[0].sets[0].body[0] == ["AK1", "SH", "801"]


def test_pushes_are_off_without_a_secret(mailbox: X12Harness) -> None:
    partner = Partner(mailbox, push_secret=None)
    request = signed_push(b"ISA*...")
    with pytest.raises(VerificationFailed, match="pushes are off"):
        partner.run(lambda c: _verify(c, request))


async def _verify(connector: X12Connector, request: InboundRequest) -> None:
    connector.verify(request)


def test_a_5010_partner_with_other_separators_gets_them(mailbox: X12Harness) -> None:
    partner = Partner(
        mailbox,
        version="005010",
        element_separator="|",
        component_separator=":",
        segment_terminator="'",
        repetition_separator="^",
        line_breaks=False,
    )
    assert partner.send().delivered
    text = (mailbox.outbox / "850-000000001.x12").read_text()
    assert text.startswith("ISA|00|") and "\n" not in text
    assert text.split("|")[11:13] == ["^", "00501"]
    interchange = interchange_of(mailbox.outbox / "850-000000001.x12")
    assert interchange.groups[0].version == "005010"
    assert interchange.groups[0].sets[0].body[0] == [
        "BEG",
        "00",
        "SA",
        "PO-9007199254740993",
        "",
        "20261124",
    ]


def test_separators_that_clash_are_refused_in_the_config(mailbox: X12Harness) -> None:
    with pytest.raises(ValueError, match="not all different"):
        X12Config.model_validate({**mailbox.config(), "element_separator": "~"})
    with pytest.raises(ValueError, match="unknown time zone"):
        X12Config.model_validate({**mailbox.config(), "timezone": "Mars/Olympus"})
