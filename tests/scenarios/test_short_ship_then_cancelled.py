"""Scenario 5: a 3PL short-ship (945 with 2 short) → backorder → the customer cancels →
reservation released and backorder cancelled; an out-of-order Shopify update is ignored by
its timestamp.

A shop order for 10 gloves is booked in Odoo, which reserves all 10; the confirmed
reservation goes to the Atlanta 3PL as a 940. The 3PL ships 8 (its 945 reports 2 short);
the hub books the shipment in Odoo, which keeps the 2 on a backorder. The customer cancels
the order in Shopify: the hub cancels it in Odoo, whose released reservation and cancelled
backorder come back as canonical messages. An edit of the order made before the
cancellation, delivered by Shopify after it, changes nothing.
"""

from __future__ import annotations

from connectors.shopify.testing import webhook
from tests.scenarios.world import World, acknowledgement, read_document, shop_order, sscc, wait_for

ORDER_ID = 5800123456789020002
RESERVATION = f"SHOP-{ORDER_ID}"
GLOVES = "NTR-GLV-L-CS10"


def test_a_short_shipped_order_cancelled_by_the_customer_releases_everything(
    world: World,
) -> None:
    gloves = world.network.product(GLOVES)
    world.odoo.set_stock(gloves, world.network.warehouse, 10)
    world.route(
        "orders-to-erp",
        "odoo-erp",
        ["reservation.requested", "reservation.cancelled"],
        mapping="odoo-delivery",
        filter="source == '/connections/shop'",
    )
    world.route(
        "releases-to-3pl",
        "atl-3pl",
        ["reservation.confirmed"],
        mapping="x12-940-from-reservation-released",
        filter="data.status == 'confirmed' && data.lines[0].location.code == 'ATL'",
    )
    world.route("shipments-to-erp", "odoo-erp", ["transfer.shipped"], mapping="odoo-shipment")

    # 1. The order for 10 is booked in Odoo, reserved whole and released to the 3PL (940).
    placed = shop_order(
        ORDER_ID, {GLOVES: 10}, updated_at="2026-11-24T09:00:05-05:00", name="#WEB-2002"
    )
    world.shopify_sends(webhook("orders/create", placed))
    [requested] = world.events("reservation.requested", 1)
    assert requested["subject"] == RESERVATION
    [confirmed] = world.events("reservation.confirmed", 1)
    assert confirmed["data"]["status"] == "confirmed"
    assert [(ln["requested_qty"], ln["reserved_qty"]) for ln in confirmed["data"]["lines"]] == [
        (10, 10)
    ]
    [order_file] = wait_for(lambda: world.atlanta_3pl.written("940-"))
    shipping_order = read_document(world.atlanta_3pl.outbox / order_file, "940")
    assert shipping_order["depositor_order_number"] == RESERVATION
    assert shipping_order["po_number"] == "WEB-2002"
    assert shipping_order["parties"]["WH"]["id"] == "ATL"
    assert [(ln["quantity"], ln["product_ids"]["SK"]) for ln in shipping_order["lines"]] == [
        ("10", GLOVES)
    ]

    # 2. The 3PL ships 8 of the 10 (945: 2 short); Odoo books 8 and backorders 2.
    world.atlanta_3pl.send(
        "ATL3PL_945_2002.x12",
        [
            (
                "945",
                [
                    ["W06", "F", RESERVATION, "20261124", "SHP-92002", "", "WEB-2002"],
                    ["N1", "SF", "Atlanta distribution center", "92", "ATL"],
                    ["N1", "ST", "Fine Foods online shop", "91", "SHOPIFY-7390123456789012345"],
                    ["W27", "M", "UPSN"],
                    ["LX", "1"],
                    ["MAN", "GM", sscc(92002)],
                    ["W12", "CP", "10", "8", "2", "EA", "10085741200343", "VN", GLOVES],
                    ["W03", "8"],
                ],
            )
        ],
        202,
    )
    [shipped] = world.events("transfer.shipped", 1)
    assert shipped["subject"] == RESERVATION
    assert shipped["source"] == "/connections/atl-3pl"
    [line] = shipped["data"]["lines"]
    assert (line["item"]["sku"], line["requested_qty"], line["shipped_qty"]) == (GLOVES, 10, 8)
    [short] = shipped["data"]["extensions"]["x12_short_ships"]
    assert short["sku"] == GLOVES
    world.delivered(world.messages(type="transfer.shipped")[0]["key"])
    [backorder] = world.events("backorder.created", 1)
    assert backorder["data"]["order_ref"] == "WEB-2002"
    assert (backorder["data"]["status"], backorder["data"]["open_qty"]) == ("open", 2)
    backorder_id = backorder["data"]["backorder_id"]
    shipped_delivery, rest = world.odoo.pickings("WEB-2002", "outgoing")
    assert shipped_delivery["state"] == "done"
    assert rest["name"] == backorder_id

    # 3. The customer cancels: Odoo releases the reservation and cancels the backorder.
    world.shopify_sends(
        webhook(
            "orders/cancelled",
            shop_order(
                ORDER_ID,
                {GLOVES: 10},
                updated_at="2026-11-24T11:00:00-05:00",
                cancelled_at="2026-11-24T11:00:00-05:00",
                name="#WEB-2002",
            ),
        )
    )
    cancelled = world.events("reservation.cancelled", 2)
    by_source = {event["source"]: event for event in cancelled}
    assert set(by_source) == {"/connections/shop", "/connections/odoo-erp"}
    released = by_source["/connections/odoo-erp"]
    assert released["data"]["reservation_id"] == RESERVATION
    assert released["data"]["status"] == "cancelled"
    assert [ln["reserved_qty"] for ln in released["data"]["lines"]] == [0]
    [gone] = world.events("backorder.cancelled", 1)
    assert gone["data"]["backorder_id"] == backorder_id
    assert gone["data"]["status"] == "cancelled"
    assert world.odoo.row("stock.picking", rest["id"])["state"] == "cancel"

    # 4. An edit made before the cancellation arrives after it: ignored by its timestamp.
    late_edit = shop_order(
        ORDER_ID, {GLOVES: 9}, updated_at="2026-11-24T10:30:00-05:00", name="#WEB-2002"
    )
    answer = world.shopify_sends(webhook("orders/updated", late_edit))
    assert (answer["received"], answer["accepted"], answer["dead_lettered"]) == (0, 0, 0)
    assert len(world.messages(type="reservation.requested")) == 1
    assert world.odoo.row("stock.picking", rest["id"])["state"] == "cancel"

    types = [m["event"]["type"] for m in world.messages()]
    assert types[:5] == [
        "reservation.requested",
        "reservation.confirmed",
        "transfer.shipped",
        "backorder.created",
        "reservation.cancelled",
    ]
    assert sorted(types[5:]) == ["backorder.cancelled", "reservation.cancelled"]
    [ack] = wait_for(lambda: world.atlanta_3pl.written("997-"))
    assert acknowledgement(world.atlanta_3pl.outbox / ack)[1] == ["AK2", "945", "0001"]
    assert world.atlanta_3pl.written("940-") == [order_file], "nothing else went to the 3PL"
    assert world.dead_letters() == []
