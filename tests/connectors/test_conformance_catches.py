"""The conformance suite fails connectors that break its rules (it is not a rubber stamp)."""

from __future__ import annotations

import pytest

BROKEN_CONNECTORS = '''
import logging

from connectors.sdk import InboundRequest, Verified
from connectors.sdk.testing import ConnectorConformance
from connectors.webhook.connector import WebhookConnector
from connectors.webhook.testing import WebhookHarness


class LeakyConnector(WebhookConnector):
    """Logs its signing secret on every send."""

    async def send(self, message):
        secret = self.config.signing_secret.get_secret_value()
        logging.getLogger("leaky").info("sending with %s", secret)
        return await super().send(message)


class TrustingConnector(WebhookConnector):
    """Believes every request."""

    def verify(self, request: InboundRequest) -> Verified:
        return Verified(delivery_id=request.header("webhook-id"))


class LeakyHarness(WebhookHarness):
    connector = LeakyConnector


class TrustingHarness(WebhookHarness):
    connector = TrustingConnector


class TestLeaky(ConnectorConformance):
    harness = LeakyHarness


class TestTrusting(ConnectorConformance):
    harness = TrustingHarness
'''


def test_the_suite_fails_a_leaky_and_a_trusting_connector(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN_CONNECTORS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    failed = {
        line.split("::", 1)[1].split(" ", 1)[0]
        for line in result.outlines
        if line.startswith("FAILED")
    }
    assert failed == {
        "TestLeaky::test_secrets_never_show",
        "TestTrusting::test_receive_refuses_a_tampered_body",
        "TestTrusting::test_receive_refuses_an_unsigned_request",
        "TestTrusting::test_receive_refuses_a_stale_request",
    }, result.stdout.str()
