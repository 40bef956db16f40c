"""The ``shopify`` connector: Shopify order webhooks in, inventory updates out."""

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.inventory import InventoryChange, InventoryUpdate

__all__ = ["InventoryChange", "InventoryUpdate", "ShopifyConfig", "ShopifyConnector"]
