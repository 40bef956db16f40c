"""The sample files (``samples/``): realistic interchanges of every inbound transaction set.

Each comes from the kind of partner that sends it, in US Eastern time (the connection's
zone in these tests): a supplier (855, 856, 870, and its 997 of our 850), a warehouse's
receiving (861), 3PL warehouses (944, 945) and a carrier (214). ``856-5010-separators``
is version 005010 with other separators (``|`` elements, ``:`` components, ``^``
repetitions) and CRLF after each segment.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.x12.inbound import InboundText, Partner, decode, read_inbound

SAMPLES = Path(__file__).parent / "samples"
GOLDEN = Path(__file__).parent / "golden"
EASTERN = ZoneInfo("America/New_York")
OUR_ID = "CROSSDOCK"

SENDERS = {
    "214-shipment-status.x12": "ODFL",
    "855-po-acknowledgment.x12": "ACMESUPPLY",
    "856-5010-separators.x12": "ACMESUPPLY",
    "856-ship-notice.x12": "ACMESUPPLY",
    "861-receiving-advice.x12": "ATLWMS",
    "870-order-status.x12": "ACMESUPPLY",
    "944-stock-receipt.x12": "DALLAS3PL",
    "945-shipping-advice.x12": "ATLANTA3PL",
    "997-functional-ack.x12": "ACMESUPPLY",
}


def sample_text(name: str) -> str:
    return decode((SAMPLES / name).read_bytes())


def read_sample(name: str, text: str | None = None) -> InboundText:
    """A sample read as the connection of its sender reads it."""
    partner = Partner("ZZ", SENDERS[name], "ZZ", OUR_ID)
    return read_inbound(text if text is not None else sample_text(name), name, partner, EASTERN)
