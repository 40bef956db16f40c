"""Transaction-set codecs: X12 segments ⇄ native JSON documents, one module per set.

Read (inbound records, kind ``x12/<set>``): 855, 856, 861, 870, 944, 945, 214, and the
outbound sets too (850, 940, 943), so that everything written can be parsed back. Written
(outbound, from a route-mapped payload validated by a pydantic model): 850, 940, 943.
997s are both read (a partner's, reconciled by the connector) and written (ours).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import Field, TypeAdapter

from connectors.x12.envelope import TransactionSet
from connectors.x12.sets import (
    functional_ack,
    order_status,
    po_acknowledgment,
    purchase_order,
    receiving_advice,
    ship_notice,
    shipment_status,
    shipping_advice,
    shipping_order,
    stock_transfer,
)
from connectors.x12.sets.loops import Document, ReadContext
from connectors.x12.writer import FUNCTIONAL_IDS, BodySegment, OutboundGroup, OutboundSet, X12Writer

Reader = Callable[[TransactionSet, ReadContext], Document]
Splitter = Callable[[Document], list[tuple[str, Document]]]

READERS: dict[str, Reader] = {
    "214": shipment_status.read,
    "850": purchase_order.read,
    "855": po_acknowledgment.read,
    "856": ship_notice.read,
    "861": receiving_advice.read,
    "870": order_status.read,
    "940": shipping_order.read,
    "943": stock_transfer.read_shipment,
    "944": stock_transfer.read_receipt,
    "945": shipping_advice.read,
    "997": functional_ack.read,
}
"""The reader of each transaction set the connector understands."""

SPLITTERS: dict[str, Splitter] = {"870": order_status.split}
"""Sets whose one document becomes several records (an 870: one per item)."""

OutboundPayload = Annotated[
    purchase_order.PurchaseOrder | shipping_order.ShippingOrder | stock_transfer.TransferShipment,
    Field(discriminator="transaction_set"),
]
PAYLOADS: TypeAdapter[
    purchase_order.PurchaseOrder | shipping_order.ShippingOrder | stock_transfer.TransferShipment
] = TypeAdapter(OutboundPayload)
"""Validates a route-mapped payload; ``transaction_set`` says which model applies."""


def body_of(
    payload: purchase_order.PurchaseOrder
    | shipping_order.ShippingOrder
    | stock_transfer.TransferShipment,
) -> list[BodySegment]:
    """The segments between ST and SE for a validated payload."""
    if isinstance(payload, purchase_order.PurchaseOrder):
        return purchase_order.write(payload)
    if isinstance(payload, shipping_order.ShippingOrder):
        return shipping_order.write(payload)
    return stock_transfer.write(payload)


def outbound_interchange(
    writer: X12Writer,
    payload: purchase_order.PurchaseOrder
    | shipping_order.ShippingOrder
    | stock_transfer.TransferShipment,
    *,
    interchange: int,
    group: int,
    set_control: int,
    when: datetime,
) -> str:
    """The whole interchange for one payload: one group holding one transaction set."""
    set_id = payload.transaction_set
    transaction = OutboundSet(set_id, set_control, body_of(payload))
    return writer.interchange(
        interchange, when, [OutboundGroup(FUNCTIONAL_IDS[set_id], group, [transaction])]
    )
