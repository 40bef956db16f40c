"""What a connector provides so that the conformance suite can exercise it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from connectors.sdk.connector import Connector
from connectors.sdk.inbound import InboundRequest, NotSupported
from connectors.sdk.outbound import OutboundMessage

SAMPLE_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "0b9b4b7e-2f7a-4c59-9d0e-6c1c2b8a7f10",
    "source": "/connections/conformance",
    "type": "reservation.requested",
    "dataschema": "urn:crossdock:contract:reservation:1.0",
    "subject": "RSV-CONF-1",
    "time": "2026-11-24T09:00:00Z",
    "datacontenttype": "application/json",
    "data": {
        "reservation_id": "RSV-CONF-1",
        "order_ref": "SO-9007199254740993",
        "status": "requested",
        "lines": [
            {
                "line_no": 1,
                "item": {"sku": "BOLT-M8-40", "gtin": "04006381333931"},
                "location": {"code": "DC-ATL"},
                "requested_qty": 12.5,
                "uom": "KG",
            }
        ],
    },
}


class ConformanceHarness(ABC):
    """The fake peer of one connector, and sample traffic for the conformance suite.

    Subclass it next to your connector (``mypackage/testing.py``) and point the connector's
    ``harness`` attribute at it (``"mypackage.testing:MyHarness"``) so that
    ``crossdock connectors test SLUG`` finds it. Override only what your manifest
    promises: the outbound methods if it sends, the inbound ones if it receives, the poll
    one if it polls.
    """

    connector: ClassVar[type[Connector[Any]]]

    # Optional hooks, empty on purpose: not every peer has anything to start.
    def start(self) -> None:  # noqa: B027
        """Start the fake peer (a loopback HTTP server, a temporary directory)."""

    def stop(self) -> None:  # noqa: B027
        """Stop the fake peer and clean up."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """A config, secrets included, that works against the running fake peer."""

    @abstractmethod
    def unreachable_config(self) -> dict[str, Any]:
        """The same config, pointing where nothing answers."""

    # -- outbound -------------------------------------------------------------------------

    def sample_message(self) -> OutboundMessage:
        """A delivery to send; by default a canonical ``reservation.requested`` message."""
        return OutboundMessage(
            delivery_id=42,
            message_key="msg_01JCONFORMANCE0000000000",
            attempt=1,
            route="conformance",
            event=SAMPLE_EVENT,
        )

    def assert_delivered(self, message: OutboundMessage) -> None:
        """Assert that the fake peer now holds what ``message`` should have become."""
        raise NotSupported

    def fail_next_send(self, status: int, headers: dict[str, str]) -> None:
        """Make the peer answer the next send with this HTTP status.

        Raise :class:`~connectors.sdk.NotSupported` (the default) when the connector does not
        speak HTTP; the suite then leaves out the HTTP outcome tests.
        """
        raise NotSupported

    # -- inbound --------------------------------------------------------------------------

    def inbound_request(self) -> InboundRequest:
        """A request as the peer sends it, correctly signed and current."""
        raise NotSupported

    def stale_request(self) -> InboundRequest | None:
        """A correctly signed request that is too old; ``None`` if the scheme has no clock."""
        return None

    expected_kinds: ClassVar[tuple[str, ...]] = ()
    """The record kinds :meth:`inbound_request` must parse into (empty: any)."""

    # -- polling --------------------------------------------------------------------------

    def seed_records(self, count: int) -> None:
        """Put ``count`` new records at the peer, for polls to find."""
        raise NotSupported
