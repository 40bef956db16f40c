"""The conformance harness of the csv connector: an inbox and an outbox in a temporary directory.

:func:`receipt_export` writes the example WMS receipt export that ``mappings/csv``'s
``csv-wms-receipt`` reads (semicolon-separated, one row per receipt line, European dates),
for tests and end-to-end scenarios.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.csv.config import CsvConfig
from connectors.csv.connector import CsvConnector
from connectors.csv.writing import file_name
from connectors.sdk import OutboundMessage
from connectors.sdk.testing import SAMPLE_EVENT, ConformanceHarness

RECEIPT_COLUMNS = (
    "receipt_no", "po_number", "asn", "warehouse", "received_at", "line", "sku", "ean",
    "qty_expected", "qty_received", "qty_accepted", "qty_rejected", "unit", "condition",
    "lot", "best_before",
)  # fmt: skip


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a WMS receipt export; quantities as the WMS writes them (text)."""

    sku: str
    received: str
    accepted: str | None = None
    rejected: str = "0"
    expected: str = ""
    unit: str = "EA"
    ean: str = ""
    condition: str = "good"
    lot: str = ""
    best_before: str = ""


@dataclass(frozen=True)
class Receipt:
    receipt_no: str
    po_number: str
    lines: Sequence[ReceiptLine]
    warehouse: str = "DC-ATL"
    asn: str = ""
    received_at: str = "26/03/2026 14:37"
    extra: dict[str, str] = field(default_factory=dict)


def receipt_export(receipts: Sequence[Receipt], delimiter: str = ";") -> bytes:
    """The WMS's receipt export file holding ``receipts``, one row per line."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(RECEIPT_COLUMNS)
    for receipt in receipts:
        for number, line in enumerate(receipt.lines, start=1):
            writer.writerow(
                [
                    receipt.receipt_no,
                    receipt.po_number,
                    receipt.asn,
                    receipt.warehouse,
                    receipt.received_at,
                    number,
                    line.sku,
                    line.ean,
                    line.expected,
                    line.received,
                    line.received if line.accepted is None else line.accepted,
                    line.rejected,
                    line.unit,
                    line.condition,
                    line.lot,
                    line.best_before,
                ]
            )
    return buffer.getvalue().encode()


def receipt_config(inbox: Path, outbox: Path, **overrides: Any) -> dict[str, Any]:
    """A connection's config for the WMS receipt export."""
    return {
        "inbox": str(inbox),
        "outbox": str(outbox),
        "delimiter": ";",
        "record_kind": "csv/wms-receipt",
        "group_by": "receipt_no",
        **overrides,
    }


class CsvHarness(ConformanceHarness):
    """Inbox and outbox in a fresh temporary directory; receipts exports to poll."""

    connector = CsvConnector

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="crossdock-csv-"))
        self.inbox = self.root / "inbox"
        self.outbox = self.root / "outbox"
        self.inbox.mkdir()
        self.outbox.mkdir()
        self._seeded = 0

    def stop(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def config(self) -> dict[str, Any]:
        return receipt_config(self.inbox, self.outbox, page_size=2, settle_seconds=0)

    def unreachable_config(self) -> dict[str, Any]:
        gone = self.root / "not-mounted"
        return {**self.config(), "inbox": str(gone / "inbox"), "outbox": str(gone / "outbox")}

    def sample_message(self) -> OutboundMessage:
        return OutboundMessage(
            delivery_id=42,
            message_key="msg_01JCONFORMANCECSV0000000",
            attempt=1,
            route="conformance",
            event=SAMPLE_EVENT,
            payload={
                "columns": ["reservation", "order", "line", "sku", "qty", "uom", "note"],
                "rows": [
                    {
                        "reservation": "RSV-CONF-1",
                        "order": 9007199254740993,
                        "line": 1,
                        "sku": "BOLT-M8-40",
                        "qty": 12.5,
                        "uom": "KG",
                        "note": 'semi;colon, "quoted"\nand two lines',
                    },
                    {"reservation": "RSV-CONF-1", "line": 2, "sku": "NUT-M8", "qty": 0.1},
                ],
            },
        )

    def assert_delivered(self, message: OutboundMessage) -> None:
        config = CsvConfig.model_validate(self.config())
        path = self.outbox / file_name(config.file_name, message)
        text = path.read_bytes().decode()
        assert "\r\n" in text
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        assert rows == [
            ["reservation", "order", "line", "sku", "qty", "uom", "note"],
            ["RSV-CONF-1", "9007199254740993", "1", "BOLT-M8-40", "12.5", "KG",
             'semi;colon, "quoted"\nand two lines'],
            ["RSV-CONF-1", "", "2", "NUT-M8", "0.1", "", ""],
        ]  # fmt: skip
        assert [p.name for p in self.outbox.iterdir()] == [path.name], "a temporary file is left"

    def seed_records(self, count: int) -> None:
        for _ in range(count):
            self._seeded += 1
            number = self._seeded
            export = receipt_export(
                [
                    Receipt(
                        f"RCV-ATL-26-{number:05d}",
                        "PO-4500018231",
                        [ReceiptLine("NTR-GLV-L-CS10", "396", expected="400", unit="CS")],
                    )
                ]
            )
            (self.inbox / f"receipts-{number:05d}.csv").write_bytes(export)
