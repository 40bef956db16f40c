"""The SDK's conformance suite, run against the Shopify connector and its fake shop."""

from connectors.sdk.testing import ConnectorConformance
from connectors.shopify.testing import ShopifyHarness


class TestShopify(ConnectorConformance):
    harness = ShopifyHarness
