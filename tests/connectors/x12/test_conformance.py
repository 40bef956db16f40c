"""The x12 connector passes the conformance suite every connector inherits."""

from connectors.sdk.testing import ConnectorConformance
from connectors.x12.testing import X12Harness


class TestX12Conformance(ConnectorConformance):
    harness = X12Harness
