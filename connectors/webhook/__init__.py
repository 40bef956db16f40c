"""The ``webhook`` connector: canonical messages as signed JSON over HTTP."""

from connectors.webhook.connector import WebhookConfig, WebhookConnector

__all__ = ["WebhookConfig", "WebhookConnector"]
