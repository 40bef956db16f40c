"""Scenario 4: an over-shipped ASN (PO 100, ASN 120) against a 10% receiving tolerance, and
a carton that was not on the ASN.

The supplier ships 120 cases against a purchase order of 100 and says so in its 856. The
Atlanta DC's receiving counts the 120 in (RCD condition 03, over) and finds a carton of
hand sanitizer that no ASN announced (condition 13). The ERP takes at most 10% over an
order line (the odoo connection's receiving tolerance), so the hub does not book the
receipt: it is a dead letter naming both problems, and Odoo is untouched. Integration ops
decide: keep 110 (the most the tolerance allows), send 10 back, refuse the stray carton;
they edit the receipt (re-validated, the diff audited) and replay it; Odoo books 110.
"""

from __future__ import annotations

from typing import Any

from connectors.odoo.testing import OrderLine
from tests.scenarios.world import World, read_document, sscc, wait_for


def test_an_over_shipment_beyond_tolerance_and_a_stray_carton_wait_for_ops(
    world: World,
) -> None:
    world.route(
        "orders-to-acme",
        "acme-edi",
        ["po_release.released"],
        mapping="x12-850-from-po-release-released",
    )
    world.route("receipts-to-erp", "odoo-erp", ["receipt.received"], mapping="odoo-receipt")
    gloves = world.network.product("NTR-GLV-L-CS10")
    world.odoo.add_purchase_order(
        world.network.supplier,
        [OrderLine(gloves, 100, 38.75)],
        warehouse=world.network.warehouse,
        name="P00400",
    )
    [released] = world.events("po_release.released", 1)
    assert released["data"]["lines"][0]["ordered_qty"] == 100
    [order_file] = wait_for(lambda: world.supplier.written("850-"))
    assert read_document(world.supplier.outbox / order_file, "850")["po_number"] == "P00400"

    # 1. The supplier ships 120 on two pallets and says so.
    pallets = [sscc(90401), sscc(90402)]
    world.supplier.send(
        "ACME_856_400.x12",
        [
            (
                "856",
                [
                    ["BSN", "00", "ASN-90400", "20261125", "0800", "0001"],
                    ["HL", "1", "", "S"],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    ["HL", "2", "1", "O"],
                    ["PRF", "P00400"],
                    ["HL", "3", "2", "T"],
                    ["MAN", "GM", pallets[0]],
                    ["HL", "4", "3", "I"],
                    ["LIN", "1", "BP", "NTR-GLV-L-CS10", "UK", "10085741200343"],
                    ["SN1", "", "60", "EA", "", "100", "EA"],
                    ["HL", "5", "2", "T"],
                    ["MAN", "GM", pallets[1]],
                    ["HL", "6", "5", "I"],
                    ["LIN", "1", "BP", "NTR-GLV-L-CS10", "UK", "10085741200343"],
                    ["SN1", "", "60", "EA", "", "100", "EA"],
                    ["CTT", "6"],
                ],
            )
        ],
        4901,
    )
    [advised] = world.events("receipt.advised", 1)
    assert advised["subject"] == "ASN-90400"
    assert [hu["sscc"] for hu in advised["data"]["handling_units"]] == pallets
    assert sum(line["expected_qty"] for line in advised["data"]["lines"]) == 120

    # 2. Receiving counts 120 cases in (over) and a carton nobody announced.
    world.atlanta_receiving.send(
        "ATLWMS_861_400.x12",
        [
            (
                "861",
                [
                    ["BRA", "RCV-ATL-26-01400", "20261126", "00", "1", "0930"],
                    ["REF", "SI", "ASN-90400"],
                    ["PRF", "P00400"],
                    ["N1", "ST", "Atlanta distribution center", "92", "ATL"],
                    ["RCD", "1", "120", "EA", "", "", "20", "EA", "03"],
                    ["LIN", "", "BP", "NTR-GLV-L-CS10", "UK", "10085741200343"],
                    ["SN1", "", "120", "EA"],
                    ["RCD", "2", "12", "EA", "", "", "12", "EA", "13"],
                    ["LIN", "", "BP", "SAN-GEL-1GA", "UP", "085741204153"],
                    ["CTT", "2"],
                ],
            )
        ],
        7001,
    )
    [received] = world.events("receipt.received", 1)
    assert received["subject"] == "ASN-90400", "the receipt continues the ASN's document"
    assert received["source"] == "/connections/atl-receiving"
    assert [
        (
            line["item"]["sku"],
            line.get("expected_qty"),
            line["received_qty"],
            line["discrepancy_code"],
        )
        for line in received["data"]["lines"]
    ] == [("NTR-GLV-L-CS10", 120, 120, "over"), ("SAN-GEL-1GA", None, 12, "not_advised")]

    # 3. The ERP's tolerance refuses the receipt: a dead letter, nothing booked.
    key = world.messages(type="receipt.received")[0]["key"]
    [letter] = wait_for(lambda: world.dead_letters(direction="outbound"), what="the dead letter")
    assert letter["message_key"] == key
    assert letter["reason"] == "permanent"
    error = letter["error"]
    assert "NTR-GLV-L-CS10" in error and "120" in error and "110" in error, error
    assert "SAN-GEL-1GA" in error and "P00400" in error, error
    [picking] = world.odoo.rows("stock.picking", origin="P00400")
    assert picking["state"] != "done"
    assert [m["quantity"] for m in world.odoo.rows("stock.move", picking_id=picking["id"])] == [
        100
    ], "the incoming move is as Odoo planned it: nothing was booked"

    # 4. Ops keep 110 (the tolerance), send 10 back and refuse the stray carton.
    data: dict[str, Any] = received["data"]
    gloves_line, stray = data["lines"]
    edited = {
        **data,
        "lines": [
            {**gloves_line, "accepted_qty": 110, "rejected_qty": 10},
            {**stray, "accepted_qty": 0, "rejected_qty": 12},
        ],
    }
    response = world.api.patch(f"/v1/deadletters/{letter['id']}", json={"data": edited})
    assert response.status_code == 200, response.text
    assert response.json()["edited"] is True
    broken = {**edited, "lines": [{**gloves_line, "accepted_qty": 130, "rejected_qty": 0}]}
    refused = world.api.patch(f"/v1/deadletters/{letter['id']}", json={"data": broken})
    assert refused.status_code == 422, "accepted + rejected must still equal received"
    replayed = world.api.post(f"/v1/deadletters/{letter['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    wait_for(
        lambda: world.deliveries(key)[0]["status"] == "delivered", what="the replayed delivery"
    )
    [booked] = world.odoo.rows("stock.picking", origin="P00400")
    assert booked["state"] == "done"
    assert [m["quantity"] for m in world.odoo.rows("stock.move", picking_id=booked["id"])] == [110]
    [order_line] = world.odoo.rows("purchase.order.line")
    assert order_line["qty_received"] == 110

    # The edit is in the audit log, before and after.
    [entry] = world.api.get(
        "/v1/audit", params={"action": "deadletter.edit", "target_id": letter["id"]}
    ).json()["items"]
    assert entry["actor"]["name"] == "bootstrap-admin"
    assert entry["before"]["data"]["lines"][0]["accepted_qty"] == 120
    assert entry["after"]["data"]["lines"][0]["accepted_qty"] == 110
    assert [m["event"]["type"] for m in world.messages()] == [
        "po_release.released",
        "receipt.advised",
        "receipt.received",
    ]
