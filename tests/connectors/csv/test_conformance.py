"""The csv connector passes the conformance suite every connector inherits."""

from connectors.csv.testing import CsvHarness
from connectors.sdk.testing import ConnectorConformance


class TestCsvConformance(ConnectorConformance):
    harness = CsvHarness
