"""Scenario 3: a transfer between two warehouses.

The planner moves stock from Atlanta to Dallas: the transfer is announced to the Dallas
3PL as a 943; the carrier reports milestones X6 (en route) → X1 (arrived at delivery
location) → D1 (delivered) in three 214s; the Dallas 3PL counts the goods in and reports a
944 with 3 cases short. Every partner file is acknowledged with a 997.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.scenarios.world import World, acknowledgement, read_document, read_interchange, wait_for

TRANSFER = "TO-ATL-DAL-26-0211"


def transfer_requested() -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "planning-transfer-0211",
        "source": "/planning",
        "type": "transfer.requested",
        "dataschema": "urn:crossdock:contract:transfer:1.0",
        "subject": TRANSFER,
        "time": "2026-11-20T14:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "transfer_id": TRANSFER,
            "from_location": {"code": "ATL", "name": "Atlanta distribution center"},
            "to_location": {"code": "DAL", "name": "Dallas distribution center"},
            "status": "requested",
            "ship_date": "2026-11-23",
            "carrier": "ODFL",
            "lines": [
                {
                    "line_no": 1,
                    "item": {"sku": "NTR-GLV-L-CS10", "gtin": "10085741200343"},
                    "requested_qty": 80,
                    "uom": "CS",
                    "lot": "GL2611-007",
                },
                {
                    "line_no": 2,
                    "item": {"sku": "SAN-GEL-1GA", "gtin": "085741204153"},
                    "requested_qty": 144,
                    "uom": "EA",
                },
            ],
        },
    }


def status_214(code: str, reason: str, date: str, at: str, city: str) -> list[list[str]]:
    """A carrier's 214 for the transfer's shipment: one AT7 status and the goods (SPO)."""
    return [
        ["B10", "ODFL-7814409931", TRANSFER, "ODFL"],
        ["L11", "BOL-80211", "BM"],
        ["N1", "SF", "Atlanta distribution center", "92", "ATL"],
        ["N1", "ST", "Dallas distribution center", "92", "DAL"],
        ["LX", "1"],
        ["AT7", code, reason, "", "", date, at, "CT"],
        ["MS1", city, "TX", "US"],
        ["SPO", TRANSFER, "NTR-GLV-L-CS10", "CS", "80"],
        ["SPO", TRANSFER, "SAN-GEL-1GA", "EA", "144"],
    ]


def receipt_944() -> list[list[str]]:
    """The Dallas 3PL's stock receipt: 77 of 80 cases (W13 02: 3 short), all 144 gel."""
    return [
        ["W17", "F", "20261124", "R-DAL-6120", TRANSFER, "ODFL-7814409931", "AT", "1015"],
        ["N1", "SF", "Atlanta distribution center", "92", "ATL"],
        ["N1", "ST", "Dallas distribution center", "92", "DAL"],
        ["W07", "77", "CA", "10085741200343", "VN", "NTR-GLV-L-CS10", "", "", "GL2611-007"],
        ["W13", "3", "CA", "02", "GL2611-007"],
        ["W07", "144", "EA", "085741204153", "VN", "SAN-GEL-1GA"],
        ["W14", "221"],
    ]


def test_a_transfer_is_announced_tracked_and_received_short(world: World) -> None:
    world.route(
        "transfers-to-dallas",
        "dal-3pl",
        ["transfer.requested"],
        mapping="x12-943-from-transfer-requested",
        filter="data.to_location.code == 'DAL'",
    )
    requested = world.post(transfer_requested())

    # 1. The 943 reaches the Dallas 3PL, its first interchange with us.
    world.delivered(requested)
    [name] = world.dallas_3pl.written("943-")
    assert name == "943-000000001.x12"
    interchange = read_interchange(world.dallas_3pl.outbox / name)
    assert (interchange.sender_id, interchange.receiver_id) == ("CROSSDOCK", "DALLAS3PL")
    assert interchange.control == "000000001"
    [group] = interchange.groups
    assert (group.functional_id, group.control) == ("AR", "1")
    advice = read_document(world.dallas_3pl.outbox / name, "943")
    assert advice["depositor_order_number"] == TRANSFER
    assert advice["parties"]["SF"]["id"] == "ATL" and advice["parties"]["ST"]["id"] == "DAL"
    assert [
        (line["quantity"], line["uom"], line["product_ids"]["SK"], line.get("lot"))
        for line in advice["lines"]
    ] == [("80", "CA", "NTR-GLV-L-CS10", "GL2611-007"), ("144", "EA", "SAN-GEL-1GA", None)]

    # 2. The carrier reports three milestones, a file each, in order.
    milestones = [
        ("X6", "NS", "20261123", "1410", "Texarkana"),
        ("X1", "NS", "20261124", "0620", "Dallas"),
        ("D1", "NS", "20261124", "0805", "Dallas"),
    ]
    for number, (code, reason, date, at, city) in enumerate(milestones, start=1):
        world.carrier.send(
            f"ODFL_214_{number}.x12",
            [("214", status_214(code, reason, date, at, city))],
            5500 + number,
        )
        wait_for(lambda n=number: world.carrier.settled(f"ODFL_214_{n}.x12"))  # type: ignore[misc]
    in_transit = world.events("transfer.in_transit", 3)
    assert [e["data"]["milestone"] for e in in_transit] == ["X6", "X1", "D1"]
    assert [e["time"] for e in in_transit] == [
        "2026-11-23T20:10:00Z",
        "2026-11-24T12:20:00Z",
        "2026-11-24T14:05:00Z",
    ]
    for event in in_transit:
        assert event["source"] == "/connections/odfl"
        assert event["subject"] == TRANSFER
        assert event["data"]["carrier"] == "ODFL"
        assert event["data"]["tracking_ref"] == "ODFL-7814409931"
        assert [(ln["item"]["sku"], ln["shipped_qty"]) for ln in event["data"]["lines"]] == [
            ("NTR-GLV-L-CS10", 80),
            ("SAN-GEL-1GA", 144),
        ]
    _acknowledged(world.carrier.outbox, ["5501", "5502", "5503"], "QM", "214")

    # 3. The Dallas 3PL counts the goods in: 3 cases short.
    world.dallas_3pl.send("DAL_944_1.x12", [("944", receipt_944())], 312)
    [received] = world.events("transfer.received", 1)
    assert received["source"] == "/connections/dal-3pl"
    assert received["subject"] == TRANSFER
    assert received["data"]["status"] == "received"
    assert received["data"]["to_location"]["code"] == "DAL"
    assert [
        (
            line["item"]["sku"],
            line["requested_qty"],
            line["received_qty"],
            line.get("exception_code"),
        )
        for line in received["data"]["lines"]
    ] == [("NTR-GLV-L-CS10", 80, 77, "short"), ("SAN-GEL-1GA", 144, 144, None)]
    settled = wait_for(lambda: world.dallas_3pl.settled("DAL_944_1.x12"))
    assert settled == world.dallas_3pl.inbox / "processed" / "DAL_944_1.x12"
    _acknowledged(world.dallas_3pl.outbox, ["312"], "RE", "944")

    # Everything the hub accepted, and nothing else: one request, three milestones, a receipt.
    assert [m["event"]["type"] for m in world.messages()] == [
        "transfer.requested",
        "transfer.in_transit",
        "transfer.in_transit",
        "transfer.in_transit",
        "transfer.received",
    ]
    assert world.dead_letters() == []
    assert world.dallas_3pl.written("943-") == ["943-000000001.x12"]


def _acknowledged(outbox: Path, groups: list[str], functional_id: str, set_id: str) -> None:
    """One accepting 997 per partner interchange, each naming its group and set."""
    acks = wait_for(lambda: (a := sorted(outbox.glob("997-*"))) and len(a) == len(groups) and a)
    bodies = sorted((acknowledgement(path) for path in acks), key=lambda body: int(body[0][2]))
    assert [body[0] for body in bodies] == [["AK1", functional_id, g] for g in groups]
    for body in bodies:
        assert body[1] == ["AK2", set_id, "0001"]
        assert body[-2:] == [["AK5", "A"], ["AK9", "A", "1", "1", "1"]]
