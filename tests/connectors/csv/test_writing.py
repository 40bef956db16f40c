"""Payloads into CSV files: exact cells, column order, names, and whole files in the outbox."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.csv import CsvConfig
from connectors.csv.writing import (
    OutboxOccupied,
    PayloadError,
    cell,
    deliver,
    file_name,
    render,
    table_of,
)
from connectors.sdk import OutboundMessage
from connectors.sdk.testing import SAMPLE_EVENT


def config(**values: Any) -> CsvConfig:
    return CsvConfig.model_validate({"outbox": "/srv/outbox", **values})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12.50", "12.50"),
        (9007199254740993, "9007199254740993"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (1e16, "10000000000000000"),
        (1.5e-7, "0.00000015"),
        (Decimal("3.140"), "3.140"),
        (True, "true"),
        (False, "false"),
        (None, ""),
    ],
)
def test_cells_are_exact(value: Any, text: str) -> None:
    assert cell(value) == text


@pytest.mark.parametrize("value", [[1], {"a": 1}, float("nan"), float("inf")])
def test_what_does_not_fit_a_cell_is_refused(value: Any) -> None:
    with pytest.raises(PayloadError):
        cell(value)


def test_the_three_payload_shapes() -> None:
    rows = [{"sku": "A", "qty": 1}, {"sku": "B", "lot": "L1"}]
    assert table_of(rows, []) == (["sku", "qty", "lot"], rows)
    assert table_of({"rows": rows, "columns": ["lot", "sku", "qty"]}, []) == (
        ["lot", "sku", "qty"],
        rows,
    )
    assert table_of({"sku": "A", "qty": 1}, []) == (["sku", "qty"], [{"sku": "A", "qty": 1}])
    # The connection's column order wins over the payload's.
    assert table_of({"rows": rows, "columns": ["x"]}, ["qty", "lot", "sku"])[0] == [
        "qty",
        "lot",
        "sku",
    ]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("text", "a payload of rows, not str"),
        ([{"a": 1}, 2], "row 2 is a int"),
        ({"rows": [{"sku": "A", "extra": 1}], "columns": ["sku"]}, "row 1 has extra, not among"),
        ({"rows": [], "columns": "sku"}, "columns must be a list"),
        ([], "nothing to write"),
    ],
)
def test_payloads_that_are_not_tables(payload: Any, error: str) -> None:
    with pytest.raises(PayloadError, match=error):
        table_of(payload, [])


def test_rendering_quotes_what_needs_it_and_ends_lines_as_asked() -> None:
    payload = {"rows": [{"a": "x;y", "b": 'say "hi"'}, {"a": "line\nbreak"}], "columns": ["a", "b"]}
    assert render(payload, config(delimiter=";")) == (
        b'a;b\r\n"x;y";"say ""hi"""\r\n"line\nbreak";\r\n'
    )
    assert render(payload, config(line_terminator="lf", header=False, column_names=["a", "b"])) == (
        b'x;y,"say ""hi"""\n"line\nbreak",\n'
    )
    assert render({"rows": [], "columns": ["a", "b"]}, config()) == b"a,b\r\n"
    assert render([{"a": "é"}], config(encoding="cp1252")) == b"a\r\n\xe9\r\n"
    with pytest.raises(PayloadError, match="cannot be written in latin-1"):
        render([{"a": "€"}], config(encoding="latin-1"))
    with pytest.raises(PayloadError, match="row 2: "):
        render([{"a": 1}, {"a": [1]}], config())


def test_file_names_come_from_the_message_safely() -> None:
    message = OutboundMessage(
        delivery_id=77,
        message_key="msg_01JABC",
        attempt=3,
        route="to wms/atl",
        event={**SAMPLE_EVENT, "subject": "../RSV 1/2"},
    )
    assert file_name("{type}-{message_key}.csv", message) == "reservation.requested-msg_01JABC.csv"
    # No way out of the outbox, and never a hidden name.
    assert file_name("{subject}.csv", message) == "_._RSV_1_2.csv"
    assert file_name("{route}-{delivery_id:06d}.csv", message) == "to_wms_atl-000077.csv"


def test_delivery_is_whole_once_and_never_over_another_file(tmp_path: Path) -> None:
    assert deliver(tmp_path, "a.csv", b"x,y\r\n") is True
    assert deliver(tmp_path, "a.csv", b"x,y\r\n") is False  # a retry: already there
    with pytest.raises(OutboxOccupied):
        deliver(tmp_path, "a.csv", b"other\r\n")
    assert (tmp_path / "a.csv").read_bytes() == b"x,y\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temporary file left
    with pytest.raises(FileNotFoundError):
        deliver(tmp_path / "missing", "b.csv", b"z")
