"""Transaction-set codecs: everything written reads back as written; every sample reads."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.x12.envelope import TransactionSet, parse_interchange
from connectors.x12.inbound import UNREADABLE, Partner, read_inbound
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import PAYLOADS, READERS, outbound_interchange
from connectors.x12.sets.functional_ack import acknowledgment_interchange
from connectors.x12.sets.loops import ReadContext
from connectors.x12.sets.payloads import document
from connectors.x12.testing import PURCHASE_ORDER, partner_interchange, ship_notice_body
from connectors.x12.writer import EnvelopeSettings, Party, X12Writer
from tests.conftest import REPO
from tests.connectors.x12.sample_files import EASTERN, SENDERS, read_sample, sample_text

WRITER = X12Writer(
    EnvelopeSettings(Party("ZZ", "CROSSDOCK", "CROSSDOCK"), Party("ZZ", "ACMESUPPLY", "ACMESUPPLY"))
)
WHEN = datetime(2026, 3, 16, 13, 5, tzinfo=UTC)
VECTORS = REPO / "mappings" / "x12" / "vectors"


def read_back(text: str) -> tuple[TransactionSet, dict[str, Any]]:
    [(chunk, separators)] = list(split_interchanges(text))
    interchange = parse_interchange(chunk, separators)
    assert interchange.problems == []
    [group] = interchange.groups
    assert group.accepted
    [transaction] = group.sets
    assert transaction.accepted, transaction.codes
    return transaction, READERS[transaction.set_id](
        transaction, ReadContext(UTC, separators.component)
    )


def round_trip(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    model = PAYLOADS.validate_python(payload)
    text = outbound_interchange(WRITER, model, interchange=1, group=1, set_control=1, when=WHEN)
    return document(model), read_back(text)[1]


SHIPPING_ORDER: dict[str, Any] = {
    "transaction_set": "940",
    "depositor_order_number": "RSV-9007199254740993",
    "po_number": "SO-1",
    "parties": {
        "ST": {
            "name": "Bolt & Nut Hardware",
            "id_qualifier": "91",
            "id": "CUST-1",
            "address": ["12 Harbor Rd", "Unit 4", "Dock 2"],
            "city": "Savannah",
            "state": "GA",
            "postal_code": "31401",
            "country": "US",
        },
        "WH": {"id_qualifier": "92", "id": "DC-ATL"},
    },
    "references": {"CO": "SO-1", "CO_2": "SO-1-B"},
    "dates": {"10": "2026-03-12", "02": "2026-03-14"},
    "carrier": {"payment": "CC", "method": "M", "routing": "LTL", "scac": "ODFL"},
    "lines": [
        {
            "line_id": 1,
            "quantity": "12.50",
            "uom": "KG",
            "upc": "012345678905",
            "product_ids": {"SK": "A-1", "UK": "00012345678905"},
            "lot": "L-7",
            "description": "Bolts",
        },
        {"line_id": "2", "quantity": 9007199254740993, "uom": "EA", "product_ids": {"SK": "B-2"}},
    ],
}

TRANSFER_SHIPMENT: dict[str, Any] = {
    "transaction_set": "943",
    "depositor_order_number": "TO-1",
    "ship_date": "2026-03-16",
    "shipment_id": "SHP-1",
    "po_number": "PO-7",
    "parties": {
        "SF": {"id_qualifier": "92", "id": "DC-ATL"},
        "ST": {"id_qualifier": "92", "id": "DC-DAL"},
    },
    "references": {"BM": "BOL-1"},
    "dates": {"17": "2026-03-18"},
    "carrier": {"method": "M", "scac": "ODFL", "routing": "Direct"},
    "lines": [
        {
            "quantity": 0.1,
            "uom": "KG",
            "upc": "012345678905",
            "product_ids": {"SK": "A"},
            "lot": "L1",
        },
        {
            "quantity": 3,
            "uom": "CA",
            "product_ids": {"SK": "B", "UK": "10085741200343"},
            "description": "Gloves",
        },
    ],
}


@pytest.mark.parametrize(
    "payload", [PURCHASE_ORDER, SHIPPING_ORDER, TRANSFER_SHIPMENT], ids=["850", "940", "943"]
)
def test_every_outbound_set_reads_back_as_written(payload: dict[str, Any]) -> None:
    expected, read = round_trip(payload)
    assert read == expected


def test_quantities_survive_exactly() -> None:
    _, read = round_trip(SHIPPING_ORDER)
    assert [line["quantity"] for line in read["lines"]] == ["12.5", "9007199254740993"]
    _, read = round_trip(TRANSFER_SHIPMENT)
    assert read["lines"][0]["quantity"] == "0.1"  # a float 0.1 is 0.1, not 0.1000000000000000055…
    _, read = round_trip(PURCHASE_ORDER)
    assert read["lines"][0]["unit_price"] == "38.75"
    assert Decimal(read["lines"][0]["quantity"]) == Decimal("12.5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines": []}, "at least 1 item"),
        ({"po_number": None}, "po_number"),
        ({"extra": 1}, "Extra inputs are not permitted"),
        ({"transaction_set": "810"}, "does not match any of the expected tags"),
    ],
)
def test_a_wrong_payload_is_refused(change: dict[str, Any], message: str) -> None:
    payload = {**copy.deepcopy(PURCHASE_ORDER), **change}
    with pytest.raises(ValueError, match=message):
        PAYLOADS.validate_python(payload)


def test_a_zero_quantity_and_a_negative_price_are_refused() -> None:
    payload = copy.deepcopy(PURCHASE_ORDER)
    payload["lines"][0]["quantity"] = 0
    with pytest.raises(ValueError, match="greater than zero"):
        PAYLOADS.validate_python(payload)
    payload["lines"][0]["quantity"] = 1
    payload["lines"][0]["unit_price"] = "-1"
    with pytest.raises(ValueError, match="must not be negative"):
        PAYLOADS.validate_python(payload)


def test_a_997_reads_back_with_every_code() -> None:
    text = sample_text("861-receiving-advice.x12").replace("RCD*2*228*", "RCD*2*22B*")
    read = read_sample("861-receiving-advice.x12", text)
    [owed] = read.owed
    ack = acknowledgment_interchange(
        WRITER,
        owed.interchange,
        owed.groups,
        ta1_owed=False,
        control=5,
        group_control=5,
        set_controls=[5],
        when=WHEN,
    )
    transaction, acknowledgment = read_back(ack)
    assert transaction.set_id == "997"
    assert acknowledgment == {
        "transaction_set": "997",
        "functional_id": "RC",
        "group_control": "9120",
        "version": None,
        "status": "R",
        "included": 1,
        "received": 1,
        "accepted": 0,
        "codes": [],
        "sets": [
            {
                "set_id": "861",
                "control": "0001",
                "status": "R",
                "codes": ["5"],
                "errors": [
                    {
                        "segment": "RCD",
                        "position": 14,
                        "code": "8",
                        "elements": [{"position": "2", "code": "6", "value": "22B"}],
                    }
                ],
            }
        ],
    }


def test_a_partially_accepted_group_says_so() -> None:
    good = ship_notice_body("ASN-1")
    bad = [*ship_notice_body("ASN-2")[:-2], ["SN1", "", "many", "KG"]]
    text = partner_interchange([("856", good), ("856", bad)], 77)
    read = read_sample("856-ship-notice.x12", text)
    assert [r.kind for r in read.records] == ["x12/856", UNREADABLE]
    [owed] = read.owed
    ack = acknowledgment_interchange(
        WRITER,
        owed.interchange,
        owed.groups,
        ta1_owed=False,
        control=6,
        group_control=6,
        set_controls=[6],
        when=WHEN,
    )
    _, acknowledgment = read_back(ack)
    assert (acknowledgment["status"], acknowledgment["accepted"], acknowledgment["received"]) == (
        "P",
        1,
        2,
    )
    assert [s["status"] for s in acknowledgment["sets"]] == ["A", "R"]


# -- the inbound samples ---------------------------------------------------------------------

EXPECTED_KINDS = {
    "214-shipment-status.x12": ["x12/214"],
    "855-po-acknowledgment.x12": ["x12/855"],
    "856-5010-separators.x12": ["x12/856"],
    "856-ship-notice.x12": ["x12/856"],
    "861-receiving-advice.x12": ["x12/861"],
    "870-order-status.x12": ["x12/870", "x12/870"],
    "944-stock-receipt.x12": ["x12/944"],
    "945-shipping-advice.x12": ["x12/945"],
    "997-functional-ack.x12": [],
}


@pytest.mark.parametrize("name", sorted(SENDERS))
def test_every_sample_reads_into_records_of_its_kind(name: str) -> None:
    read = read_sample(name)
    assert [r.kind for r in read.records] == EXPECTED_KINDS[name]
    for record in read.records:
        orjson.dumps(record.data)  # JSON-ready, as the hub needs
        assert record.data["x12"]["sender_id"] == SENDERS[name]
        assert record.id is not None and record.id.startswith(SENDERS[name] + ":")


@pytest.mark.parametrize(
    ("sample", "vector"),
    [
        ("214-shipment-status.x12", "214-shipment-status.json"),
        ("855-po-acknowledgment.x12", "855-po-acknowledgment.json"),
        ("856-ship-notice.x12", "856-ship-notice.json"),
        ("861-receiving-advice.x12", "861-receiving-advice.json"),
        ("870-order-status.x12", "870-order-status-item-1.json"),
        ("944-stock-receipt.x12", "944-stock-receipt.json"),
        ("945-shipping-advice.x12", "945-shipping-advice.json"),
    ],
)
def test_the_mapping_vectors_are_what_reading_the_samples_gives(sample: str, vector: str) -> None:
    """The mappings' test inputs are the real documents the connector produces."""
    read = read_sample(sample)
    assert read.records[0].data == orjson.loads((VECTORS / vector).read_bytes())


def test_the_856_tree_gives_each_item_its_order_and_nearest_pack() -> None:
    body: list[Any] = [
        ["BSN", "00", "ASN-9", "20260325", "2210", "0001"],
        ["HL", "1", "", "S"],
        ["HL", "2", "1", "O"],
        ["PRF", "PO-1"],
        ["HL", "3", "2", "T"],
        ["MAN", "GM", "00008574120000007314"],
        ["HL", "4", "3", "P"],
        ["MAN", "GM", "008574120000009998"],
        ["HL", "5", "4", "I"],
        ["LIN", "1", "BP", "A"],
        ["SN1", "", "2", "EA"],
        ["HL", "6", "3", "I"],
        ["LIN", "2", "BP", "B"],
        ["SN1", "", "3", "EA"],
    ]
    [record] = read_sample("856-ship-notice.x12", partner_interchange([("856", body)], 9)).records
    items = record.data["items"]
    assert [(i["line_no"], i["po_number"], i["sscc"]) for i in items] == [
        (1, "PO-1", "008574120000009998"),
        (2, "PO-1", "008574120000007314"),
    ]
    assert [(p["level"], p["line_nos"]) for p in record.data["packs"]] == [
        ("T", [1, 2]),
        ("P", [1]),
    ]


def test_times_follow_the_zone_the_segment_names() -> None:
    [record] = read_sample("214-shipment-status.x12").records
    statuses = record.data["statuses"]
    assert statuses[0]["at"] == "2026-03-16T19:30:00-04:00"  # ET, daylight saving
    assert statuses[1]["at"] == "2026-03-18T03:12:00-05:00"  # CT
    [record] = read_sample("856-ship-notice.x12").records
    assert record.data["created_at"] == "2026-03-25T22:10:05-04:00"  # the connection's zone
    assert EASTERN.key == "America/New_York"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "BSN*00*ACME-ASN-558120*20260325*221005*0001~\n",
            "",
            "BSN (segment 2 of the set): the mandatory BSN segment",
        ),
        (
            "SN1**400*CA**400*CA",
            "SN1**4O0*CA**400*CA",
            "SN102 (segment 18 of the set): the number of units shipped '4O0' is not a number",
        ),
        (
            "DTM*036*20290228",
            "DTM*036*20290230",
            "DTM02 (segment 21 of the set): DTM 036 date '20290230' is not a date",
        ),
        (
            "BSN*00*ACME-ASN-558120*20260325*221005",
            "BSN*00*ACME-ASN-558120*20260325*2610",
            "BSN04 (segment 2 of the set): the shipment time '2610' is not a time",
        ),
        (
            "HL*4*3*I",
            "HL*4*9*I",
            "HL02 (segment 16 of the set): parent HL 9 is not defined before it",
        ),
        (
            "MAN*GM*00008574120000007314",
            "MAN*GM*SSCC-7314",
            "MAN02 (segment 15 of the set): 'SSCC-7314' is not an SSCC-18",
        ),
    ],
)
def test_a_set_that_cannot_be_read_becomes_an_unreadable_record_naming_the_place(
    old: str, new: str, problem: str
) -> None:
    text = sample_text("856-ship-notice.x12")
    assert old in text
    text = text.replace(old, new)
    if not new:  # one segment fewer
        text = text.replace("SE*41*0001", "SE*40*0001")
    read = read_sample("856-ship-notice.x12", text)
    [record] = read.records
    assert record.kind == UNREADABLE
    assert record.data["error"].startswith(problem), record.data["error"]
    assert record.data["text"].startswith("ST*856*0001~")
    assert (record.data["transaction_set"], record.data["set_control"]) == ("856", "0001")
    [owed] = read.owed
    assert not owed.groups[0].sets[0].accepted


def test_a_set_without_a_reader_is_still_a_record() -> None:
    text = (
        partner_interchange([("856", ship_notice_body("A"))], 3)
        .replace("ST*856", "ST*810")
        .replace("GS*SH", "GS*IN")
    )
    [record] = read_sample("856-ship-notice.x12", text).records
    assert record.kind == "x12/810"
    assert record.data["segments"][0] == ["BSN", "00", "A", "20261124", "0900", "0002"]


def test_an_interchange_from_someone_else_is_unreadable_and_answered_with_a_ta1() -> None:
    text = sample_text("856-ship-notice.x12").replace(
        "*ZZ*CROSSDOCK      *", "*ZZ*OTHERHUB       *"
    )
    read = read_sample("856-ship-notice.x12", text)
    [record] = read.records
    assert record.kind == UNREADABLE
    assert "is not us (ZZ/CROSSDOCK)" in record.data["error"]
    [owed] = read.owed
    assert owed.ta1 and owed.groups == []


def test_a_file_that_is_not_x12_is_one_unreadable_record() -> None:
    read = read_sample("856-ship-notice.x12", "<order><po>1</po></order>")
    [record] = read.records
    assert record.kind == UNREADABLE
    assert "must start with an ISA segment" in record.data["error"]
    assert record.data["text"] == "<order><po>1</po></order>"
    assert read.owed == []


def test_the_partner_997_is_read_not_passed_on() -> None:
    read = read_sample("997-functional-ack.x12")
    assert read.records == []
    assert read.owed[0].owed is False  # nobody acknowledges a 997
    [ack] = read.partner_997s
    assert (ack["functional_id"], ack["group_control"], ack["status"]) == ("PO", "17", "A")


def test_every_sample_has_a_sender() -> None:
    assert len(list((Path(__file__).parent / "samples").glob("*.x12"))) == len(SENDERS)


def test_a_test_interchange_never_reaches_a_production_connection() -> None:
    text = sample_text("856-ship-notice.x12").replace("*0*P*>~", "*0*T*>~")
    partner = Partner("ZZ", "ACMESUPPLY", "ZZ", "CROSSDOCK", usage="P")
    read = read_inbound(text, "test.x12", partner, EASTERN)
    [record] = read.records
    assert record.kind == UNREADABLE
    assert "marked 'T' in ISA15, this connection takes 'P'" in record.data["error"]
    assert read.owed[0].ta1  # the partner learns why
