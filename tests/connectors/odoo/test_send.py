"""Booking receipts in the fake Odoo: quantities, validation, backorders, failures, retries."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.odoo import OdooConnector
from connectors.odoo.testing import PASSWORD, FakeOdoo, MoveLine, Network, OrderLine, receipt_event
from connectors.sdk import MemoryState, OutboundMessage, OutcomeKind, SendOutcome
from connectors.sdk.testing import PeerRequest, PeerResponse
from tests.connectors.odoo.conftest import drive


def purchase(odoo: FakeOdoo, network: Network, name: str = "P00100") -> int:
    return odoo.add_purchase_order(
        network.supplier,
        [
            OrderLine(network.product("NTR-GLV-L-CS10"), 400, 38.75),
            OrderLine(network.product("SAN-GEL-1GA"), 12.5, 12.49, uom="kg"),
        ],
        warehouse=network.warehouse,
        name=name,
    )


def message(
    lines: list[dict[str, Any]], po: str = "P00100", key: str = "msg_01", **extra: Any
) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=7,
        message_key=key,
        attempt=1,
        route="receipts-to-odoo",
        event=receipt_event(po),
        payload={"po_number": po, "receipt_ref": "RCV-1", "lines": lines, **extra},
    )


def send(
    odoo: FakeOdoo, outbound: OutboundMessage, state: MemoryState | None = None, **config: Any
) -> SendOutcome:
    async def use(connector: OdooConnector) -> SendOutcome:
        return await connector.send(outbound)

    return drive(odoo, use, state=state, **config)


def receipts(odoo: FakeOdoo, po: str = "P00100") -> list[dict[str, Any]]:
    return odoo.rows("stock.picking", origin=po)


def quantities(odoo: FakeOdoo, picking: int) -> list[tuple[str, float, float]]:
    return [
        (m["state"], m["product_uom_qty"], m["quantity"])
        for m in odoo.rows("stock.move", picking_id=picking)
    ]


def test_a_complete_receipt_is_booked_and_validated(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    outcome = send(
        odoo,
        message(
            [{"sku": "NTR-GLV-L-CS10", "quantity": 400}, {"sku": "SAN-GEL-1GA", "quantity": 12.5}]
        ),
    )
    assert outcome.kind is OutcomeKind.DELIVERED, outcome
    [picking] = receipts(odoo)
    assert picking["state"] == "done"
    assert quantities(odoo, picking["id"]) == [("done", 400, 400), ("done", 12.5, 12.5)]
    [first, second] = odoo.rows(
        "purchase.order.line", order_id=odoo.rows("purchase.order", name="P00100")[0]["id"]
    )
    assert (first["qty_received"], second["qty_received"]) == (400, 12.5)


def test_a_short_receipt_leaves_a_backorder_and_the_next_books_on_it(
    odoo: FakeOdoo, network: Network
) -> None:
    purchase(odoo, network)
    state = MemoryState()
    first = send(odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 396}], key="msg_a"), state)
    assert first.delivered, first
    original, backorder = receipts(odoo)
    assert original["state"] == "done"
    assert quantities(odoo, original["id"]) == [("done", 396, 396), ("cancel", 12.5, 0)]
    assert backorder["backorder_id"] == [original["id"], original["name"]]
    assert backorder["state"] == "assigned"
    assert quantities(odoo, backorder["id"]) == [("assigned", 4, 4), ("assigned", 12.5, 12.5)]
    # The second delivery of goods completes the order, on the backorder.
    rest: list[dict[str, Any]] = [
        {"sku": "NTR-GLV-L-CS10", "quantity": 4},
        {"sku": "SAN-GEL-1GA", "quantity": "12.50"},
    ]
    assert send(odoo, message(rest, key="msg_b"), state).delivered
    assert [p["state"] for p in receipts(odoo)] == ["done", "done"]


def test_without_backorders_the_rest_is_dropped(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    outcome = send(
        odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 396.5}]), create_backorders=False
    )
    assert outcome.delivered, outcome
    [picking] = receipts(odoo)
    assert quantities(odoo, picking["id"]) == [("done", 396.5, 396.5), ("cancel", 12.5, 0)]


def test_lots_of_one_sku_add_up_and_fill_its_moves_in_order(
    odoo: FakeOdoo, network: Network
) -> None:
    gloves = network.product("NTR-GLV-L-CS10")
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(gloves, 100, 1.0), OrderLine(gloves, 50, 1.0)],
        warehouse=network.warehouse,
        name="P00100",
    )
    lots = [{"sku": "NTR-GLV-L-CS10", "quantity": 0.1}] * 3 + [
        {"sku": "NTR-GLV-L-CS10", "quantity": 119.7}
    ]
    assert send(odoo, message(lots)).delivered
    original, backorder = receipts(odoo)
    # 120 exactly (0.1 * 3 + 119.7 in decimals, not 119.99999999999999): 100 on the first
    # move, 20 on the second, 30 left.
    assert quantities(odoo, original["id"]) == [("done", 100, 100), ("done", 20, 20)]
    assert quantities(odoo, backorder["id"]) == [("assigned", 30, 30)]


def test_a_retry_after_a_lost_answer_books_nothing_twice(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    state = MemoryState()
    answer = odoo.peer.handler
    assert answer is not None

    def lose_the_validation_answer(request: PeerRequest) -> PeerResponse:
        response = answer(request)
        if b"button_validate" in request.body:
            return PeerResponse(502, {"error": "the proxy lost Odoo's answer"})
        return response

    odoo.peer.handler = lose_the_validation_answer
    short = message([{"sku": "NTR-GLV-L-CS10", "quantity": 396}])
    lost = send(odoo, short, state)
    assert (lost.kind, lost.status_code) == (OutcomeKind.HTTP_ERROR, 502)
    original, backorder = receipts(odoo)
    assert original["state"] == "done"  # Odoo did it; the hub does not know

    odoo.peer.handler = answer
    retried = send(odoo, short, state)
    assert retried.delivered, retried
    assert quantities(odoo, backorder["id"]) == [("assigned", 4, 4), ("assigned", 12.5, 12.5)]
    assert odoo.calls.count(("stock.picking", "button_validate")) == 1
    assert state.values["receipt:msg_01"]["phase"] == "done"

    # A backfill of the same message later: still nothing booked again.
    writes = odoo.calls.count(("stock.move", "write"))
    assert send(odoo, short, state).delivered
    assert odoo.calls.count(("stock.move", "write")) == writes
    assert odoo.calls.count(("stock.picking", "button_validate")) == 1


def test_a_named_transfer_is_the_one_booked(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    second = odoo.add_picking(
        "incoming",
        network.supplier,
        [MoveLine(network.product("NTR-GLV-L-CS10"), 10, 10)],
        warehouse=network.warehouse,
        origin="P00100",
    )
    name = odoo.row("stock.picking", second)["name"]
    outcome = send(odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 10}], picking=name))
    assert outcome.delivered, outcome
    assert [p["state"] for p in receipts(odoo)] == ["assigned", "done"]


@pytest.mark.parametrize(
    ("lines", "po", "error"),
    [
        (
            [{"sku": "NTR-GLV-L-CS10", "quantity": 1}],
            "P09999",
            "no open receipt for purchase order 'P09999'",
        ),
        (
            [{"sku": "NO-SUCH-SKU", "quantity": 1}],
            "P00100",
            "no product with the reference NO-SUCH-SKU",
        ),
        (
            [{"sku": "NTR-GLV-L-CS10", "quantity": 1}, {"sku": "HYD-HOSE-R2-12", "quantity": 1}],
            "P00100",
            "the receipt's HYD-HOSE-R2-12 is not on PO P00100",
        ),
        (
            [{"sku": "HYD-HOSE-R2-12", "quantity": 1, "line_no": 3}],
            "P00100",
            "receipt line 3 (HYD-HOSE-R2-12) is not on PO P00100",
        ),
    ],
)
def test_what_odoo_does_not_hold_is_refused_for_good(
    odoo: FakeOdoo, network: Network, lines: list[dict[str, Any]], po: str, error: str
) -> None:
    purchase(odoo, network)
    outcome = send(odoo, message(lines, po=po))
    assert outcome.kind is OutcomeKind.REJECTED
    assert error in (outcome.error or "")
    assert all(p["state"] == "assigned" for p in receipts(odoo))


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"po_number": "P00100", "lines": []},
        {"po_number": "P00100", "lines": [{"sku": "A", "quantity": -1}]},
        {"po_number": "P00100", "lines": [{"sku": "A", "quantity": 1}], "extra": True},
    ],
)
def test_a_payload_that_is_not_a_receipt_is_a_mapping_error(
    odoo: FakeOdoo, network: Network, payload: Any
) -> None:
    outbound = OutboundMessage(1, "msg_x", 1, "r", receipt_event("P00100"), payload)
    outcome = send(odoo, outbound)
    assert outcome.kind is OutcomeKind.MAPPING_ERROR
    assert ("common", "login") not in odoo.calls  # refused before reaching Odoo


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("odoo.exceptions.UserError", OutcomeKind.REJECTED, None),
        ("odoo.exceptions.ValidationError", OutcomeKind.REJECTED, None),
        ("psycopg2.errors.SerializationFailure", OutcomeKind.CONFLICT, None),
        ("builtins.MemoryError", OutcomeKind.HTTP_ERROR, 500),
    ],
)
def test_odoo_exceptions_become_outcomes_the_hub_classifies(
    odoo: FakeOdoo, network: Network, name: str, kind: OutcomeKind, status: int | None
) -> None:
    purchase(odoo, network)
    odoo.fail_next_call(name, "something went wrong", method="button_validate")
    outcome = send(odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 400}]))
    assert (outcome.kind, outcome.status_code) == (kind, status)
    assert name in (outcome.error or "")


def test_a_wrong_password_or_missing_rights_is_refused_for_good(
    odoo: FakeOdoo, network: Network
) -> None:
    purchase(odoo, network)
    lines = [{"sku": "NTR-GLV-L-CS10", "quantity": 400}]
    wrong = send(odoo, message(lines), password="wrong-password")
    assert wrong.kind is OutcomeKind.REJECTED
    assert "refused the login" in (wrong.error or "")

    odoo.add_user("reader", "reader-pass", can_write=False)
    denied = send(odoo, message(lines), login="reader", password="reader-pass")
    assert denied.kind is OutcomeKind.REJECTED
    assert "odoo.exceptions.AccessError" in (denied.error or "")
    assert PASSWORD not in repr(denied)


def test_http_failures_keep_their_status_and_retry_after(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    odoo.peer.script(PeerResponse(429, {"error": "slow down"}, {"Retry-After": "12"}))
    outcome = send(odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 400}]))
    assert (outcome.kind, outcome.status_code, outcome.retry_after) == (
        OutcomeKind.HTTP_ERROR,
        429,
        12.0,
    )
    odoo.peer.script(PeerResponse(200, "<html>gateway</html>"))
    garbled = send(odoo, message([{"sku": "NTR-GLV-L-CS10", "quantity": 400}]))
    assert (garbled.kind, garbled.status_code) == (OutcomeKind.HTTP_ERROR, 502)


def test_a_product_already_received_in_full_is_not_expected_again(
    odoo: FakeOdoo, network: Network
) -> None:
    purchase(odoo, network)
    state = MemoryState()
    assert send(odoo, message([{"sku": "SAN-GEL-1GA", "quantity": 12.5}], key="a"), state).delivered
    again = send(odoo, message([{"sku": "SAN-GEL-1GA", "quantity": 1}], key="b"), state)
    assert again.kind is OutcomeKind.REJECTED
    assert "expects none of SAN-GEL-1GA" in (again.error or "")


def test_a_receipt_beyond_the_tolerance_is_refused_whole_and_within_it_booked(
    odoo: FakeOdoo, network: Network
) -> None:
    purchase(odoo, network)
    state = MemoryState()
    over = message(
        [
            {"sku": "NTR-GLV-L-CS10", "quantity": 300, "line_no": 1},
            {"sku": "NTR-GLV-L-CS10", "quantity": 140.5, "line_no": 2},
            {"sku": "SAN-GEL-1GA", "quantity": 12.5, "line_no": 3},
        ],
        key="over",
    )
    outcome = send(odoo, over, state, receipt_tolerance_percent=10)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.error == (
        "receipt lines 1, 2 (NTR-GLV-L-CS10): 440.5 received now + 0 before = 440.5, over the "
        "receiving tolerance of PO P00100: at most 440 (ordered 400 + 10%)"
    )
    assert ("stock.move", "write") not in odoo.calls  # nothing booked, not even the gel
    [picking] = receipts(odoo)
    assert picking["state"] == "assigned"

    # 396 now and 44 later is 440: within 10 %. One more is not, counting what came before.
    first = message([{"sku": "NTR-GLV-L-CS10", "quantity": 396, "line_no": 1}], key="first")
    assert send(odoo, first, state, receipt_tolerance_percent=10).delivered
    late = message([{"sku": "NTR-GLV-L-CS10", "quantity": 45, "line_no": 1}], key="late")
    refused = send(odoo, late, state, receipt_tolerance_percent=10)
    assert refused.kind is OutcomeKind.REJECTED
    assert "receipt line 1 (NTR-GLV-L-CS10): 45 received now + 396 before = 441" in (
        refused.error or ""
    )
    assert "at most 440" in (refused.error or "")
    within = message([{"sku": "NTR-GLV-L-CS10", "quantity": 44, "line_no": 1}], key="within")
    assert send(odoo, within, state, receipt_tolerance_percent=10).delivered
    _original, backorder, _gel_still_due = receipts(odoo)
    assert quantities(odoo, backorder["id"])[0] == ("done", 44, 44)  # 4 expected, 40 over
    [order] = odoo.rows("purchase.order", name="P00100")
    [gloves, _gel] = odoo.rows("purchase.order.line", order_id=order["id"])
    assert gloves["qty_received"] == 440


def test_without_a_tolerance_any_over_receipt_is_booked(odoo: FakeOdoo, network: Network) -> None:
    purchase(odoo, network)
    lines = [{"sku": "NTR-GLV-L-CS10", "quantity": 900}, {"sku": "SAN-GEL-1GA", "quantity": 12.5}]
    assert send(odoo, message(lines)).delivered
    [picking] = receipts(odoo)
    assert quantities(odoo, picking["id"]) == [("done", 900, 900), ("done", 12.5, 12.5)]


def test_a_retried_receipt_is_not_refused_by_its_own_booking(
    odoo: FakeOdoo, network: Network
) -> None:
    purchase(odoo, network)
    state = MemoryState()
    full = message([{"sku": "NTR-GLV-L-CS10", "quantity": 430}], key="full")
    assert send(odoo, full, state, receipt_tolerance_percent=10).delivered
    # The same message again (a backfill): already booked, whatever the tolerance says now.
    assert send(odoo, full, state, receipt_tolerance_percent=0).delivered
    assert odoo.calls.count(("stock.picking", "button_validate")) == 1


def test_every_problem_of_a_receipt_is_named_in_one_refusal(
    odoo: FakeOdoo, network: Network
) -> None:
    odoo.add_purchase_order(
        network.supplier,
        [OrderLine(network.product("NTR-GLV-L-CS10"), 100, 38.75)],
        warehouse=network.warehouse,
        name="P00400",
    )
    over = [
        {"sku": "NTR-GLV-L-CS10", "quantity": 120, "line_no": 1},
        {"sku": "SAN-GEL-1GA", "quantity": 12, "line_no": 2},
    ]
    outcome = send(odoo, message(over, po="P00400"), receipt_tolerance_percent=10)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.error == (
        "receipt line 1 (NTR-GLV-L-CS10): 120 received now + 0 before = 120, over the "
        "receiving tolerance of PO P00400: at most 110 (ordered 100 + 10%); "
        "receipt line 2 (SAN-GEL-1GA) is not on PO P00400"
    )
    # Kept to the tolerance, the stray carton refused (0 accepted): booked.
    kept = [
        {"sku": "NTR-GLV-L-CS10", "quantity": 110, "line_no": 1},
        {"sku": "SAN-GEL-1GA", "quantity": 0, "line_no": 2},
    ]
    fixed = send(odoo, message(kept, po="P00400", key="msg_02"), receipt_tolerance_percent=10)
    assert fixed.delivered, fixed
    [picking] = receipts(odoo, "P00400")
    assert quantities(odoo, picking["id"]) == [("done", 110, 110)]
