"""Secrets stay out of responses, dead letters and logs, even when a peer echoes them back.

Each test provokes the failures that would carry a secret (a peer answering an error that
quotes the token it was sent, a check against a peer that does the same, refused API keys,
a database URL with a password) and then searches every response body, every dead letter
and every log record of the run for the secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from connectors.sdk import (
    CheckResult,
    Connector,
    ConnectorConfig,
    Manifest,
    OutboundMessage,
    SendOutcome,
)
from hub.logs import JSONFormatter
from tests.access.peers import Peer, Request, create_client, echo, wait_until, webhook_connection
from tests.conftest import ADMIN_KEY, POSTGRES_URL, hub_settings
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import SECRET as SIGNING_SECRET

JSON = {"Content-Type": "application/json"}
HEADER_TOKEN = "tok-header-9f8e7d6c5b4a"
SHOP_TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the run logged: messages, extras and formatted exceptions."""
    formatter = logging.Formatter()
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(json.dumps({k: str(v) for k, v in record.__dict__.items()}))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


def reflecting(request: Request) -> tuple[int, dict[str, str], bytes]:
    """A careless peer: a 400 quoting every header it got and a secret it was configured
    with (the signing secret, which a misconfigured peer may well print)."""
    status, headers, body = echo(400)(request)
    # The hint first: only the start of a body is kept (2 KiB).
    quoted = {"hint": f"expected signature with {SIGNING_SECRET}"} | json.loads(body)
    return status, headers, json.dumps(quoted).encode()


def test_a_peer_echoing_secrets_leaves_no_trace_of_them(
    hub: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with Peer(answer=reflecting) as peer, hub.client(ADMIN_KEY) as admin:
        created = webhook_connection(
            admin, "leaky", peer.url, authorization=f"Bearer {HEADER_TOKEN}"
        )
        assert created.status_code == 201, created.text
        seen.append(created.text)
        route = {"name": "to-leaky", "connection": "leaky", "types": ["*"]}
        assert admin.post("/v1/routes", json=route).status_code == 201
        posted = admin.post(
            "/v1/messages", content=orjson.dumps(a_valid_event("reservation", "leak")), headers=JSON
        )
        key = posted.json()["key"]
        [letter] = wait_until(lambda: admin.get("/v1/deadletters").json()["items"])
        # The peer did get (and echo) both: the test is not vacuous.
        echoed = peer.requests()[0]
        assert echoed.headers["authorization"] == f"Bearer {HEADER_TOKEN}"
        for path in (
            "/v1/deadletters",
            f"/v1/deadletters/{letter['id']}",
            "/v1/deadletters/groups",
            f"/v1/messages/{key}/deliveries",
            "/v1/connections/leaky",
            "/v1/connections",
            "/v1/audit",
        ):
            seen.append(admin.get(path).text)
        seen.append(admin.post("/v1/connections/leaky/check").text)
    detail = admin_view = json.loads(seen[2])
    assert detail["last_response"]["status"] == 400
    assert "[redacted]" in detail["last_response"]["body"]
    assert admin_view["history"][0]["status_code"] == 400
    for text in seen:
        assert SIGNING_SECRET not in text
    for text in seen[1:5]:  # the dead letters and deliveries
        assert HEADER_TOKEN not in text
    logged = log_text(caplog)
    assert SIGNING_SECRET not in logged and HEADER_TOKEN not in logged


def test_a_check_against_a_peer_quoting_the_token_does_not_show_it(
    hub: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def quoting_shop(request: Request) -> tuple[int, dict[str, str], bytes]:
        token = request.headers.get("x-shopify-access-token", "")
        errors = [{"message": f"Invalid API key or access token (unrecognized login {token})"}]
        return 200, {"content-type": "application/json"}, json.dumps({"errors": errors}).encode()

    with Peer(answer=quoting_shop) as shop, hub.client(ADMIN_KEY) as admin:
        config = {
            "shop_domain": "fine-foods-eu.myshopify.com",
            "access_token": SHOP_TOKEN,
            "webhook_secret": "shopify-webhook-secret-0123",
            "admin_api_url": shop.url.removesuffix("/hook"),
        }
        created = admin.post(
            "/v1/connections", json={"name": "shop", "connector": "shopify", "config": config}
        )
        assert created.status_code == 201, created.text
        check = admin.post("/v1/connections/shop/check")
        assert check.status_code == 200
        assert shop.requests()[0].headers["x-shopify-access-token"] == SHOP_TOKEN
    assert check.json()["ok"] is False and "[redacted]" in check.json()["detail"]
    for text in (created.text, check.text, log_text(caplog)):
        assert SHOP_TOKEN not in text and "shopify-webhook-secret-0123" not in text


def test_api_keys_appear_in_no_answer_and_no_log(
    hub: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with hub.client(ADMIN_KEY) as admin:
        reader = create_client(admin, "reader", "messages:read", rate_limit="2/minute")
        answers = [admin.get("/v1/clients").text, admin.get("/v1/clients/reader").text]
    forged = reader[:-4] + "xxxx"
    with hub.client(reader) as client, hub.client(forged) as stranger:
        answers += [
            client.post("/v1/messages", content=b"{}", headers=JSON).text,  # 403
            client.get("/v1/messages/nothing").text,  # 404
            client.get("/v1/messages", params={"after": "garbage"}).text,  # 422 / 429
            client.get("/v1/messages").text,  # 429
            stranger.get("/v1/messages").text,  # 401
        ]
    for text in [*answers, log_text(caplog)]:
        assert reader not in text and forged not in text and ADMIN_KEY not in text


@pytest.mark.skipif(not POSTGRES_URL, reason="CROSSDOCK_TEST_POSTGRES_URL is not set")
def test_the_database_password_is_in_no_health_answer_and_no_log(
    postgres_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "db-pa55-s3cret"
    # The local server trusts loopback, so any password connects; the hub must not show it.
    url = make_url(postgres_database_url).set(password=password)
    settings = hub_settings(url.render_as_string(hide_password=False))
    with HubServer(settings) as hub, hub.client() as anonymous:
        health = anonymous.get("/health")
        metrics = anonymous.get("/metrics")
    assert health.status_code == 200
    for text in (health.text, metrics.text, log_text(caplog)):
        assert password not in text


class LeakyConfig(ConnectorConfig):
    token: SecretStr


class LeakyConnector(Connector[LeakyConfig]):
    """A connector that carelessly quotes its secret in everything it reports."""

    manifest = Manifest(
        slug="leaky", name="Leaky", version="1.0.0", kinds=("generic",), sends=("*",)
    )
    config_model = LeakyConfig

    async def check(self) -> CheckResult:
        return CheckResult(ok=False, detail=f"login as {self.config.token.get_secret_value()}")

    async def send(self, message: OutboundMessage) -> SendOutcome:
        if message.attempt > 1:
            raise RuntimeError(f"token {self.config.token.get_secret_value()} expired")
        return SendOutcome.rejected(f"refused {self.config.token.get_secret_value()}")


def test_the_sdk_scrubs_what_a_careless_connector_reports() -> None:
    secret = "leaky-secret-value-42"
    connector = LeakyConnector(LeakyConfig(token=SecretStr(secret)))
    message = OutboundMessage(1, "msg_1", 1, "r", {})

    async def run() -> tuple[Any, ...]:
        outcome = await connector.send(message)
        check = await connector.check()
        try:
            await connector.send(OutboundMessage(1, "msg_1", 2, "r", {}))
        except RuntimeError as exc:
            return outcome, check, exc
        raise AssertionError("the connector did not raise")

    outcome, check, exc = asyncio.run(run())
    assert outcome.error == "refused [redacted]"
    assert check.detail == "login as [redacted]"
    assert str(exc) == "token [redacted] expired" and isinstance(exc, RuntimeError)
    sent = httpx.Request("POST", "http://x", headers={"Authorization": f"Bearer {HEADER_TOKEN}"})
    response = httpx.Response(500, text=f"you sent Bearer {HEADER_TOKEN}", request=sent)
    assert HEADER_TOKEN not in (SendOutcome.from_response(response).body_excerpt or "")


def test_log_lines_never_carry_keys_tokens_or_url_passwords() -> None:
    """The formatter every hub process logs through scrubs what slipped into a message."""
    record = logging.LogRecord(
        "hub.test",
        logging.ERROR,
        __file__,
        1,
        "login failed for %s with %s; header Authorization: Bearer %s",
        ("postgresql://hub:s3cr3t-pw@db.internal:5432/hub", ADMIN_KEY, "shpat_0d5c4e9b7a1f2e3d"),
        None,
    )
    line = JSONFormatter().format(record)
    for secret in ("s3cr3t-pw", ADMIN_KEY, "shpat_0d5c4e9b7a1f2e3d"):
        assert secret not in line, line
    message = orjson.loads(line)["message"]
    assert "postgresql://hub:[redacted]@db.internal:5432/hub" in message
    assert "Bearer [redacted]" in message and "cdk_[redacted]" in message
