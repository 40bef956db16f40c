"""The ``odoo`` connector: Odoo ERP over its external JSON-RPC API."""

from connectors.odoo.config import OdooConfig
from connectors.odoo.connector import OdooConnector

__all__ = ["OdooConfig", "OdooConnector"]
