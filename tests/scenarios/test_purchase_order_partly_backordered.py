"""Scenario 2: an 850 for 100 answered by an 855 with 80 accepted and 20 backordered → an
ASN for 80 → a receipt of 78 accepted and 2 damaged → a backorder for 22.

The buyer confirms a purchase order for 100 gallons of hand sanitizer in Odoo; the hub
polls it and sends it to the supplier as an 850. The supplier acknowledges 80 now and the
balance backordered (ACK BP), ships 80 (856, one pallet), the Atlanta WMS counts 78 good
and 2 damaged, the hub books the 78 in Odoo, and Odoo's backorder of 22 comes back as a
canonical backorder.
"""

from __future__ import annotations

from connectors.csv.testing import Receipt, ReceiptLine, receipt_export
from connectors.odoo.testing import OrderLine
from tests.scenarios.world import World, acknowledgement, read_document, sscc, wait_for

SUPPLIER_REF = "VEND-ACME-0042"


def test_a_partly_backordered_order_is_received_short_and_the_rest_stays_backordered(
    world: World,
) -> None:
    world.route(
        "orders-to-acme",
        "acme-edi",
        ["po_release.released"],
        mapping="x12-850-from-po-release-released",
        filter=f"data.supplier_ref == '{SUPPLIER_REF}'",
    )
    world.route("receipts-to-erp", "odoo-erp", ["receipt.received"], mapping="odoo-receipt")
    gel = world.network.product("SAN-GEL-1GA")
    world.odoo.add_purchase_order(
        world.network.supplier,
        [OrderLine(gel, 100, 12.49)],
        warehouse=world.network.warehouse,
        name="P00100",
    )

    # 1. The confirmed order is released to the supplier as an 850.
    [released] = world.events("po_release.released", 1)
    assert released["source"] == "/connections/odoo-erp"
    assert released["subject"] == "P00100"
    assert released["data"]["supplier_ref"] == SUPPLIER_REF
    assert [
        (ln["item"]["sku"], ln["ordered_qty"], ln["uom"]) for ln in released["data"]["lines"]
    ] == [("SAN-GEL-1GA", 100, "EA")]
    [order_file] = wait_for(lambda: world.supplier.written("850-"))
    order = read_document(world.supplier.outbox / order_file, "850")
    assert order["po_number"] == "P00100"
    assert order["references"]["IA"] == SUPPLIER_REF
    assert [
        (ln["line_id"], ln["quantity"], ln["uom"], ln["unit_price"], ln["product_ids"]["BP"])
        for ln in order["lines"]
    ] == [("1", "100", "EA", "12.49", "SAN-GEL-1GA")]

    # 2. The supplier acknowledges the interchange (997) and the order (855): 80 now, the
    #    balance backordered.
    world.supplier.send(
        "ACME_997_1.x12",
        [
            (
                "997",
                [
                    ["AK1", "PO", "1"],
                    ["AK2", "850", "0001"],
                    ["AK5", "A"],
                    ["AK9", "A", "1", "1", "1"],
                ],
            )
        ],
        4801,
    )
    world.supplier.send(
        "ACME_855_1.x12",
        [
            (
                "855",
                [
                    ["BAK", "00", "AC", "P00100", "20261124", "", "", "", "SO-90114", "20261124"],
                    ["REF", "IA", SUPPLIER_REF],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    [
                        "PO1",
                        "1",
                        "100",
                        "EA",
                        "12.49",
                        "PE",
                        "BP",
                        "SAN-GEL-1GA",
                        "UP",
                        "085741204153",
                    ],
                    ["ACK", "BP", "80", "EA", "068", "20261127"],
                    ["CTT", "1", "100"],
                ],
            )
        ],
        4802,
    )
    [acknowledged] = world.events("po_release.acknowledged", 1)
    assert acknowledged["subject"] == "P00100"
    assert acknowledged["source"] == "/connections/acme-edi"
    [line] = acknowledged["data"]["lines"]
    assert (line["ordered_qty"], line["ack_status"], line["ack_qty"], line["promised_date"]) == (
        100,
        "BP",
        80,
        "2026-11-27",
    )
    check = world.api.post("/v1/connections/acme-edi/check").json()
    assert check["info"]["awaiting_997"] == 0, check

    # 3. The supplier ships the 80 on one pallet.
    pallet = sscc(90114)
    world.supplier.send(
        "ACME_856_1.x12",
        [
            (
                "856",
                [
                    ["BSN", "00", "ASN-90114", "20261126", "1530", "0001"],
                    ["HL", "1", "", "S"],
                    ["TD5", "B", "2", "ODFL", "M"],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    ["HL", "2", "1", "O"],
                    ["PRF", "P00100"],
                    ["HL", "3", "2", "T"],
                    ["MAN", "GM", pallet],
                    ["HL", "4", "3", "I"],
                    ["LIN", "1", "BP", "SAN-GEL-1GA", "UP", "085741204153"],
                    ["SN1", "", "80", "EA", "", "100", "EA"],
                    ["CTT", "4"],
                ],
            )
        ],
        4803,
    )
    [advised] = world.events("receipt.advised", 1)
    assert advised["subject"] == "ASN-90114"
    assert advised["data"]["po_ref"] == "P00100"
    assert advised["data"]["location"]["code"] == "ATL"
    assert [hu["sscc"] for hu in advised["data"]["handling_units"]] == [pallet]
    assert [(ln["item"]["sku"], ln["expected_qty"]) for ln in advised["data"]["lines"]] == [
        ("SAN-GEL-1GA", 80)
    ]

    # 4. The Atlanta WMS counts 78 good and 2 damaged.
    export = receipt_export(
        [
            Receipt(
                "RCV-ATL-26-01130",
                "P00100",
                [
                    ReceiptLine(
                        "SAN-GEL-1GA", "80", accepted="78", rejected="2", expected="80",
                        condition="damaged", ean="085741204153",
                    )
                ],
                warehouse="ATL",
                asn="ASN-90114",
                received_at="27/11/2026 09:12",
            )
        ]
    )  # fmt: skip
    (world.wms_inbox / "receipts-20261127.csv").write_bytes(export)
    [received] = world.events("receipt.received", 1)
    assert received["source"] == "/connections/atl-wms"
    assert received["subject"] == "RCV-ATL-26-01130"
    assert (received["data"]["po_ref"], received["data"]["asn_ref"]) == ("P00100", "ASN-90114")
    [line] = received["data"]["lines"]
    assert (
        line["received_qty"],
        line["accepted_qty"],
        line["rejected_qty"],
        line["condition_code"],
    ) == (80, 78, 2, "damaged")

    # 5. The hub books the 78 good units in Odoo; the 22 still owed stay on Odoo's
    #    backorder, which comes back as a canonical backorder.
    world.delivered(world.messages(type="receipt.received")[0]["key"])
    receipt, rest = world.odoo.rows("stock.picking", origin="P00100")
    assert receipt["state"] == "done"
    assert [m["quantity"] for m in world.odoo.rows("stock.move", picking_id=receipt["id"])] == [78]
    [backorder] = world.events("backorder.created", 1)
    assert backorder["subject"] == rest["name"]
    data = backorder["data"]
    assert (
        data["order_ref"],
        data["supply_ref"],
        data["open_qty"],
        data["uom"],
        data["status"],
    ) == (
        "P00100",
        "P00100",
        22,
        "EA",
        "open",
    )
    assert [(ln["item"]["sku"], ln["open_qty"]) for ln in data["lines"]] == [("SAN-GEL-1GA", 22)]

    # Every partner file was taken and acknowledged; nothing went wrong on the way.
    for name in ("ACME_997_1.x12", "ACME_855_1.x12", "ACME_856_1.x12"):
        assert wait_for(lambda n=name: world.supplier.settled(n)).parent.name == "processed"  # type: ignore[misc]
    acks = wait_for(lambda: (a := world.supplier.written("997-")) and len(a) == 2 and a)
    assert sorted(acknowledgement(world.supplier.outbox / a)[1][1] for a in acks) == ["855", "856"]
    assert wait_for(lambda: world.messages(type="backorder.*"))
    assert [m["event"]["type"] for m in world.messages()] == [
        "po_release.released",
        "po_release.acknowledged",
        "receipt.advised",
        "receipt.received",
        "backorder.created",
    ]
    assert world.dead_letters() == []
