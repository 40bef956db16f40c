"""Webhooks both ways, signed with Standard Webhooks (https://www.standardwebhooks.com).

Outbound, the body is the CloudEvent in structured mode (``application/cloudevents+json``),
or the route's mapped payload (``application/json``) when the route has a mapping. Headers:
``webhook-id`` (the delivery: the same on every retry), ``webhook-timestamp`` and
``webhook-signature`` per Standard Webhooks, plus ``crossdock-message-key`` and
``crossdock-delivery-id`` so a receiver can dedupe by message.

Inbound, a peer POSTs to ``/v1/connections/{id}/inbound`` with the same three headers,
signed with ``verify_secret``. The body is one JSON object or an array of them; each becomes
a record of kind ``inbound_kind`` (by default a canonical CloudEvent, which needs no
mapping). ``webhook-id`` is the delivery id the hub dedupes on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from pydantic import Field, HttpUrl, SecretStr, model_validator
from standardwebhooks.webhooks import Webhook

from connectors.sdk import (
    CANONICAL,
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorState,
    InboundRequest,
    Manifest,
    NativeRecord,
    OutboundMessage,
    SendOutcome,
    VerificationFailed,
    Verified,
    verify_standard_webhook,
)
from connectors.sdk.redaction import is_credential_header


class WebhookConfig(ConnectorConfig):
    url: HttpUrl | None = Field(
        default=None, description="Where to POST each message; leave out for inbound only."
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks secret (`whsec_` + base64) that signs outbound requests; "
        "the receiver verifies with it. Required with `url`.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers; shown by the API like the rest of the config, so "
        "never credentials (use `authorization`).",
    )
    authorization: SecretStr | None = Field(
        default=None,
        description="The `Authorization` header value the receiver wants (`Bearer …`, "
        "`Basic …`), besides the signature; a secret.",
    )
    verify_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks secret the peer signs inbound requests with; without "
        "it, inbound requests are refused.",
    )
    tolerance_seconds: int = Field(
        default=300, ge=1, le=3600, description="How old or new an inbound timestamp may be."
    )
    inbound_kind: str = Field(
        default=CANONICAL,
        min_length=1,
        description="The record kind of inbound payloads: `cloudevent` (canonical, no mapping) "
        "or a native kind the connection maps.",
    )

    @model_validator(mode="after")
    def _outbound_needs_secret(self) -> WebhookConfig:
        if self.url is not None and self.signing_secret is None:
            raise ValueError("signing_secret is required when url is set")
        if any(is_credential_header(name) for name in self.headers):
            raise ValueError(
                "headers are not secret and are shown by the API: put credentials in "
                "`authorization` (a secret) instead"
            )
        return self


class WebhookConnector(Connector[WebhookConfig]):
    manifest = Manifest(
        slug="webhook",
        name="Webhook",
        version="1.1.0",
        kinds=("generic",),
        sends=("*",),
        receives=("*",),
        description="Signed JSON over HTTP both ways (Standard Webhooks): POSTs each message "
        "to a URL; takes signed requests in.",
    )
    config_model = WebhookConfig
    harness = "connectors.webhook.testing:WebhookHarness"

    def __init__(
        self, config: WebhookConfig, *, timeout: float = 10.0, state: ConnectorState | None = None
    ) -> None:
        super().__init__(config, timeout=timeout, state=state)
        self._signer = (
            Webhook(config.signing_secret.get_secret_value()) if config.signing_secret else None
        )
        self._verifier = (
            Webhook(config.verify_secret.get_secret_value()) if config.verify_secret else None
        )
        self._url = str(config.url) if config.url else None

    async def check(self) -> CheckResult:
        if self._url is None:
            return CheckResult(ok=True, detail="inbound only: nothing to reach")
        started = time.perf_counter()
        try:
            response = await self.http.request("OPTIONS", self._url)
        except httpx.HTTPError as exc:
            return CheckResult(ok=False, detail=f"cannot reach the URL: {type(exc).__name__}")
        elapsed = (time.perf_counter() - started) * 1000
        # Any answer below 500 means something listens there; many receivers refuse OPTIONS.
        return CheckResult(
            ok=response.status_code < 500,
            detail=f"the URL answered HTTP {response.status_code}",
            latency_ms=round(elapsed, 1),
        )

    async def send(self, message: OutboundMessage) -> SendOutcome:
        if self._url is None or self._signer is None:
            return SendOutcome.rejected("this webhook connection has no url: inbound only")
        if message.payload is None:
            body, content_type = orjson.dumps(message.event), "application/cloudevents+json"
        else:
            body, content_type = orjson.dumps(message.payload), "application/json"
        text = body.decode()
        webhook_id = f"dlv_{message.delivery_id}"
        now = datetime.now(UTC)
        headers = {
            **self.config.headers,
            **(
                {"authorization": self.config.authorization.get_secret_value()}
                if self.config.authorization is not None
                else {}
            ),
            "content-type": content_type,
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, now, text),
            "crossdock-message-key": message.message_key,
            "crossdock-delivery-id": str(message.delivery_id),
            "crossdock-attempt": str(message.attempt),
        }
        try:
            response = await self.http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendOutcome.from_exception(exc)
        return SendOutcome.from_response(response)

    def verify(self, request: InboundRequest) -> Verified:
        if self._verifier is None:
            raise VerificationFailed("this connection has no verify_secret: inbound is off")
        return verify_standard_webhook(request, self._verifier, self.config.tolerance_seconds)

    async def parse(self, request: InboundRequest) -> Sequence[NativeRecord]:
        payload: Any = orjson.loads(request.body)
        items = payload if isinstance(payload, list) else [payload]
        kind = self.config.inbound_kind
        records = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError("each inbound item must be a JSON object")
            record_id = item.get("id") if kind != CANONICAL else None
            records.append(
                NativeRecord(kind, item, str(record_id) if record_id is not None else None)
            )
        return records
