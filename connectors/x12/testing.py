"""The conformance harness of the x12 connector: a partner's mailbox in a temporary folder.

The fake peer is what an SFTP/AS2 gateway leaves on disk: an inbox the partner's files
land in and an outbox the connector writes to. ``seed_records`` drops real X12 files (856
ship notices) into the inbox; ``assert_delivered`` reads the outbox file back with the
connector's own parser. The connector does not speak HTTP, so the HTTP outcome tests do
not apply (``fail_next_send`` raises ``NotSupported`` and the suite skips them).

Also here, for tests of this connector and of systems around it: :func:`partner_interchange`
writes an interchange as the partner would send it, and :data:`PURCHASE_ORDER` is an 850
payload as the shipped mapping makes it.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from connectors.sdk import InboundRequest, OutboundMessage
from connectors.sdk.testing import ConformanceHarness
from connectors.x12.connector import X12Connector
from connectors.x12.envelope import parse_interchange
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import PAYLOADS, READERS
from connectors.x12.sets.loops import ReadContext
from connectors.x12.sets.payloads import document
from connectors.x12.writer import (
    FUNCTIONAL_IDS,
    BodySegment,
    EnvelopeSettings,
    OutboundGroup,
    OutboundSet,
    Party,
    X12Writer,
)

OUR_ID = "CROSSDOCK"
PARTNER_ID = "ACMESUPPLY"
PUSH_SECRET = "whsec_" + base64.b64encode(b"x12-gateway-push-secret-0000001").decode()

PURCHASE_ORDER: dict[str, Any] = {
    "transaction_set": "850",
    "purpose": "00",
    "order_type": "SA",
    "po_number": "PO-9007199254740993",
    "po_date": "2026-11-24",
    "currency": "USD",
    "references": {"IA": "VEND-ACME-0042"},
    "parties": {
        "ST": {"name": "Atlanta distribution center", "id_qualifier": "92", "id": "DC-ATL"}
    },
    "lines": [
        {
            "line_id": "1",
            "quantity": 12.5,
            "uom": "KG",
            "unit_price": 38.75,
            "price_basis": "PE",
            "product_ids": {"BP": "BOLT-M8-40", "UK": "04006381333931"},
        }
    ],
}
"""An 850 payload, as ``x12-850-from-po-release-released`` makes it (numbers as floats)."""

PURCHASE_ORDER_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "5f0c7d7e-5c4e-4e0b-9f76-0e1bb2c0a850",
    "source": "/connections/odoo-erp",
    "type": "po_release.released",
    "dataschema": "urn:crossdock:contract:po_release:1.0",
    "subject": "PO-9007199254740993",
    "time": "2026-11-24T09:00:00Z",
    "data": {
        "po_number": "PO-9007199254740993",
        "supplier_ref": "VEND-ACME-0042",
        "ship_to": {"code": "DC-ATL", "name": "Atlanta distribution center"},
        "lines": [
            {
                "line_no": 1,
                "item": {"sku": "BOLT-M8-40", "gtin": "04006381333931"},
                "ordered_qty": 12.5,
                "uom": "KG",
                "unit_price": 38.75,
            }
        ],
    },
}


def ship_notice_body(shipment_id: str, quantity: str = "12.5") -> list[BodySegment]:
    """A small 856 (standard carton pack): one order, one item, quantities exact."""
    return [
        ["BSN", "00", shipment_id, "20261124", "0900", "0002"],
        ["HL", "1", "", "S"],
        ["N1", "ST", "Atlanta distribution center", "92", "DC-ATL"],
        ["HL", "2", "1", "O"],
        ["PRF", "PO-9007199254740993"],
        ["HL", "3", "2", "I"],
        ["LIN", "1", "BP", "BOLT-M8-40", "UK", "04006381333931"],
        ["SN1", "", quantity, "KG"],
        ["CTT", "1"],
    ]


def partner_interchange(
    sets: Sequence[tuple[str, Sequence[BodySegment]]],
    control: int,
    *,
    partner: str = PARTNER_ID,
    us: str = OUR_ID,
    version: str = "004010",
    when: datetime | None = None,
) -> str:
    """An interchange as the partner sends it to us: one group of the given sets.

    ``sets`` are ``(set id, body)``; every set is in one functional group (the first set's
    functional id), set control numbers count from 1.
    """
    writer = X12Writer(
        EnvelopeSettings(
            sender=Party("ZZ", partner, partner), receiver=Party("ZZ", us, us), version=version
        )
    )
    outbound = [
        OutboundSet(set_id, number, body) for number, (set_id, body) in enumerate(sets, start=1)
    ]
    group = OutboundGroup(FUNCTIONAL_IDS[sets[0][0]], control, outbound)
    return writer.interchange(control, when or datetime(2026, 11, 24, 9, 0, tzinfo=UTC), [group])


def signed_push(
    body: bytes, at: datetime | None = None, secret: str = PUSH_SECRET
) -> InboundRequest:
    """The request a gateway makes to push ``body`` to the connection's inbound endpoint."""
    moment = at or datetime.now(UTC)
    delivery = f"gw_{time.monotonic_ns()}"
    return InboundRequest(
        body=body,
        headers={
            "content-type": "application/edi-x12",
            "webhook-id": delivery,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery, moment, body.decode()),
        },
    )


class X12Harness(ConformanceHarness):
    connector = X12Connector
    expected_kinds = ("x12/856",)

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="x12-mailbox-"))
        self.inbox = self.root / "inbox"
        self.outbox = self.root / "outbox"
        self._seeded = 0

    def start(self) -> None:
        self.inbox.mkdir(exist_ok=True)
        self.outbox.mkdir(exist_ok=True)

    def stop(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def config(self) -> dict[str, Any]:
        return {
            "our_id": OUR_ID,
            "partner_id": PARTNER_ID,
            "inbox": str(self.inbox),
            "outbox": str(self.outbox),
            "settle_seconds": 0,
            "page_size": 2,
            "timezone": "America/New_York",
            "push_secret": PUSH_SECRET,
        }

    def unreachable_config(self) -> dict[str, Any]:
        missing = self.root / "not-mounted"
        return {**self.config(), "inbox": str(missing / "inbox"), "outbox": str(missing / "outbox")}

    # -- outbound ---------------------------------------------------------------------------

    def sample_message(self) -> OutboundMessage:
        return OutboundMessage(
            delivery_id=42,
            message_key="msg_01JCONFORMANCE0000000000",
            attempt=1,
            route="conformance",
            event=PURCHASE_ORDER_EVENT,
            payload=PURCHASE_ORDER,
        )

    def assert_delivered(self, message: OutboundMessage) -> None:
        [written] = list(self.outbox.glob("850-*.x12"))
        [(text, separators)] = list(split_interchanges(written.read_text()))
        interchange = parse_interchange(text, separators)
        assert interchange.problems == [], interchange.problems
        assert (interchange.sender_id, interchange.receiver_id) == (OUR_ID, PARTNER_ID)
        [group] = interchange.groups
        [transaction] = group.sets
        assert group.accepted and transaction.accepted, (group.codes, transaction.codes)
        read = READERS["850"](transaction, ReadContext(UTC, separators.component))
        assert read == document(PAYLOADS.validate_python(message.payload))

    # -- inbound ----------------------------------------------------------------------------

    def inbound_request(self) -> InboundRequest:
        text = partner_interchange([("856", ship_notice_body("ASN-PUSHED-1"))], 900001)
        return signed_push(text.encode())

    def stale_request(self) -> InboundRequest:
        text = partner_interchange([("856", ship_notice_body("ASN-PUSHED-1"))], 900001)
        return signed_push(text.encode(), at=datetime.fromtimestamp(time.time() - 3600, UTC))

    # -- polling ----------------------------------------------------------------------------

    def seed_records(self, count: int) -> None:
        for _ in range(count):
            self._seeded += 1
            number = self._seeded
            text = partner_interchange(
                [("856", ship_notice_body(f"ASN-{number:04d}"))], 1000 + number
            )
            path = self.inbox / f"ACMESUPPLY_{number:04d}.x12"
            path.write_text(text)
            # Distinct modification times, so the inbox order is the order of arrival.
            stamp = time.time() - 60 + number
            os.utime(path, (stamp, stamp))
