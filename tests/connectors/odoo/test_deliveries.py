"""Booking reservations in the fake Odoo: deliveries created and reserved, changed, cancelled,
never twice; what Odoo does not know refused for good."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.odoo import OdooConnector
from connectors.odoo.testing import FakeOdoo, MoveLine, Network, reservation_event
from connectors.sdk import MemoryState, OutboundMessage, OutcomeKind, SendOutcome
from connectors.sdk.testing import PeerRequest, PeerResponse
from tests.connectors.odoo.conftest import drive

ORDER = "1001"


def payload(
    lines: dict[str, float] | None = None,
    *,
    action: str = "deliver",
    warehouse: str = "ATL",
    customer: str | None = "CUST-US-00871",
    per_line: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "action": action,
        "reservation_id": f"RES-{ORDER}",
        "order_ref": ORDER,
        "customer_ref": customer,
        "lines": per_line
        if per_line is not None
        else [
            {"sku": sku, "warehouse": warehouse, "quantity": quantity}
            for sku, quantity in (lines or {}).items()
        ],
    }


def send(
    odoo: FakeOdoo, body: dict[str, Any] | None, state: MemoryState | None = None
) -> SendOutcome:
    event = "cancelled" if body and body.get("action") == "cancel" else "requested"
    outbound = OutboundMessage(
        delivery_id=9,
        message_key="msg_res",
        attempt=1,
        route="reservations-to-odoo",
        event=reservation_event(ORDER, {}, event=event),
        payload=body,
    )

    async def use(connector: OdooConnector) -> SendOutcome:
        return await connector.send(outbound)

    return drive(odoo, use, state=state)


def deliveries(odoo: FakeOdoo) -> list[dict[str, Any]]:
    return odoo.pickings(ORDER, "outgoing")


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


def test_a_reservation_becomes_a_delivery_reserved_as_stock_allows(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves, gel = network.product("NTR-GLV-L-CS10"), network.product("SAN-GEL-1GA")
    odoo.set_stock(gloves, network.warehouse, 6)
    odoo.set_stock(gel, network.warehouse, 40)
    state = MemoryState()
    outcome = send(odoo, payload({"NTR-GLV-L-CS10": 10, "SAN-GEL-1GA": 2.5}), state)
    assert outcome.delivered, outcome
    [delivery] = deliveries(odoo)
    assert delivery["state"] == "assigned"
    assert delivery["partner_id"][0] == odoo.rows("res.partner", ref="CUST-US-00871")[0]["id"]
    assert delivery["picking_type_id"][0] == odoo.picking_type(network.warehouse, "outgoing")
    assert delivery["location_id"][1] == "ATL/Stock"
    assert delivery["location_dest_id"][1] == "Partners/Customers"
    assert moves(odoo, delivery["id"]) == [
        ("NTR-GLV-L-CS10", "partially_available", 10, 6),
        ("SAN-GEL-1GA", "assigned", 2.5, 2.5),
    ]
    assert [c for c in odoo.calls if c[0] == "stock.picking"] == [
        ("stock.picking", "search_read"),
        ("stock.picking", "create"),
        ("stock.picking", "action_confirm"),
        ("stock.picking", "action_assign"),
    ]
    assert state.values[f"order:{ORDER}"] == {"reservation_id": f"RES-{ORDER}", "cancelled": False}


def test_a_repeated_or_retried_request_creates_no_second_delivery(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.set_stock(network.product("NTR-GLV-L-CS10"), network.warehouse, 3)
    answer = odoo.peer.handler
    assert answer is not None

    def lose_the_create_answer(request: PeerRequest) -> PeerResponse:
        response = answer(request)
        if b'"create"' in request.body:
            return PeerResponse(502, {"error": "the proxy lost Odoo's answer"})
        return response

    odoo.peer.handler = lose_the_create_answer
    lost = send(odoo, payload({"NTR-GLV-L-CS10": 10}))
    assert (lost.kind, lost.status_code) == (OutcomeKind.HTTP_ERROR, 502)
    [draft] = deliveries(odoo)
    assert draft["state"] == "draft"  # Odoo made it; nobody confirmed it

    odoo.peer.handler = answer
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10})).delivered
    [delivery] = deliveries(odoo)
    assert delivery["state"] == "assigned"
    assert moves(odoo, delivery["id"]) == [("NTR-GLV-L-CS10", "partially_available", 10, 3)]

    # The same request again (a Shopify orders/updated that changed nothing): no write.
    writes = [c for c in odoo.calls if c[1] in ("create", "write")]
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10})).delivered
    assert [c for c in odoo.calls if c[1] in ("create", "write")] == writes
    assert len(deliveries(odoo)) == 1


def test_a_changed_order_changes_the_demands_and_reserves_again(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 6)
    odoo.set_stock(network.product("HYD-HOSE-R2-12"), network.warehouse, 100)
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10, "SAN-GEL-1GA": 5})).delivered
    [delivery] = deliveries(odoo)

    # Fewer gloves than reserved: Odoo unreserves, the connector reserves again.
    changed = payload({"NTR-GLV-L-CS10": 4, "SAN-GEL-1GA": 5, "HYD-HOSE-R2-12": 12.5})
    assert send(odoo, changed).delivered
    assert moves(odoo, delivery["id"]) == [
        ("NTR-GLV-L-CS10", "assigned", 4, 4),
        ("SAN-GEL-1GA", "confirmed", 5, 0),
        ("HYD-HOSE-R2-12", "assigned", 12.5, 12.5),
    ]
    # A line removed (its demand goes to 0) and more of another.
    assert send(odoo, payload({"NTR-GLV-L-CS10": 8, "HYD-HOSE-R2-12": 12.5})).delivered
    assert moves(odoo, delivery["id"]) == [
        ("NTR-GLV-L-CS10", "partially_available", 8, 6),
        ("SAN-GEL-1GA", "confirmed", 0, 0),
        ("HYD-HOSE-R2-12", "assigned", 12.5, 12.5),
    ]
    assert len(deliveries(odoo)) == 1


def test_a_change_after_a_partial_shipment_lands_on_the_backorder(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 6)
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10})).delivered
    [delivery] = deliveries(odoo)
    backorder = odoo.validate(delivery["id"])  # the warehouse ships the 6 it has
    assert backorder is not None
    assert odoo.on_hand(gloves, network.warehouse) == 0
    assert moves(odoo, backorder) == [("NTR-GLV-L-CS10", "confirmed", 4, 0)]

    # The customer now wants 12: 6 shipped, so 6 still to come, on the backorder.
    assert send(odoo, payload({"NTR-GLV-L-CS10": 12})).delivered
    assert moves(odoo, backorder) == [("NTR-GLV-L-CS10", "confirmed", 6, 0)]
    assert len(deliveries(odoo)) == 2

    # Everything shipped, and the customer adds a product: a new delivery for it.
    odoo.set_stock(gloves, network.warehouse, 6)
    odoo.run_scheduler()
    assert odoo.validate(backorder) is None
    assert send(odoo, payload({"NTR-GLV-L-CS10": 12, "SAN-GEL-1GA": 1})).delivered
    *_, added = deliveries(odoo)
    assert moves(odoo, added["id"]) == [("SAN-GEL-1GA", "confirmed", 1, 0)]
    assert len(deliveries(odoo)) == 3


def test_lines_at_two_warehouses_make_two_deliveries(odoo: FakeOdoo, network: Network) -> None:
    dallas = odoo.add_warehouse("DAL", "Dallas distribution center")
    odoo.set_stock(network.product("SAN-GEL-1GA"), dallas, 5)
    lines = [
        {"sku": "NTR-GLV-L-CS10", "warehouse": "ATL", "quantity": 2},
        {"sku": "SAN-GEL-1GA", "warehouse": "DAL", "quantity": 5},
        {"sku": "SAN-GEL-1GA", "warehouse": "DAL", "quantity": 1},  # lines of one SKU add up
    ]
    assert send(odoo, payload(per_line=lines)).delivered
    atlanta, texas = deliveries(odoo)
    assert (atlanta["name"], texas["name"]) == ("ATL/OUT/00001", "DAL/OUT/00001")
    assert moves(odoo, texas["id"]) == [("SAN-GEL-1GA", "partially_available", 6, 5)]
    # The order moves wholly to Atlanta: the Dallas delivery is cancelled, its stock freed.
    assert send(odoo, payload({"NTR-GLV-L-CS10": 2, "SAN-GEL-1GA": 6})).delivered
    assert [p["state"] for p in deliveries(odoo)] == ["confirmed", "cancel"]


def test_a_cancellation_cancels_the_delivery_and_its_backorders_once(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.set_stock(gloves, network.warehouse, 8)
    state = MemoryState()
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10}), state).delivered
    [delivery] = deliveries(odoo)
    backorder = odoo.validate(delivery["id"], {gloves: 5})  # 5 shipped, 3 stay reserved
    assert backorder is not None
    assert moves(odoo, backorder) == [("NTR-GLV-L-CS10", "partially_available", 5, 3)]
    # Another customer's delivery with the same origin is not this order's.
    other = odoo.add_partner("Someone else", ref="CUST-OTHER")
    foreign = odoo.add_picking(
        "outgoing", other, [MoveLine(gloves, 1, 0)], warehouse=network.warehouse, origin=ORDER
    )

    assert send(odoo, payload(action="cancel"), state).delivered
    states = {p["id"]: p["state"] for p in deliveries(odoo)}
    assert states == {delivery["id"]: "done", backorder: "cancel", foreign: "confirmed"}
    assert moves(odoo, backorder) == [("NTR-GLV-L-CS10", "cancel", 5, 0)]
    assert odoo.on_hand(gloves, network.warehouse) == 3  # on hand, and free again

    # Again: nothing left to cancel. A later request for the reservation books nothing.
    cancels = odoo.calls.count(("stock.picking", "action_cancel"))
    assert send(odoo, payload(action="cancel"), state).delivered
    assert send(odoo, payload({"NTR-GLV-L-CS10": 10}), state).delivered
    assert odoo.calls.count(("stock.picking", "action_cancel")) == cancels
    assert ("stock.picking", "create") not in odoo.calls[-5:]
    assert len(deliveries(odoo)) == 3
    assert state.values[f"order:{ORDER}"]["cancelled"] is True


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            payload({"NTR-GLV-L-CS10": 1}, customer="CUST-NOBODY"),
            "no customer with the Reference 'CUST-NOBODY'",
        ),
        (payload({"NO-SUCH-SKU": 1}), "no product with the reference NO-SUCH-SKU"),
        (payload({"NTR-GLV-L-CS10": 1}, warehouse="XYZ"), "no warehouse with the code XYZ"),
        (payload(action="cancel", customer="CUST-NOBODY"), "CUST-NOBODY"),
    ],
)
def test_what_odoo_does_not_know_is_refused_for_good(
    odoo: FakeOdoo, network: Network, body: dict[str, Any], error: str
) -> None:
    outcome = send(odoo, body)
    assert outcome.kind is OutcomeKind.REJECTED
    assert error in (outcome.error or "")
    assert deliveries(odoo) == []
    assert ("stock.picking", "create") not in odoo.calls


@pytest.mark.parametrize(
    "body",
    [
        {"action": "deliver", "reservation_id": "R", "order_ref": "1", "customer_ref": "C"},
        payload({"NTR-GLV-L-CS10": 1}, customer=None),
        {**payload({"NTR-GLV-L-CS10": 1}), "action": "release"},
        {**payload({"NTR-GLV-L-CS10": -1})},
    ],
)
def test_a_payload_that_is_not_a_delivery_is_a_mapping_error(
    odoo: FakeOdoo, network: Network, body: dict[str, Any]
) -> None:
    outcome = send(odoo, body)
    assert outcome.kind is OutcomeKind.MAPPING_ERROR
    assert "not an odoo delivery payload" in (outcome.error or "")
    assert ("common", "login") not in odoo.calls


def test_odoo_refusing_the_delivery_is_permanent_and_a_conflict_is_retried(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.fail_next_call("odoo.exceptions.ValidationError", "mandatory field", method="create")
    refused = send(odoo, payload({"NTR-GLV-L-CS10": 1}))
    assert refused.kind is OutcomeKind.REJECTED
    odoo.fail_next_call(
        "psycopg2.errors.SerializationFailure", "could not serialize", method="action_assign"
    )
    conflict = send(odoo, payload({"NTR-GLV-L-CS10": 1}))
    assert conflict.kind is OutcomeKind.CONFLICT
    assert send(odoo, payload({"NTR-GLV-L-CS10": 1})).delivered
    [delivery] = deliveries(odoo)
    assert delivery["state"] == "confirmed"  # nothing on hand: waiting, not lost
