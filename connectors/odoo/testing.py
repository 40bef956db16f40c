"""The conformance harness of the odoo connector, on the fake Odoo of :mod:`fake_server`.

:func:`seed_network` gives a fake Odoo a small distribution network (a warehouse, a
supplier, a customer, products) that tests and end-to-end scenarios build on;
:func:`receipt_event`, :func:`reservation_event` and :func:`shipment_event` are canonical
messages to route to it.

What a test does in the fake Odoo, as the people and jobs around a real one would:

===============================================  ===========================================
``odoo.add_purchase_order(supplier, lines, ...)``  a buyer confirms a purchase order (its
                                                   receipt is Ready at once)
``odoo.add_picking(kind, partner, moves, ...)``    a transfer, reserved as ``moves`` say
``odoo.set_stock(product, warehouse, qty)``        an inventory adjustment: what is on hand
                                                   (reserves nothing by itself)
``odoo.run_scheduler()``                           the scheduled action reserving stock for
                                                   waiting moves, oldest first
``odoo.validate(picking, {product: qty})``         a warehouse user validates a delivery (or
                                                   a receipt) with what moved, default what
                                                   is reserved; short: *Create Backorder*
                                                   (``backorder=False``: *No Backorder*).
                                                   Returns the backorder's id, if any
``odoo.cancel(picking)``                           a user cancels a transfer
``odoo.reserve(move, qty)``                        a reservation changes (as the scheduler
                                                   would), whatever the stock
``odoo.pickings(origin, kind)``                    the transfers of an order, oldest first
``odoo.rows(model, **equal)`` / ``odoo.row(...)``  read records back as Odoo answers them
``odoo.on_hand(product, warehouse)``               what is on hand
===============================================  ===========================================

Stock lives in each warehouse's stock location. A delivery validated takes its quantities
out; a receipt validated puts them in and reserves, at once, the waiting deliveries of
those products there, oldest first (Odoo's ``_trigger_assign``); a delivery's backorder is
reserved as stock allows when it is created. Stock set by :meth:`FakeOdoo.set_stock`
waits for :meth:`FakeOdoo.run_scheduler`, or for a delivery's ``action_assign``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.odoo.connector import OdooConnector
from connectors.odoo.fake_server import FakeOdoo, MoveLine, OrderLine
from connectors.sdk import OutboundMessage
from connectors.sdk.testing import ConformanceHarness, PeerResponse, closed_port_url

LOGIN = "crossdock-hub"
PASSWORD = "odoo-pass-7d2c41e9"
API_KEY = "odoo-api-key-3b9f0c5a8e1d"


@dataclass(frozen=True)
class Network:
    """What :func:`seed_network` created, by the names tests use."""

    warehouse: int
    supplier: int
    customer: int
    products: dict[str, int]

    def product(self, sku: str) -> int:
        return self.products[sku]


def seed_network(odoo: FakeOdoo) -> Network:
    """The hub's user, warehouse ``ATL``, supplier ``VEND-ACME-0042``, customer ``CUST-US-00871``
    (ordering through a contact), and three products."""
    odoo.add_user(LOGIN, PASSWORD, api_keys=[API_KEY])
    warehouse = odoo.add_warehouse("ATL", "Atlanta distribution center")
    supplier = odoo.add_partner("Acme Supplies", ref="VEND-ACME-0042")
    company = odoo.add_partner("Peachtree Clinics", ref="CUST-US-00871")
    customer = odoo.add_partner("Dana Whitfield", parent=company)
    products = {
        sku: odoo.add_product(sku, name, barcode=barcode)
        for sku, name, barcode in (
            ("NTR-GLV-L-CS10", "Nitrile exam gloves, large, case of 10 boxes", "10085741200343"),
            ("SAN-GEL-1GA", "Hand sanitizer gel 70%, 1 gal", "085741204153"),
            ("HYD-HOSE-R2-12", "Hydraulic hose SAE 100R2AT, 3/4 in, per foot", None),
        )
    }
    return Network(warehouse, supplier, customer, products)


def reservation_event(
    order_ref: str,
    lines: dict[str, float],
    *,
    event: str = "requested",
    reservation_id: str | None = None,
    customer_ref: str = "CUST-US-00871",
    warehouse: str = "ATL",
    version: int = 1,
) -> dict[str, Any]:
    """A canonical ``reservation.<event>`` of ``lines`` (SKU → quantity) for ``order_ref``;
    ``version`` tells repeated requests for one reservation apart (an order changed)."""
    reservation = reservation_id or f"RES-{order_ref}"
    return {
        "specversion": "1.0",
        "id": f"evt-{reservation}-{event}-{version}",
        "source": "/connections/shop",
        "type": f"reservation.{event}",
        "dataschema": "urn:crossdock:contract:reservation:1.0",
        "subject": reservation,
        "time": "2026-03-14T09:15:02Z",
        "datacontenttype": "application/json",
        "data": {
            "reservation_id": reservation,
            "order_ref": order_ref,
            "customer_ref": customer_ref,
            "status": event,
            "lines": [
                {
                    "line_no": number,
                    "item": {"sku": sku},
                    "location": {"code": warehouse},
                    "requested_qty": quantity,
                    "uom": "EA",
                }
                for number, (sku, quantity) in enumerate(lines.items(), start=1)
            ],
        },
    }


def shipment_event(
    reservation_id: str,
    shipped: dict[str, float | None],
    *,
    requested: dict[str, float] | None = None,
    warehouse: str = "ATL",
    number: int = 1,
) -> dict[str, Any]:
    """A canonical ``transfer.shipped`` of a reservation, as a 3PL's 945 becomes one:
    ``shipped`` maps SKU → quantity shipped (``None``: nothing shipped); ``requested`` the
    quantities the 940 asked for (default: what shipped, or 1); ``number`` tells the
    warehouse's shipments apart."""
    asked = requested or {}
    lines: list[dict[str, Any]] = []
    for line_no, (sku, quantity) in enumerate(shipped.items(), start=1):
        line: dict[str, Any] = {
            "line_no": line_no,
            "item": {"sku": sku},
            "requested_qty": asked.get(sku, quantity or 1),
            "uom": "EA",
        }
        if quantity:
            line["shipped_qty"] = quantity
        lines.append(line)
    return {
        "specversion": "1.0",
        "id": f"x12/945:ATLANTA3PL:{number:09d}:{number}:0001",
        "source": "/connections/atl-3pl",
        "type": "transfer.shipped",
        "dataschema": "urn:crossdock:contract:transfer:1.0",
        "subject": reservation_id,
        "time": "2026-11-24T16:31:00Z",
        "datacontenttype": "application/json",
        "data": {
            "transfer_id": reservation_id,
            "from_location": {"code": warehouse},
            "to_location": {"code": "CUST-US-00871"},
            "status": "shipped",
            "lines": lines,
        },
    }


def receipt_event(po_number: str, receipt_id: str = "RCV-ATL-26-00917") -> dict[str, Any]:
    """A canonical ``receipt.received`` of two lines against ``po_number``."""
    return {
        "specversion": "1.0",
        "id": f"evt-{receipt_id}",
        "source": "/connections/atl-wms",
        "type": "receipt.received",
        "dataschema": "urn:crossdock:contract:receipt:1.0",
        "subject": receipt_id,
        "time": "2026-03-26T18:40:12Z",
        "datacontenttype": "application/json",
        "data": {
            "receipt_id": receipt_id,
            "po_ref": po_number,
            "location": {"code": "ATL"},
            "received_at": "2026-03-26T14:37:00-04:00",
            "lines": [
                {
                    "line_no": 1,
                    "item": {"sku": "NTR-GLV-L-CS10"},
                    "received_qty": 396,
                    "accepted_qty": 396,
                    "rejected_qty": 0,
                    "uom": "EA",
                },
                {
                    "line_no": 2,
                    "item": {"sku": "SAN-GEL-1GA"},
                    "received_qty": 12.5,
                    "uom": "KG",
                },
            ],
        },
    }


class OdooHarness(ConformanceHarness):
    """A fake Odoo holding one open purchase order from before ``start_at`` (the receipt
    the sample message books), and new ones on request."""

    connector = OdooConnector
    history_po = "P-HIST-0001"

    def __init__(self) -> None:
        self.odoo = FakeOdoo()
        self.network = seed_network(self.odoo)
        self.odoo.add_purchase_order(
            self.network.supplier,
            [
                OrderLine(self.network.product("NTR-GLV-L-CS10"), 400, 38.75),
                OrderLine(self.network.product("SAN-GEL-1GA"), 12.5, 12.49, uom="kg"),
            ],
            warehouse=self.network.warehouse,
            name=self.history_po,
            write_date=datetime(2025, 12, 1, 9, 30),
        )

    def start(self) -> None:
        self.odoo.peer.start()

    def stop(self) -> None:
        self.odoo.peer.stop()

    def config(self) -> dict[str, Any]:
        return {
            "url": self.odoo.url,
            "database": self.odoo.database,
            "login": LOGIN,
            "password": PASSWORD,
            "page_size": 2,
            "settle_seconds": 0,
            "start_at": "2026-01-01T00:00:00Z",
        }

    def unreachable_config(self) -> dict[str, Any]:
        return {**self.config(), "url": closed_port_url()}

    def sample_message(self) -> OutboundMessage:
        event = receipt_event(self.history_po)
        return OutboundMessage(
            delivery_id=42,
            message_key="msg_01JCONFORMANCEODOO000000",
            attempt=1,
            route="conformance",
            event=event,
            payload={
                "po_number": self.history_po,
                "receipt_ref": event["data"]["receipt_id"],
                "lines": [
                    {"sku": "NTR-GLV-L-CS10", "quantity": 396},
                    {"sku": "SAN-GEL-1GA", "quantity": 12.5},
                ],
            },
        )

    def assert_delivered(self, message: OutboundMessage) -> None:
        [received] = self.odoo.rows("stock.picking", origin=self.history_po, backorder_id=False)
        assert received["state"] == "done", received
        moves = self.odoo.rows("stock.move", picking_id=received["id"])
        assert [m["quantity"] for m in moves] == [
            line["quantity"] for line in message.payload["lines"]
        ]
        [rest] = self.odoo.rows(
            "stock.picking", origin=self.history_po, backorder_id=received["id"]
        )
        assert [
            m["product_uom_qty"] for m in self.odoo.rows("stock.move", picking_id=rest["id"])
        ] == [4]

    def fail_next_send(self, status: int, headers: dict[str, str]) -> None:
        self.odoo.peer.script(PeerResponse(status, {"error": "scripted"}, headers))

    def seed_records(self, count: int) -> None:
        # Written a moment ago: a poll reads only the seconds of Odoo's clock that are over.
        written = self.odoo.clock() - timedelta(seconds=2)
        for n in range(count):
            self.odoo.add_purchase_order(
                self.network.supplier,
                [OrderLine(self.network.product("HYD-HOSE-R2-12"), 152.5 + n, 3.1, uom="m")],
                warehouse=self.network.warehouse,
                write_date=written,
            )


__all__ = [
    "API_KEY",
    "LOGIN",
    "PASSWORD",
    "FakeOdoo",
    "MoveLine",
    "Network",
    "OdooHarness",
    "OrderLine",
    "receipt_event",
    "reservation_event",
    "seed_network",
    "shipment_event",
]
