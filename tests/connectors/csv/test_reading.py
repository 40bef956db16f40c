"""CSV files into records: rows, groups, line numbers, encodings, and files that are not CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.csv import CsvConfig
from connectors.csv.reading import RAW_TEXT_LIMIT, UNREADABLE, read_records
from connectors.csv.testing import Receipt, ReceiptLine, receipt_config, receipt_export
from connectors.sdk import NativeRecord


def config(**values: Any) -> CsvConfig:
    return CsvConfig.model_validate({"inbox": "/srv/inbox", **values})


def only_unreadable(records: list[NativeRecord]) -> dict[str, Any]:
    [record] = records
    assert record.kind == UNREADABLE
    data: dict[str, Any] = record.data
    return data


def test_each_row_is_a_record_with_its_line_and_exact_text() -> None:
    content = b'sku,qty,note\r\nA-1,12.50,\r\n\r\nB-2,0007,"two\r\nlines"\r\nC-3,1e3,x\r\n'
    records = read_records("stock.csv", content, config())
    assert [r.kind for r in records] == ["csv/row"] * 3
    assert [r.data["row"] for r in records] == [2, 4, 6]
    assert [r.data["values"] for r in records] == [
        {"sku": "A-1", "qty": "12.50", "note": ""},
        {"sku": "B-2", "qty": "0007", "note": "two\r\nlines"},
        {"sku": "C-3", "qty": "1e3", "note": "x"},
    ]
    digest = records[0].data["digest"]
    assert len(digest) == 16
    assert [r.id for r in records] == [f"{digest}:2", f"{digest}:4", f"{digest}:6"]
    assert all(r.data["file"] == "stock.csv" for r in records)
    # The same content is the same records, whatever the file is called.
    assert [r.id for r in read_records("again.csv", content, config())] == [r.id for r in records]


def test_rows_of_one_group_value_make_one_record_with_lines() -> None:
    export = receipt_export(
        [
            Receipt("RCV-1", "PO-1", [ReceiptLine("A", "1"), ReceiptLine("B", "2.5")]),
            Receipt("RCV-2", "PO-2", [ReceiptLine("C", "3")]),
        ]
    )
    records = read_records(
        "r.csv", export, CsvConfig.model_validate(receipt_config(Path("/i"), Path("/o")))
    )
    assert [(r.kind, r.data["group"], r.data["rows"]) for r in records] == [
        ("csv/wms-receipt", "RCV-1", [2, 3]),
        ("csv/wms-receipt", "RCV-2", [4]),
    ]
    first = records[0].data
    assert first["values"]["po_number"] == "PO-1"
    assert [line["values"]["qty_received"] for line in first["lines"]] == ["1", "2.5"]
    assert [line["row"] for line in first["lines"]] == [2, 3]
    assert records[0].id == f"{first['digest']}:RCV-1"


def test_interleaved_rows_still_group() -> None:
    content = b"order;sku\nO-1;A\nO-2;B\nO-1;C\n"
    records = read_records("o.csv", content, config(delimiter=";", group_by="order"))
    assert [(r.data["group"], r.data["rows"]) for r in records] == [("O-1", [2, 4]), ("O-2", [3])]


def test_encodings_and_a_spreadsheets_byte_order_mark() -> None:
    bom = "\ufeffsku,name\nA-1,Crème brûlée\n".encode()
    [record] = read_records("bom.csv", bom, config())
    assert record.data["values"] == {"sku": "A-1", "name": "Crème brûlée"}
    latin = "sku,name\nA-1,Crème brûlée\n".encode("cp1252")
    [record] = read_records("latin.csv", latin, config(encoding="cp1252"))
    assert record.data["values"]["name"] == "Crème brûlée"
    data = only_unreadable(read_records("latin.csv", latin, config()))
    assert "not utf-8 text" in data["error"]
    assert "Cr\ufffdme" in data["text"]


def test_files_without_a_header_use_the_configured_names() -> None:
    records = read_records(
        "plain.txt",
        b"A-1|3\nB-2|4\n",
        config(header=False, column_names=["sku", "qty"], delimiter="|"),
    )
    assert [(r.data["row"], r.data["values"]) for r in records] == [
        (1, {"sku": "A-1", "qty": "3"}),
        (2, {"sku": "B-2", "qty": "4"}),
    ]


def test_an_unnamed_column_is_left_out() -> None:
    # Many exports end every line with the delimiter.
    [record] = read_records("t.csv", b"sku;qty;\nA-1;2;\n", config(delimiter=";"))
    assert record.data["values"] == {"sku": "A-1", "qty": "2"}


def test_an_empty_file_or_a_header_alone_has_no_records() -> None:
    assert read_records("empty.csv", b"", config()) == []
    assert read_records("header.csv", b"sku,qty\r\n", config()) == []


@pytest.mark.parametrize(
    ("content", "values", "error"),
    [
        (b"sku,qty\nA-1,2\nB-2\n", {}, "line 3 has 1 cells where the header has 2"),
        (b'sku,qty\nA-1,"2\n', {}, "line"),
        (b'sku,qty\nA-1,"2"x\n', {}, "line 2"),
        (b"sku,sku\nA,B\n", {}, "names sku twice"),
        (b"sku,qty\nA-1,2\n", {"group_by": "order"}, "no column 'order'"),
        (b"order,qty\nO-1,2\n ,3\n", {"group_by": "order"}, "line 3: the 'order' column is empty"),
        (b"sku,qty\nA-1,2\n", {"max_file_bytes": 10}, "more than max_file_bytes"),
    ],
)
def test_a_file_that_is_not_such_csv_is_one_unreadable_record(
    content: bytes, values: dict[str, Any], error: str
) -> None:
    records = read_records("bad.csv", content, config(**values))
    data = only_unreadable(records)
    assert error in data["error"]
    assert data["file"] == "bad.csv"
    assert data["text"] == content.decode()
    assert data["size"] == len(content)
    assert records[0].id == f"{data['digest']}:unreadable"


def test_an_unreadable_files_text_is_kept_up_to_a_limit() -> None:
    content = b"x" * (RAW_TEXT_LIMIT + 10)
    data = only_unreadable(read_records("big.csv", content, config(max_file_bytes=100)))
    assert len(data["text"]) == RAW_TEXT_LIMIT
    assert data["truncated"] is True
