"""The odoo connector passes the conformance suite every connector inherits."""

from connectors.odoo.testing import OdooHarness
from connectors.sdk.testing import ConnectorConformance


class TestOdooConformance(ConnectorConformance):
    harness = OdooHarness
