"""The conformance harness of the webhook connector: a signed-webhook peer on loopback."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from connectors.sdk import InboundRequest, OutboundMessage
from connectors.sdk.testing import (
    SAMPLE_EVENT,
    ConformanceHarness,
    FakeHTTPPeer,
    PeerResponse,
    closed_port_url,
)
from connectors.webhook.connector import WebhookConnector

OUTBOUND_SECRET = "whsec_" + base64.b64encode(b"conformance-outbound-secret-0001").decode()
INBOUND_SECRET = "whsec_" + base64.b64encode(b"conformance-inbound-secret-00002").decode()


class WebhookHarness(ConformanceHarness):
    connector = WebhookConnector
    expected_kinds = ("cloudevent",)

    def __init__(self) -> None:
        self.peer = FakeHTTPPeer()

    def start(self) -> None:
        self.peer.start()

    def stop(self) -> None:
        self.peer.stop()

    def config(self) -> dict[str, Any]:
        return {
            "url": f"{self.peer.url}/hook",
            "signing_secret": OUTBOUND_SECRET,
            "verify_secret": INBOUND_SECRET,
        }

    def unreachable_config(self) -> dict[str, Any]:
        return {**self.config(), "url": f"{closed_port_url()}/hook"}

    def assert_delivered(self, message: OutboundMessage) -> None:
        [request] = [r for r in self.peer.requests if r.method == "POST"]
        Webhook(OUTBOUND_SECRET).verify(request.body, request.headers, json_parse=False)
        assert request.json() == message.event
        assert request.headers["crossdock-message-key"] == message.message_key
        assert request.headers["webhook-id"] == f"dlv_{message.delivery_id}"

    def fail_next_send(self, status: int, headers: dict[str, str]) -> None:
        self.peer.script(PeerResponse(status, {"error": "scripted"}, headers))

    def _signed(self, body: bytes, at: datetime) -> InboundRequest:
        webhook_id = f"msg_{time.monotonic_ns()}"
        signature = Webhook(INBOUND_SECRET).sign(webhook_id, at, body.decode())
        return InboundRequest(
            body=body,
            headers={
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signature,
            },
        )

    def inbound_request(self) -> InboundRequest:
        return self._signed(orjson.dumps(SAMPLE_EVENT), datetime.now(UTC))

    def stale_request(self) -> InboundRequest:
        return self._signed(
            orjson.dumps(SAMPLE_EVENT), datetime.fromtimestamp(time.time() - 3600, UTC)
        )
