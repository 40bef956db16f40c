"""The settings of one Shopify connection: which shop, its Admin API, and the app's secrets."""

from __future__ import annotations

from pydantic import Field, HttpUrl, SecretStr

from connectors.sdk import ConnectorConfig

API_VERSION_PATTERN = r"^(\d{4}-(01|04|07|10)|unstable)$"
SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"
CHANGE_FROM_VERSION = "2026-04"
"""From this Admin API version on, compare-and-set is ``changeFromQuantity`` with a
required ``@idempotent`` key; before it, ``compareQuantity``."""


class ShopifyConfig(ConnectorConfig):
    """A Shopify store, reached as a custom app: Admin API token and webhook secret."""

    shop_domain: str = Field(
        pattern=SHOP_DOMAIN_PATTERN,
        description="The shop's permanent domain, e.g. `fine-foods-eu.myshopify.com`. Webhooks "
        "must name it in X-Shopify-Shop-Domain.",
    )
    access_token: SecretStr = Field(
        description="Admin API access token of the app (`shpat_…`), sent as "
        "X-Shopify-Access-Token. Needs read_inventory and write_inventory."
    )
    webhook_secret: SecretStr = Field(
        description="The app's client secret (API secret key): Shopify signs webhooks with it "
        "(X-Shopify-Hmac-Sha256)."
    )
    api_version: str = Field(
        default="2025-01",
        pattern=API_VERSION_PATTERN,
        description="Admin API version, e.g. `2025-01`.",
    )
    admin_api_url: HttpUrl | None = Field(
        default=None,
        description="Where the Admin API is; default `https://<shop_domain>`. Set it only to "
        "reach the shop through a proxy (or a test double).",
    )
    fulfillment_location_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="The Shopify location whose stock online orders take. Order webhooks "
        "name no location per line since API 2023-04; lines get this one (a POS order's own "
        "`location_id` first). Without it, such lines cannot be mapped.",
    )
    max_delivery_age_seconds: int = Field(
        default=21600,
        ge=60,
        le=172800,
        description="How old X-Shopify-Triggered-At may be. Shopify retries a failed webhook "
        "for about four hours with the original time, so the default (six hours) accepts "
        "every retry; older deliveries are refused.",
    )
    max_clock_skew_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far X-Shopify-Triggered-At may be in the future (clock differences).",
    )

    def graphql_url(self) -> str:
        """The Admin GraphQL endpoint of the configured API version."""
        base = str(self.admin_api_url) if self.admin_api_url else f"https://{self.shop_domain}"
        return f"{base.rstrip('/')}/admin/api/{self.api_version}/graphql.json"

    def uses_change_from(self) -> bool:
        """Whether this API version speaks ``changeFromQuantity`` (2026-04 on)."""
        return self.api_version == "unstable" or self.api_version >= CHANGE_FROM_VERSION
