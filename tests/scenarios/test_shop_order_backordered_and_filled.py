"""Scenario 1: a Shopify order for 10 where 6 can be reserved → reservation confirmed for 6,
backorder for 4 → PO release as an 850 → 855 accepted → 856 ASN for 4 → receipt of 4 →
backorder filled → Shopify available quantity updated.

The shop sells nitrile gloves from the Atlanta DC, which holds 6. A customer orders 10
(Shopify lets the order through and shows -4 available). The hub books the order in Odoo,
which reserves 6; the warehouse ships them, leaving a backorder of 4. The buyer orders 4
from Acme; the 850, 855 and 856 go through the supplier's mailbox; the Atlanta WMS counts
the 4 in; the hub books them in Odoo, which hands them to the waiting backorder, and adds
them to the shop's available stock (-4 → 0) with compare-and-set.
"""

from __future__ import annotations

from connectors.csv.testing import Receipt, ReceiptLine, receipt_export
from connectors.odoo.testing import OrderLine
from connectors.shopify.testing import webhook
from tests.scenarios.world import (
    ATL_LOCATION,
    SHOP_CUSTOMER,
    SHOP_ITEMS,
    World,
    acknowledgement,
    read_document,
    shop_order,
    sscc,
    wait_for,
)

ORDER_ID = 5800123456789012345  # beyond 2**53: a float would change it
RESERVATION = f"SHOP-{ORDER_ID}"
GLOVES = "NTR-GLV-L-CS10"


def test_a_shop_order_short_of_stock_is_backordered_bought_received_and_filled(
    world: World,
) -> None:
    gloves = world.network.product(GLOVES)
    atlanta = world.network.warehouse
    world.odoo.set_stock(gloves, atlanta, 6)
    # What the shop shows once it took the order for 10 with 6 in stock.
    world.shop.stock(SHOP_ITEMS[GLOVES], ATL_LOCATION, -4, GLOVES)
    world.route(
        "orders-to-erp",
        "odoo-erp",
        ["reservation.requested", "reservation.cancelled"],
        mapping="odoo-delivery",
    )
    world.route(
        "orders-to-acme",
        "acme-edi",
        ["po_release.released"],
        mapping="x12-850-from-po-release-released",
    )
    world.route("receipts-to-erp", "odoo-erp", ["receipt.received"], mapping="odoo-receipt")
    world.route(
        "receipts-to-shop",
        "shop",
        ["receipt.received"],
        mapping="shopify-inventory-from-receipt",
        filter="data.location.code == 'ATL'",
    )
    # Fills of the shop's own orders change nothing there: Shopify counted the order out
    # of `available` when it was placed.
    world.route(
        "fills-to-shop",
        "shop",
        ["backorder.filled"],
        mapping="shopify-inventory-from-backorder-fill",
        filter="!starts_with(data.order_ref, 'WEB-')",
    )

    # 1. The order: Shopify's webhook becomes a reservation request, booked in Odoo.
    order = shop_order(
        ORDER_ID, {GLOVES: 10}, updated_at="2026-11-24T09:00:05-05:00", name="#WEB-1001"
    )
    answer = world.shopify_sends(webhook("orders/create", order))
    assert answer["duplicate"] is False
    [requested] = world.events("reservation.requested", 1)
    assert requested["subject"] == RESERVATION
    assert requested["source"] == "/connections/shop"
    data = requested["data"]
    assert (data["reservation_id"], data["order_ref"], data["customer_ref"]) == (
        RESERVATION,
        "WEB-1001",
        f"SHOPIFY-{SHOP_CUSTOMER}",
    )
    assert [
        (ln["item"]["sku"], ln["requested_qty"], ln["location"]["code"]) for ln in data["lines"]
    ] == [(GLOVES, 10, "ATL")]
    assert data["extensions"]["shopify_order_id"] == ORDER_ID

    # 2. Odoo reserves the 6 it has: the reservation is confirmed for 6.
    [confirmed] = world.events("reservation.confirmed", 1)
    assert confirmed["source"] == "/connections/odoo-erp"
    assert confirmed["data"]["reservation_id"] == RESERVATION
    assert confirmed["data"]["status"] == "partially_confirmed"
    assert [(ln["requested_qty"], ln["reserved_qty"]) for ln in confirmed["data"]["lines"]] == [
        (10, 6)
    ]
    [delivery] = world.odoo.pickings("WEB-1001", "outgoing")
    assert delivery["partner_id"][0] == world.shop_customer

    # 3. The warehouse ships the 6; Odoo keeps the other 4 on a backorder.
    rest = world.odoo.validate(delivery["id"])
    assert rest is not None
    [backorder] = world.events("backorder.created", 1)
    assert backorder["data"]["order_ref"] == "WEB-1001"
    assert (backorder["data"]["status"], backorder["data"]["open_qty"]) == ("open", 4)
    backorder_id = backorder["data"]["backorder_id"]

    # 4. The buyer orders the 4 from Acme: an 850 in the supplier's mailbox.
    world.odoo.add_purchase_order(
        world.network.supplier, [OrderLine(gloves, 4, 38.75)], warehouse=atlanta, name="P01001"
    )
    [released] = world.events("po_release.released", 1)
    assert released["subject"] == "P01001"
    [order_file] = wait_for(lambda: world.supplier.written("850-"))
    purchase = read_document(world.supplier.outbox / order_file, "850")
    assert purchase["po_number"] == "P01001"
    assert [(ln["quantity"], ln["product_ids"]["BP"]) for ln in purchase["lines"]] == [
        ("4", GLOVES)
    ]

    # 5. Acme accepts it (855 IA) and ships the 4 in one carton (856).
    world.supplier.send(
        "ACME_855_1001.x12",
        [
            (
                "855",
                [
                    ["BAK", "00", "AC", "P01001", "20261124", "", "", "", "SO-91001", "20261124"],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    ["PO1", "1", "4", "EA", "38.75", "PE", "BP", GLOVES, "UK", "10085741200343"],
                    ["ACK", "IA", "4", "EA", "068", "20261126"],
                    ["CTT", "1", "4"],
                ],
            )
        ],
        5101,
    )
    [acknowledged] = world.events("po_release.acknowledged", 1)
    [line] = acknowledged["data"]["lines"]
    assert (line["ack_status"], line["ack_qty"]) == ("IA", 4)
    carton = sscc(91001)
    world.supplier.send(
        "ACME_856_1001.x12",
        [
            (
                "856",
                [
                    ["BSN", "00", "ASN-91001", "20261125", "1400", "0001"],
                    ["HL", "1", "", "S"],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    ["HL", "2", "1", "O"],
                    ["PRF", "P01001"],
                    ["HL", "3", "2", "P"],
                    ["MAN", "GM", carton],
                    ["HL", "4", "3", "I"],
                    ["LIN", "1", "BP", GLOVES, "UK", "10085741200343"],
                    ["SN1", "", "4", "EA", "", "4", "EA"],
                    ["CTT", "4"],
                ],
            )
        ],
        5102,
    )
    [advised] = world.events("receipt.advised", 1)
    assert advised["data"]["po_ref"] == "P01001"
    assert [hu["sscc"] for hu in advised["data"]["handling_units"]] == [carton]
    assert [ln["expected_qty"] for ln in advised["data"]["lines"]] == [4]

    # 6. The Atlanta WMS counts the 4 in.
    export = receipt_export(
        [
            Receipt(
                "RCV-ATL-26-01001",
                "P01001",
                [ReceiptLine(GLOVES, "4", expected="4", ean="10085741200343")],
                warehouse="ATL",
                asn="ASN-91001",
                received_at="26/11/2026 10:05",
            )
        ]
    )
    (world.wms_inbox / "receipts-20261126.csv").write_bytes(export)
    [received] = world.events("receipt.received", 1)
    assert [(ln["item"]["sku"], ln["received_qty"]) for ln in received["data"]["lines"]] == [
        (GLOVES, 4)
    ]
    world.delivered(world.messages(type="receipt.received")[0]["key"], routes=2)

    # 7. Odoo books them and hands them to the waiting backorder: the backorder is filled.
    [filled] = world.events("backorder.filled", 1)
    assert filled["data"]["backorder_id"] == backorder_id
    assert filled["data"]["order_ref"] == "WEB-1001"
    assert (filled["data"]["status"], filled["data"]["open_qty"], filled["data"]["filled_qty"]) == (
        "filled",
        0,
        4,
    )
    [receipt_picking] = world.odoo.pickings("P01001", "incoming")
    assert receipt_picking["state"] == "done"
    assert world.odoo.row("stock.picking", rest)["state"] == "assigned"

    # 8. The shop: the receipt made 4 more available (-4 → 0), compare-and-set against the
    #    -4 it read; the fill of the shop's own order changed nothing there.
    assert wait_for(lambda: world.shop.quantity(SHOP_ITEMS[GLOVES], ATL_LOCATION) == 0)
    [adjustment] = world.shop.adjustments
    assert adjustment["reason"] == "received"
    assert adjustment["referenceDocumentUri"] == "gid://crossdock/Receipt/RCV-ATL-26-01001"
    [quantity] = adjustment["quantities"]
    assert quantity["inventoryItemId"] == f"gid://shopify/InventoryItem/{SHOP_ITEMS[GLOVES]}"
    assert quantity["locationId"] == f"gid://shopify/Location/{ATL_LOCATION}"
    assert (quantity["quantity"], quantity["compareQuantity"]) == (0, -4)
    fill_key = world.messages(type="backorder.filled")[0]["key"]
    assert world.deliveries(fill_key) == [], "the route's filter keeps shop orders' fills out"

    # Every message of the flow, in order; the backorder's own reservation (4 of 4, once
    # the receipt reserved it) comes with the fill.
    types = [m["event"]["type"] for m in world.messages()]
    assert types[:7] == [
        "reservation.requested",
        "reservation.confirmed",
        "backorder.created",
        "po_release.released",
        "po_release.acknowledged",
        "receipt.advised",
        "receipt.received",
    ]
    assert sorted(types[7:]) == ["backorder.filled", "reservation.confirmed"]
    [_, refilled] = world.events("reservation.confirmed", 2)
    assert refilled["data"]["reservation_id"] == RESERVATION
    assert [(ln["requested_qty"], ln["reserved_qty"]) for ln in refilled["data"]["lines"]] == [
        (4, 4)
    ]
    acks = wait_for(lambda: (a := world.supplier.written("997-")) and len(a) == 2 and a)
    assert sorted(acknowledgement(world.supplier.outbox / a)[1][1] for a in acks) == ["855", "856"]
    assert world.dead_letters() == []
