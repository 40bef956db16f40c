"""The connector of a separately installed distribution passes the same conformance suite."""

from crossdock_acme_wms.testing import AcmeWmsHarness

from connectors.sdk.testing import ConnectorConformance


class TestAcmeWmsConformance(ConnectorConformance):
    harness = AcmeWmsHarness
