"""The webhook connector passes the conformance suite every connector inherits."""

from connectors.sdk.testing import ConnectorConformance
from connectors.webhook.testing import WebhookHarness


class TestWebhookConformance(ConnectorConformance):
    harness = WebhookHarness
