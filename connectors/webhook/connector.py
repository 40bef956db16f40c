"""Outbound webhooks, signed with Standard Webhooks (https://www.standardwebhooks.com).

The body is the CloudEvent in structured mode (``application/cloudevents+json``). Headers:
``webhook-id`` (the delivery: the same on every retry), ``webhook-timestamp`` and
``webhook-signature`` per Standard Webhooks, plus ``crossdock-message-key`` and
``crossdock-delivery-id`` so a receiver can dedupe by message.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import orjson
from pydantic import Field, HttpUrl, SecretStr
from standardwebhooks.webhooks import Webhook

from connectors.sdk import (
    Connector,
    ConnectorConfig,
    Manifest,
    OutboundMessage,
    SendOutcome,
)


class WebhookConfig(ConnectorConfig):
    url: HttpUrl = Field(description="Where to POST each message.")
    signing_secret: SecretStr = Field(
        description="Standard Webhooks secret (`whsec_` + base64); the receiver verifies with it."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")


class WebhookConnector(Connector[WebhookConfig]):
    manifest = Manifest(
        slug="webhook",
        name="Webhook",
        version="1.0.0",
        kinds=("generic",),
        sends=("*",),
        description="POSTs each canonical message as a signed CloudEvent to a URL.",
    )
    config_model = WebhookConfig

    def __init__(self, config: WebhookConfig, *, timeout: float = 10.0) -> None:
        super().__init__(config, timeout=timeout)
        self._signer = Webhook(config.signing_secret.get_secret_value())
        self._url = str(config.url)

    async def send(self, message: OutboundMessage) -> SendOutcome:
        body = orjson.dumps(message.event).decode()
        webhook_id = f"dlv_{message.delivery_id}"
        now = datetime.now(UTC)
        headers = {
            **self.config.headers,
            "content-type": "application/cloudevents+json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, now, body),
            "crossdock-message-key": message.message_key,
            "crossdock-delivery-id": str(message.delivery_id),
            "crossdock-attempt": str(message.attempt),
        }
        try:
            response = await self.http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendOutcome.from_exception(exc)
        return SendOutcome.from_response(response)
