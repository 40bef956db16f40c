"""Polling the fake Odoo: the cursor, the settle delay, versions, and the records' shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from connectors.odoo import OdooConnector
from connectors.odoo.polling import Cursor
from connectors.odoo.testing import FakeOdoo, MoveLine, Network, OrderLine
from connectors.sdk import MemoryState, NativeRecord, PollResult
from tests.connectors.odoo.conftest import drive

SECOND = datetime(2026, 3, 16, 13, 5, 0)


def order(odoo: FakeOdoo, network: Network, **extra: Any) -> int:
    return odoo.add_purchase_order(
        network.supplier,
        [OrderLine(network.product("NTR-GLV-L-CS10"), 400, 38.75)],
        warehouse=network.warehouse,
        **extra,
    )


async def drain(
    connector: OdooConnector, cursor: str | None = None
) -> tuple[list[PollResult], str | None]:
    """Poll until caught up, telling the connector each page landed, as the hub does."""
    pages = []
    for _ in range(50):
        page = await connector.poll(cursor)
        pages.append(page)
        await connector.committed(page.records, ["accepted"] * len(page.records), page)
        cursor = page.next_cursor
        if not page.more:
            break
    return pages, cursor


def names(pages: list[PollResult]) -> list[str]:
    return [r.data["name"] for page in pages for r in page.records]


def test_records_written_in_one_second_are_each_read_once_across_pages(
    odoo: FakeOdoo, network: Network
) -> None:
    # Seven orders in one second, written in the reverse order of their ids: Odoo orders
    # by the full write_date, which it answers to the second only.
    for n in range(7):
        order(
            odoo,
            network,
            name=f"P-SAME-{n}",
            write_date=SECOND + timedelta(microseconds=900_000 - n * 100_000),
        )

    async def use(connector: OdooConnector) -> tuple[list[PollResult], list[PollResult]]:
        pages, cursor = await drain(connector)
        order(odoo, network, name="P-LATE", write_date=SECOND + timedelta(microseconds=950_000))
        order(odoo, network, name="P-NEXT", write_date=SECOND + timedelta(seconds=1))
        later, _ = await drain(connector, cursor)
        return pages, later

    pages, later = drive(odoo, use, page_size=2)
    assert sorted(names(pages)) == [f"P-SAME-{n}" for n in range(7)]
    assert len(pages) == 4 and [p.more for p in pages] == [True, True, True, False]
    assert names(later) == ["P-LATE", "P-NEXT"]


def test_the_cursor_is_per_stream_and_survives_a_round_trip(
    odoo: FakeOdoo, network: Network
) -> None:
    order(odoo, network, write_date=SECOND)

    async def use(connector: OdooConnector) -> str | None:
        return (await connector.poll(None)).next_cursor

    cursor = drive(odoo, use)
    assert cursor is not None
    parsed = orjson.loads(cursor)
    assert parsed["purchase_orders"]["at"] == "2026-03-16 13:05:00"
    assert Cursor.parse(cursor, None).dump() == cursor
    with pytest.raises(ValueError, match="not an odoo connector cursor"):
        Cursor.parse("42", None)


def test_start_at_leaves_older_records_out(odoo: FakeOdoo, network: Network) -> None:
    order(odoo, network, name="P-OLD", write_date=datetime(2025, 12, 31, 23, 59, 59))
    order(odoo, network, name="P-NEW", write_date=datetime(2026, 1, 1, 0, 0, 1))

    async def use(connector: OdooConnector) -> list[PollResult]:
        return (await drain(connector))[0]

    assert names(drive(odoo, use, start_at="2026-01-01T01:00:00+01:00")) == ["P-NEW"]


def test_records_younger_than_the_settle_delay_wait_for_the_next_poll(
    odoo: FakeOdoo, network: Network
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    order(odoo, network, name="P-SETTLED", write_date=now - timedelta(seconds=120))
    order(odoo, network, name="P-FRESH", write_date=now - timedelta(seconds=5))

    async def use(connector: OdooConnector) -> list[PollResult]:
        return (await drain(connector))[0]

    assert names(drive(odoo, use, settle_seconds=60)) == ["P-SETTLED"]
    assert ("common", "version") in odoo.calls  # the poll read Odoo's clock
    assert names(drive(odoo, use, settle_seconds=1)) == ["P-SETTLED", "P-FRESH"]


def test_a_rewrite_without_news_is_skipped_and_a_change_is_a_change(
    odoo: FakeOdoo, network: Network
) -> None:
    first = order(odoo, network, write_date=SECOND)
    state = MemoryState()

    async def poll_all(connector: OdooConnector) -> list[NativeRecord]:
        pages, _ = await drain(connector)
        return [r for page in pages for r in page.records]

    [released] = drive(odoo, poll_all, state=state)
    assert released.data["event"] == "new"
    assert released.id == f"purchase.order:{first}@2026-03-16 13:05:00"
    assert state.values[f"seen:purchase_orders:{first}"]["write_date"] == "2026-03-16 13:05:00"

    odoo.touch("purchase.order", first, at=SECOND + timedelta(minutes=1))
    assert drive(odoo, poll_all, state=state) == []

    [line] = odoo.rows("purchase.order.line", order_id=first)
    odoo.models["purchase.order.line"][line["id"]]["product_qty"] = 450.0
    odoo.touch("purchase.order", first, at=SECOND + timedelta(minutes=2))
    [changed] = drive(odoo, poll_all, state=state)
    assert changed.data["event"] == "changed"
    assert changed.data["order_line"][0]["product_qty"] == 450.0
    assert changed.id == f"purchase.order:{first}@2026-03-16 13:07:00"

    # Without the connector's memory (a fresh connection), everything is new again.
    assert [r.data["event"] for r in drive(odoo, poll_all)] == ["new"]


def test_a_dead_lettered_version_is_not_remembered(odoo: FakeOdoo, network: Network) -> None:
    first = order(odoo, network, write_date=SECOND)
    state = MemoryState()

    async def refused(connector: OdooConnector) -> None:
        page = await connector.poll(None)
        await connector.committed(page.records, ["dead_lettered"], page)

    drive(odoo, refused, state=state)
    assert state.values == {}

    odoo.touch("purchase.order", first, at=SECOND + timedelta(minutes=1))

    async def again(connector: OdooConnector) -> list[NativeRecord]:
        return list((await connector.poll(None)).records)

    [record] = drive(odoo, again, state=state)
    assert record.data["event"] == "new"


def test_a_purchase_order_record_joins_what_a_mapping_needs(
    odoo: FakeOdoo, network: Network
) -> None:
    big = 9007199254740993  # 2**53 + 1: a float would make it ...992
    odoo.add_purchase_order(
        network.supplier,
        [
            OrderLine(network.product("NTR-GLV-L-CS10"), 400, 38.75),
            OrderLine(network.product("SAN-GEL-1GA"), 12.345, 0.1, uom="kg"),
        ],
        warehouse=network.warehouse,
        id=big,
        name="P04512",
        partner_ref="ACME-SO-1",
        sections=["Gloves and gel"],
        write_date=SECOND,
    )
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(network.product("NTR-GLV-L-CS10"), 5, 1.0)],
        warehouse=network.warehouse,
        state="draft",
        write_date=SECOND,
    )

    async def use(connector: OdooConnector) -> list[NativeRecord]:
        return list((await connector.poll(None)).records)

    [record] = drive(odoo, use, watch=["purchase_orders"])
    assert record.kind == "odoo/purchase.order"
    data = record.data
    assert data["id"] == big and isinstance(data["id"], int)
    assert data["partner_ref"] == "ACME-SO-1"
    assert data["origin"] is None  # Odoo's false for an empty field
    assert data["user_id"] is None
    assert data["currency_id"] == {"id": 1, "name": "USD"}
    assert data["partner_id"]["ref"] == "VEND-ACME-0042"
    assert data["partner_id"]["commercial_partner_id"]["ref"] == "VEND-ACME-0042"
    assert data["picking_type_id"]["code"] == "incoming"
    assert data["picking_type_id"]["warehouse_id"]["code"] == "ATL"
    assert data["picking_type_id"]["display_name"] == "Atlanta distribution center: Receipts"
    lines = data["order_line"]
    assert [line["product_id"]["default_code"] for line in lines] == [
        "NTR-GLV-L-CS10",
        "SAN-GEL-1GA",
    ]
    assert [line["product_qty"] for line in lines] == [400.0, 12.345]
    assert [line["price_unit"] for line in lines] == [38.75, 0.1]
    assert [line["product_uom"]["name"] for line in lines] == ["Units", "kg"]
    assert all("order_id" not in line for line in lines)
    # Partners, products, operation types and warehouses were read once each.
    reads = [call for call in odoo.calls if call[1] == "read"]
    assert sorted(reads) == sorted(set(reads))


def test_reservations_and_backorders_of_the_watched_warehouses(
    odoo: FakeOdoo, network: Network
) -> None:
    other = odoo.add_warehouse("DAL", "Dallas distribution center")
    gloves, hose = network.product("NTR-GLV-L-CS10"), network.product("HYD-HOSE-R2-12")
    ready = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(gloves, 60, 60), MoveLine(hose, 152.5, 84.25, uom="m")],
        warehouse=network.warehouse,
        origin="S00012",
        write_date=SECOND,
    )
    odoo.add_picking(  # nothing reserved: waiting, not a reservation
        "outgoing",
        network.customer,
        [MoveLine(gloves, 5, 0)],
        warehouse=network.warehouse,
        origin="S00013",
        write_date=SECOND,
    )
    odoo.add_picking(  # another warehouse
        "outgoing",
        network.customer,
        [MoveLine(gloves, 5, 5)],
        warehouse=other,
        origin="S00014",
        write_date=SECOND,
    )
    backorder = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(hose, 68.25, 0, uom="m")],
        warehouse=network.warehouse,
        origin="S00012",
        backorder_of=ready,
        write_date=SECOND,
    )

    async def use(connector: OdooConnector) -> list[NativeRecord]:
        return list((await connector.poll(None)).records)

    records = drive(odoo, use, warehouses=["ATL"])
    assert [(r.kind, r.data["id"]) for r in records] == [
        ("odoo/stock.reservation", ready),
        ("odoo/stock.backorder", backorder),
    ]
    reservation = records[0].data
    assert [m["quantity"] for m in reservation["move_ids"]] == [60.0, 84.25]
    assert [m["state"] for m in reservation["move_ids"]] == ["assigned", "partially_available"]
    assert reservation["partner_id"]["commercial_partner_id"]["ref"] == "CUST-US-00871"
    assert records[1].data["backorder_id"] == {"id": ready, "name": "ATL/OUT/00001"}

    # Only receipts' backorders, and only what is watched.
    assert drive(odoo, use, backorder_types=["incoming"], watch=["backorders"]) == []
    assert [r.kind for r in drive(odoo, use, watch=["reservations"])] == [
        "odoo/stock.reservation",
        "odoo/stock.reservation",
    ]


def records_of(odoo: FakeOdoo, state: MemoryState, **config: Any) -> list[NativeRecord]:
    """Every record the next polls read, remembered in ``state`` as the hub would."""

    async def use(connector: OdooConnector) -> list[NativeRecord]:
        pages, _ = await drain(connector)
        return [r for page in pages for r in page.records]

    return drive(odoo, use, state=state, **config)


def set_clock(odoo: FakeOdoo, minutes: int) -> None:
    """Odoo's clock ``minutes`` after ``SECOND``: what it writes next is dated then, a second
    that is over (a poll reads only those)."""
    odoo.clock = lambda: SECOND + timedelta(minutes=minutes)


def fills(records: list[NativeRecord]) -> list[tuple[str, str, float, float]]:
    return [
        (
            r.data["event"],
            r.data["fill"]["status"],
            r.data["fill"]["open_qty"],
            r.data["fill"]["filled_qty"],
        )
        for r in records
    ]


def test_a_delivery_backorder_fills_as_stock_is_reserved_for_it(
    odoo: FakeOdoo, network: Network
) -> None:
    hose = network.product("HYD-HOSE-R2-12")
    ready = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(hose, 100, 100, uom="m")],
        warehouse=network.warehouse,
        origin="S1",
        write_date=SECOND,
    )
    backorder = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(hose, 40, 0, uom="m")],
        warehouse=network.warehouse,
        origin="S1",
        backorder_of=ready,
        write_date=SECOND,
    )
    state = MemoryState()
    [created] = records_of(odoo, state, watch=["backorders"])
    assert fills([created]) == [("new", "open", 40.0, 0.0)]
    assert created.data["move_ids"][0]["fill"] == {"open_qty": 40.0, "filled_qty": 0.0}

    # Written again without news (the reserved quantity is what counts, not the write).
    odoo.touch("stock.picking", backorder, at=SECOND + timedelta(minutes=1))
    assert records_of(odoo, state, watch=["backorders"]) == []

    [move] = odoo.rows("stock.move", picking_id=backorder)
    odoo.reserve(move["id"], 15.5, at=SECOND + timedelta(minutes=2))  # some stock arrived
    assert fills(records_of(odoo, state, watch=["backorders"])) == [
        ("changed", "partially_filled", 24.5, 15.5)
    ]
    odoo.reserve(move["id"], 40, at=SECOND + timedelta(minutes=3))  # the rest
    [filled] = records_of(odoo, state, watch=["backorders"])
    assert fills([filled]) == [("changed", "filled", 0.0, 40.0)]

    # Shipping it changes nothing the backorder says: filled it stays, once.
    set_clock(odoo, 4)
    odoo.validate(backorder)
    assert records_of(odoo, state, watch=["backorders"]) == []
    assert odoo.row("stock.picking", backorder)["state"] == "done"

    # ... but as a reservation, stock held for it was news (beside the delivery).
    reservations = records_of(odoo, MemoryState(), watch=["reservations"])
    assert [r.data["id"] for r in reservations] == [ready]


def test_a_cancelled_backorder_and_a_received_one_end_their_story(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves, gel = network.product("NTR-GLV-L-CS10"), network.product("SAN-GEL-1GA")
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(gloves, 400, 38.75), OrderLine(gel, 10, 1.0)],
        warehouse=network.warehouse,
        name="P1",
        write_date=SECOND,
    )
    [receipt] = odoo.pickings("P1")
    set_clock(odoo, 1)
    received = odoo.validate(receipt["id"], {gloves: 396, gel: 4})
    assert received is not None
    state = MemoryState()
    [created] = records_of(odoo, state, watch=["backorders"])
    # A receipt's backorder is open until it is received, however "reserved" it looks.
    assert fills([created]) == [("new", "open", 10.0, 0.0)]

    set_clock(odoo, 2)
    rest = odoo.validate(received, {gloves: 4, gel: 3})  # gel still one short
    assert rest is not None
    records = records_of(odoo, state, watch=["backorders"])
    assert [(r.data["id"], *f) for r, f in zip(records, fills(records), strict=True)] == [
        (received, "changed", "filled", 0.0, 7.0),
        (rest, "new", "open", 3.0, 0.0),
    ]
    assert [m["fill"] for m in records[0].data["move_ids"]] == [
        {"open_qty": 0.0, "filled_qty": 4.0},
        {"open_qty": 0.0, "filled_qty": 3.0},
    ]

    set_clock(odoo, 3)
    odoo.cancel(rest)
    [cancelled] = records_of(odoo, state, watch=["backorders"])
    assert fills([cancelled]) == [("changed", "cancelled", 3.0, 0.0)]
    assert [m["state"] for m in cancelled.data["move_ids"]] == ["cancel"]
    assert records_of(odoo, state, watch=["backorders"]) == []


def test_a_cancelled_delivery_is_news_only_when_its_reservation_was(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")

    def delivery(origin: str, reserved: float) -> int:
        return odoo.add_picking(
            "outgoing",
            network.customer,
            [MoveLine(gloves, 10, reserved)],
            warehouse=network.warehouse,
            origin=origin,
            write_date=SECOND,
        )

    reported = delivery("S-REPORTED", 10)
    never_ready = delivery("S-WAITING", 0)
    booked = delivery("1001", 0)  # a delivery the connector booked for a reservation
    state = MemoryState()
    state.values["order:1001"] = {"reservation_id": "SHOP-1001", "cancelled": False}
    [confirmed] = records_of(odoo, state, watch=["reservations"])
    assert confirmed.data["id"] == reported
    assert confirmed.data["crossdock_reservation_id"] is None

    set_clock(odoo, 1)
    for picking in (reported, never_ready, booked):
        odoo.cancel(picking)
    records = records_of(odoo, state, watch=["reservations"])
    assert [(r.data["id"], r.data["event"], r.data["state"]) for r in records] == [
        (reported, "changed", "cancel"),
        (booked, "new", "cancel"),
    ]
    assert records[1].data["crossdock_reservation_id"] == "SHOP-1001"
    # A cancelled transfer keeps its (cancelled) moves: the lines of what was released.
    assert [(m["state"], m["quantity"]) for m in records[0].data["move_ids"]] == [("cancel", 0.0)]
    assert records_of(odoo, state, watch=["reservations"]) == []
