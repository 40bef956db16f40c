"""The csv connector on real directories: polling in arrival order, filing away, sending."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

from connectors.csv import CsvConfig, CsvConnector
from connectors.csv.testing import Receipt, ReceiptLine, receipt_config, receipt_export
from connectors.sdk import OutboundMessage, OutcomeKind, PollResult, RecordFate
from connectors.sdk.testing import SAMPLE_EVENT

T = TypeVar("T")


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    outbox.mkdir()
    return inbox, outbox


def drive(values: dict[str, Any], use: Callable[[CsvConnector], Awaitable[T]]) -> T:
    async def main() -> T:
        connector = CsvConnector(CsvConfig.model_validate(values))
        try:
            return await use(connector)
        finally:
            await connector.aclose()

    return asyncio.run(main())


def export(number: int, lines: int = 1) -> bytes:
    return receipt_export(
        [Receipt(f"RCV-{number}", "PO-1", [ReceiptLine(f"SKU-{n}", "1.5") for n in range(lines)])]
    )


def drop(inbox: Path, name: str, content: bytes) -> None:
    """A file arriving as a careful writer delivers it: written aside, then moved in."""
    aside = inbox.parent / f"{name}.part"
    aside.write_bytes(content)
    aside.rename(inbox / name)
    time.sleep(0.03)  # past the file system clock's resolution: a distinct arrival time


def poll(values: dict[str, Any], cursor: str | None = None) -> PollResult:
    async def use(connector: CsvConnector) -> PollResult:
        return await connector.poll(cursor)

    return drive(values, use)


def poll_and_commit(
    values: dict[str, Any],
    fates: Callable[[PollResult], list[RecordFate]],
    cursor: str | None = None,
) -> PollResult:
    async def use(connector: CsvConnector) -> PollResult:
        page = await connector.poll(cursor)
        await connector.committed(page.records, fates(page), page)
        return page

    return drive(values, use)


def groups(page: PollResult) -> list[str]:
    return [r.data["group"] for r in page.records]


def test_files_are_read_in_arrival_order_a_page_at_a_time(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    for number, name in ((1, "zeta.csv"), (2, "alpha.csv"), (3, "mid.CSV")):
        drop(inbox, name, export(number, lines=2))
    (inbox / "notes.txt").write_text("not an export")
    (inbox / ".hidden.csv").write_bytes(export(9))
    (inbox / "sub.csv").mkdir()
    values = receipt_config(inbox, outbox, page_size=2, settle_seconds=0)

    first = poll(values)
    assert groups(first) == ["RCV-1", "RCV-2"]
    assert first.more is True
    assert [len(r.data["lines"]) for r in first.records] == [2, 2]
    second = poll(values, first.next_cursor)
    assert groups(second) == ["RCV-3"]
    assert second.more is False
    assert poll(values, second.next_cursor).records == []


def test_a_file_left_in_the_inbox_is_read_again_after_a_while(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    drop(inbox, "r.csv", export(1))
    values = receipt_config(inbox, outbox, settle_seconds=0, retry_after_seconds=1)
    first = poll(values)
    assert poll(values, first.next_cursor).records == []
    time.sleep(1.1)
    again = poll(values, first.next_cursor)
    assert [r.id for r in again.records] == [r.id for r in first.records]
    assert again.next_cursor == first.next_cursor


def test_a_file_still_being_written_waits(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    (inbox / "growing.csv").write_bytes(export(1))
    values = receipt_config(inbox, outbox, settle_seconds=0.5)
    waiting = poll(values)
    assert waiting.records == [] and waiting.next_cursor is None
    time.sleep(0.6)
    assert groups(poll(values)) == ["RCV-1"]


def test_files_go_to_processed_or_failed_by_their_records_fates(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    drop(inbox, "good.csv", export(1))
    drop(
        inbox,
        "mixed.csv",
        receipt_export(
            [
                Receipt("RCV-2", "PO", [ReceiptLine("A", "1")]),
                Receipt("RCV-3", "PO", [ReceiptLine("B", "1")]),
            ]
        ),
    )
    drop(inbox, "empty.csv", b"")
    drop(inbox, "broken.csv", b'receipt_no;sku\n"RCV-4;A\n')
    values = receipt_config(inbox, outbox, settle_seconds=0)

    def fates(page: PollResult) -> list[RecordFate]:
        found: list[RecordFate] = []
        for record in page.records:
            bad = record.kind == "csv/unreadable" or record.data.get("group") == "RCV-3"
            found.append(
                "dead_lettered"
                if bad
                else "duplicate"
                if record.data.get("group") == "RCV-2"
                else "accepted"
            )
        return found

    page = poll_and_commit(values, fates)
    assert [r.kind for r in page.records] == ["csv/wms-receipt"] * 3 + ["csv/unreadable"]
    assert sorted(p.name for p in inbox.iterdir()) == ["failed", "processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["empty.csv", "good.csv"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["broken.csv", "mixed.csv"]

    # Tomorrow's export under the same name does not replace today's in processed/.
    drop(inbox, "good.csv", export(5))
    later = poll_and_commit(values, lambda p: ["accepted"] * len(p.records), page.next_cursor)
    assert groups(later) == ["RCV-5"]
    kept = sorted(p.name for p in (inbox / "processed").iterdir())
    digest = later.records[0].data["digest"]
    assert kept == sorted(["empty.csv", "good.csv", f"good.{digest}.csv"])


def test_a_file_rewritten_after_it_was_read_stays_to_be_read_again(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    drop(inbox, "r.csv", export(1))
    values = receipt_config(inbox, outbox, settle_seconds=0)

    async def use(connector: CsvConnector) -> tuple[PollResult, PollResult]:
        page = await connector.poll(None)
        time.sleep(0.03)
        (inbox / "r.csv").write_bytes(export(2))  # the WMS rewrote it in place
        await connector.committed(page.records, ["accepted"], page)
        return page, await connector.poll(page.next_cursor)

    first, second = drive(values, use)
    assert groups(first) == ["RCV-1"]
    assert (inbox / "r.csv").exists()
    assert groups(second) == ["RCV-2"]


def test_sending_writes_one_file_per_message(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    values = receipt_config(inbox, outbox, file_name="picks-{subject}.csv")

    def send(payload: Any, key: str = "msg_1", subject: str = "TO-1", **config: Any) -> Any:
        message = OutboundMessage(
            delivery_id=1,
            message_key=key,
            attempt=1,
            route="picks",
            event={**SAMPLE_EVENT, "subject": subject},
            payload=payload,
        )
        return drive({**values, **config}, lambda c: c.send(message))

    rows = [{"sku": "A-1", "qty": 12.5}, {"sku": "B-2", "qty": 9007199254740993}]
    assert send(rows).kind is OutcomeKind.DELIVERED
    assert (
        outbox / "picks-TO-1.csv"
    ).read_bytes() == b"sku;qty\r\nA-1;12.5\r\nB-2;9007199254740993\r\n"
    assert send(rows).kind is OutcomeKind.DELIVERED  # a retry
    busy = send([{"sku": "C-3"}], key="msg_2")  # same subject, other content: not over it
    assert busy.kind is OutcomeKind.CONFLICT
    (outbox / "picks-TO-1.csv").unlink()  # the WMS collected it
    assert send([{"sku": "C-3"}], key="msg_2").kind is OutcomeKind.DELIVERED

    assert send(None).kind is OutcomeKind.MAPPING_ERROR
    assert send([{"sku": {"nested": 1}}], subject="TO-2").kind is OutcomeKind.MAPPING_ERROR
    gone = send(rows, subject="TO-3", outbox=str(outbox / "unmounted"))
    assert gone.kind is OutcomeKind.CONNECTION_ERROR
    assert send(rows, outbox=None).kind is OutcomeKind.REJECTED
    assert sorted(p.name for p in outbox.iterdir()) == ["picks-TO-1.csv"]


def test_check_looks_at_both_directories(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    drop(inbox, "r.csv", export(1))
    ok = drive(receipt_config(inbox, outbox), lambda c: c.check())
    assert ok.ok, ok.detail
    assert "1 file(s) waiting" in ok.detail
    assert list(outbox.iterdir()) == []  # the write probe cleaned up
    missing = drive(receipt_config(inbox, outbox / "gone"), lambda c: c.check())
    assert not missing.ok
    assert "is not a directory" in missing.detail


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"inbox": "relative/inbox"}, "absolute path"),
        ({}, "an inbox, an outbox or both"),
        ({"inbox": "/srv/x", "outbox": "/srv/x/"}, "must differ"),
        ({"inbox": "/srv/x", "header": False}, "need column_names"),
        ({"inbox": "/srv/x", "column_names": ["a"]}, "without a header row"),
        ({"inbox": "/srv/x", "encoding": "klingon"}, "unknown encoding"),
        ({"inbox": "/srv/x", "delimiter": '"'}, "must differ"),
        ({"inbox": "/srv/x", "delimiter": "\n"}, "line break"),
        ({"outbox": "/srv/x", "file_name": "{when}.csv"}, "unknown fields"),
        ({"outbox": "/srv/x", "file_name": "out/{subject}.csv"}, "not a path"),
        ({"outbox": "/srv/x", "file_name": "{subject:d}.csv"}, "not a template"),
    ],
)
def test_config_mistakes_are_refused(values: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        CsvConfig.model_validate(values)


def test_files_left_behind_never_hold_up_new_ones(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    for number in range(3):
        drop(inbox, f"old-{number}.csv", export(number))
    values = receipt_config(inbox, outbox, settle_seconds=0, retry_after_seconds=1, page_size=2)
    first = poll(values)
    cursor = poll(values, first.next_cursor).next_cursor
    time.sleep(1.1)  # all three are left behind now (their moves never happened)
    drop(inbox, "new.csv", export(7))
    page = poll(values, cursor)
    assert groups(page) == ["RCV-7", "RCV-0"]
    assert page.more is False  # the hub must not spin on files it cannot move
    assert groups(poll(values, page.next_cursor)) == ["RCV-0", "RCV-1"]


def test_a_file_over_the_size_limit_is_refused_unread(dirs: tuple[Path, Path]) -> None:
    inbox, outbox = dirs
    drop(inbox, "huge.csv", b"sku;qty\n" + b"A-1;1\n" * 1000)
    page = poll(receipt_config(inbox, outbox, settle_seconds=0, max_file_bytes=100))
    [record] = page.records
    assert record.kind == "csv/unreadable"
    assert record.data["size"] == 6008
    assert "more than max_file_bytes" in record.data["error"]
    assert record.data["text"].startswith("sku;qty\nA-1;1\n")
