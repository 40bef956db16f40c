"""The mappings in ``mappings/csv``: every vector passes, every inbound output is valid."""

from connectors.csv import CsvConnector
from tests.connectors.mapping_suite import ConnectorMappings


class TestCsvConnectorMappings(ConnectorMappings):
    connector = CsvConnector
