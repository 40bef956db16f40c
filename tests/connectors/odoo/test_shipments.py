"""Booking a warehouse's shipments of reservations in the fake Odoo: the delivery validated
with what shipped, the rest backordered and not held; never twice; what cannot be booked
refused for good."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.odoo import OdooConnector
from connectors.odoo.testing import (
    FakeOdoo,
    MoveLine,
    Network,
    reservation_event,
    shipment_event,
)
from connectors.sdk import MemoryState, OutboundMessage, OutcomeKind, SendOutcome
from connectors.sdk.testing import PeerRequest, PeerResponse
from tests.connectors.odoo.conftest import drive

ORDER = "WEB-2002"
RESERVATION = "SHOP-5800123456789020002"
GLOVES, GEL = "NTR-GLV-L-CS10", "SAN-GEL-1GA"


def ship(
    lines: dict[str, float],
    *,
    reservation: str = RESERVATION,
    warehouse: str | None = "ATL",
    numbered: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "ship",
        "reservation_id": reservation,
        "lines": [
            {"sku": sku, "quantity": quantity, **({"line_no": n} if numbered else {})}
            for n, (sku, quantity) in enumerate(lines.items(), start=1)
        ],
    }
    if warehouse is not None:
        body["warehouse"] = warehouse
    return body


def send(
    odoo: FakeOdoo, body: dict[str, Any] | None, state: MemoryState, key: str = "msg_945"
) -> SendOutcome:
    action = (body or {}).get("action")
    event = (
        shipment_event(RESERVATION, {GLOVES: 8})
        if action == "ship"
        else reservation_event(
            ORDER,
            {},
            reservation_id=RESERVATION,
            event="cancelled" if action == "cancel" else "requested",
        )
    )
    outbound = OutboundMessage(
        delivery_id=11, message_key=key, attempt=1, route="to-odoo", event=event, payload=body
    )

    async def use(connector: OdooConnector) -> SendOutcome:
        return await connector.send(outbound)

    return drive(odoo, use, state=state)


def reserve(
    odoo: FakeOdoo, state: MemoryState, lines: dict[str, float], action: str = "deliver"
) -> None:
    """The shop's reservation booked in Odoo by the connector, as the reservations route does."""
    body = {
        "action": action,
        "reservation_id": RESERVATION,
        "order_ref": ORDER,
        "customer_ref": "CUST-US-00871",
        "lines": [{"sku": sku, "warehouse": "ATL", "quantity": q} for sku, q in lines.items()],
    }
    outcome = send(odoo, body, state, key=f"msg_{action}")
    assert outcome.delivered, outcome


def deliveries(odoo: FakeOdoo, order: str = ORDER) -> list[dict[str, Any]]:
    return odoo.pickings(order, "outgoing")


def moves(odoo: FakeOdoo, picking: int) -> list[tuple[str, str, float, float]]:
    return [
        (
            m["product_id"][1].split("]")[0].lstrip("["),
            m["state"],
            m["product_uom_qty"],
            m["quantity"],
        )
        for m in odoo.rows("stock.move", picking_id=picking)
    ]


def validations(odoo: FakeOdoo) -> int:
    return odoo.calls.count(("stock.picking", "button_validate"))


def test_a_short_shipment_is_booked_and_the_rest_backordered_without_stock(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves, gel = network.product(GLOVES), network.product(GEL)
    odoo.set_stock(gloves, network.warehouse, 10)
    odoo.set_stock(gel, network.warehouse, 12.5)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10, GEL: 12.5})
    [delivery] = deliveries(odoo)
    assert moves(odoo, delivery["id"]) == [
        (GLOVES, "assigned", 10, 10),
        (GEL, "assigned", 12.5, 12.5),
    ]

    outcome = send(odoo, ship({GLOVES: 8, GEL: 12.5}), state)
    assert outcome.delivered, outcome
    shipped, backorder = deliveries(odoo)
    assert shipped["id"] == delivery["id"]
    assert shipped["state"] == "done"
    assert moves(odoo, shipped["id"]) == [(GLOVES, "done", 8, 8), (GEL, "done", 12.5, 12.5)]
    assert backorder["backorder_id"] == [shipped["id"], shipped["name"]]
    # The 3PL could not ship 2: Odoo still counts them on hand, but holds none for the
    # order (it would release them to the 3PL again); the backorder waits for stock.
    assert odoo.on_hand(gloves, network.warehouse) == 2
    assert backorder["state"] == "confirmed"
    assert moves(odoo, backorder["id"]) == [(GLOVES, "confirmed", 2, 0)]
    assert odoo.on_hand(gel, network.warehouse) == 0
    assert validations(odoo) == 1
    assert state.values["shipment:msg_945"]["phase"] == "done"


def test_a_full_shipment_leaves_no_backorder_and_a_later_one_finds_nothing_to_book(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 10)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    assert send(odoo, ship({GLOVES: 10}), state).delivered
    [delivery] = deliveries(odoo)
    assert delivery["state"] == "done"
    # Another shipment of the reservation (a 945 sent again under new control numbers):
    # everything has shipped, nothing is booked.
    writes = odoo.calls.count(("stock.move", "write"))
    assert send(odoo, ship({GLOVES: 10}), state, key="msg_945_again").delivered
    assert odoo.calls.count(("stock.move", "write")) == writes
    assert validations(odoo) == 1


def test_a_retry_after_a_lost_answer_validates_nothing_twice(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 10)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    answer = odoo.peer.handler
    assert answer is not None

    def lose_the_validation_answer(request: PeerRequest) -> PeerResponse:
        response = answer(request)
        if b"button_validate" in request.body:
            return PeerResponse(502, {"error": "the proxy lost Odoo's answer"})
        return response

    odoo.peer.handler = lose_the_validation_answer
    lost = send(odoo, ship({GLOVES: 8}), state)
    assert (lost.kind, lost.status_code) == (OutcomeKind.HTTP_ERROR, 502)
    shipped, backorder = deliveries(odoo)
    assert shipped["state"] == "done"  # Odoo did it; the hub does not know
    assert moves(odoo, backorder["id"]) == [(GLOVES, "assigned", 2, 2)]  # Odoo reserved it

    odoo.peer.handler = answer
    retried = send(odoo, ship({GLOVES: 8}), state)
    assert retried.delivered, retried
    assert validations(odoo) == 1
    # The retry finished what the first attempt could not: the 2 not shipped are let go.
    assert moves(odoo, backorder["id"]) == [(GLOVES, "confirmed", 2, 0)]
    assert state.values["shipment:msg_945"]["phase"] == "done"

    # The same message again (a replay, a backfill): nothing written at all.
    calls = len(odoo.calls)
    assert send(odoo, ship({GLOVES: 8}), state).delivered
    assert [c for c in odoo.calls[calls:] if c[1] in ("write", "button_validate")] == []
    assert len(deliveries(odoo)) == 2


def test_a_retry_after_a_failed_write_books_what_the_delivery_first_held(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 10)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    odoo.fail_next_call(
        "psycopg2.errors.SerializationFailure", "could not serialize", method="button_validate"
    )
    conflict = send(odoo, ship({GLOVES: 8}), state)
    assert conflict.kind is OutcomeKind.CONFLICT
    [delivery] = deliveries(odoo)
    assert moves(odoo, delivery["id"]) == [(GLOVES, "partially_available", 10, 8)]  # written

    # Retried: 8 of the 10 it held before the write, not of the 8 it holds now.
    assert send(odoo, ship({GLOVES: 8}), state).delivered
    _shipped, backorder = deliveries(odoo)
    assert moves(odoo, backorder["id"]) == [(GLOVES, "confirmed", 2, 0)]


def test_the_backorder_keeps_stock_the_shipment_did_not_leave_behind(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product(GLOVES)
    odoo.set_stock(gloves, network.warehouse, 6)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})  # 6 of 10 held; the 940 asked the 3PL for 6
    odoo.set_stock(gloves, network.warehouse, 9)  # 3 more counted in, not yet reserved
    assert send(odoo, ship({GLOVES: 5}), state).delivered  # 1 short of the 6
    _shipped, backorder = deliveries(odoo)
    # Odoo reserves 4 for the backorder (9 - 5 on hand); the 1 the 3PL lacked is let go.
    assert moves(odoo, backorder["id"]) == [(GLOVES, "partially_available", 5, 3)]
    assert odoo.on_hand(gloves, network.warehouse) == 4


def test_several_moves_of_a_product_ship_in_order(odoo: FakeOdoo, network: Network) -> None:
    gloves = network.product(GLOVES)
    odoo.set_stock(gloves, network.warehouse, 10)
    picking = odoo.add_picking(
        "outgoing",
        network.customer,
        [MoveLine(gloves, 4, 4), MoveLine(gloves, 6, 6)],
        warehouse=network.warehouse,
        origin="S00871",
    )
    name = odoo.row("stock.picking", picking)["name"]
    # A reservation Odoo made itself goes out under its delivery's name.
    outcome = send(odoo, ship({GLOVES: 7}, reservation=name), MemoryState())
    assert outcome.delivered, outcome
    assert moves(odoo, picking) == [(GLOVES, "done", 4, 4), (GLOVES, "done", 3, 3)]
    [_shipped, backorder] = deliveries(odoo, "S00871")
    assert moves(odoo, backorder["id"]) == [(GLOVES, "confirmed", 3, 0)]


def test_the_warehouse_the_goods_left_picks_the_delivery(odoo: FakeOdoo, network: Network) -> None:
    gloves, gel = network.product(GLOVES), network.product(GEL)
    dallas = odoo.add_warehouse("DAL", "Dallas distribution center")
    odoo.set_stock(gloves, network.warehouse, 2)
    odoo.set_stock(gel, dallas, 5)
    state = MemoryState()
    lines = [
        {"sku": GLOVES, "warehouse": "ATL", "quantity": 2},
        {"sku": GEL, "warehouse": "DAL", "quantity": 5},
    ]
    body = {
        "action": "deliver",
        "reservation_id": RESERVATION,
        "order_ref": ORDER,
        "customer_ref": "CUST-US-00871",
        "lines": lines,
    }
    assert send(odoo, body, state, key="msg_deliver").delivered
    assert send(odoo, ship({GEL: 5}, warehouse="DAL"), state).delivered
    assert [p["state"] for p in deliveries(odoo)] == ["assigned", "done"]

    nowhere = send(odoo, ship({GLOVES: 2}, warehouse="XYZ"), state, key="msg_2")
    assert nowhere.kind is OutcomeKind.REJECTED
    assert nowhere.error == f"Odoo has no delivery of reservation {RESERVATION} at warehouse XYZ"


def test_a_shipment_of_a_cancelled_delivery_is_refused_for_good(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 10)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    assert send(odoo, ship({GLOVES: 8}), state).delivered
    reserve(odoo, state, {GLOVES: 10}, action="cancel")
    shipped, backorder = deliveries(odoo)
    assert (shipped["state"], backorder["state"]) == ("done", "cancel")

    late = send(odoo, ship({GLOVES: 2}), state, key="msg_945_late")
    assert late.kind is OutcomeKind.REJECTED
    assert late.error == (
        f"the delivery of reservation {RESERVATION} at warehouse ATL still to ship is "
        f"cancelled in Odoo ({backorder['name']}): the shipment cannot be booked"
    )
    assert validations(odoo) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            ship({GLOVES: 11}),
            f"shipment line 1 ({GLOVES}): 11 shipped, more than the 10 ATL/OUT/00001 holds "
            f"for reservation {RESERVATION}",
        ),
        (
            ship({GLOVES: 8, "HYD-HOSE-R2-12": 1, "NO-SUCH-SKU": 1}),
            "Odoo knows no product with the reference NO-SUCH-SKU; "
            "shipment line 2 (HYD-HOSE-R2-12) is not on ATL/OUT/00001",
        ),
        (
            ship({GLOVES: 10.5}, numbered=False),
            f"{GLOVES}: 10.5 shipped, more than the 10 ATL/OUT/00001 holds",
        ),
        (
            ship({GLOVES: 0}),
            f"the shipment of reservation {RESERVATION} ships nothing: nothing to book on "
            "ATL/OUT/00001",
        ),
        (
            ship({GLOVES: 8}, reservation="RSV-UNKNOWN"),
            "Odoo knows no reservation 'RSV-UNKNOWN': this connection booked no order for it, "
            "and no delivery has that name",
        ),
    ],
)
def test_what_the_delivery_cannot_take_is_refused_whole(
    odoo: FakeOdoo, network: Network, body: dict[str, Any], error: str
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 10)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    outcome = send(odoo, body, state)
    assert outcome.kind is OutcomeKind.REJECTED
    assert error in (outcome.error or "")
    assert ("stock.move", "write") not in odoo.calls
    [delivery] = deliveries(odoo)
    assert moves(odoo, delivery["id"]) == [(GLOVES, "assigned", 10, 10)]


def test_a_reservation_held_short_ships_no_more_than_odoo_holds(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product(GLOVES), network.warehouse, 6)
    state = MemoryState()
    reserve(odoo, state, {GLOVES: 10})
    over = send(odoo, ship({GLOVES: 8}), state)
    assert over.kind is OutcomeKind.REJECTED
    assert "8 shipped, more than the 6 ATL/OUT/00001 holds" in (over.error or "")
    assert send(odoo, ship({GLOVES: 6}), state, key="msg_945_fixed").delivered
    _shipped, backorder = deliveries(odoo)
    assert moves(odoo, backorder["id"]) == [(GLOVES, "confirmed", 4, 0)]


@pytest.mark.parametrize(
    "body",
    [
        {"action": "ship", "reservation_id": RESERVATION, "lines": []},
        {
            "action": "ship",
            "reservation_id": RESERVATION,
            "lines": [{"sku": GLOVES, "quantity": -1}],
        },
        {**ship({GLOVES: 1}), "order_ref": ORDER},
        {**ship({GLOVES: 1}), "action": "release"},
        {**ship({GLOVES: 1}), "reservation_id": ""},
    ],
)
def test_a_payload_that_is_not_a_shipment_is_a_mapping_error(
    odoo: FakeOdoo, network: Network, body: dict[str, Any]
) -> None:
    outcome = send(odoo, body, MemoryState())
    assert outcome.kind is OutcomeKind.MAPPING_ERROR
    assert "not an odoo delivery payload" in (outcome.error or "")
    assert ("common", "login") not in odoo.calls
