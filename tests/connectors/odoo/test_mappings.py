"""The mappings in ``mappings/odoo``: every vector passes, every inbound output is valid."""

from connectors.odoo import OdooConnector
from tests.connectors.mapping_suite import ConnectorMappings


class TestOdooConnectorMappings(ConnectorMappings):
    connector = OdooConnector
