"""The settings of one Odoo connection."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator

from connectors.sdk import ConnectorConfig

Stream = Literal["purchase_orders", "reservations", "backorders"]
PickingKind = Literal["incoming", "outgoing"]
ALL_STREAMS: tuple[Stream, ...] = ("purchase_orders", "reservations", "backorders")
BOTH_DIRECTIONS: tuple[PickingKind, ...] = ("incoming", "outgoing")


class OdooConfig(ConnectorConfig):
    """Where Odoo is, who the connector is there, and what it watches."""

    url: HttpUrl = Field(description="The Odoo server's root URL, e.g. https://erp.example.com.")
    database: str = Field(min_length=1, max_length=128, description="The Odoo database name.")
    login: str = Field(min_length=1, max_length=256, description="The Odoo user's login.")
    password: SecretStr = Field(
        description="The user's password, or better an API key (Preferences → Account "
        "Security → New API Key): Odoo takes either in the password's place."
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Records read per watched kind per poll page."
    )
    watch: list[Stream] = Field(
        default_factory=lambda: list(ALL_STREAMS),
        description="What polls read: confirmed purchase orders (`po_release`), reserved "
        "outgoing transfers (`reservation.confirmed`), open backorders (`backorder`).",
    )
    warehouses: list[str] = Field(
        default_factory=list,
        description="Codes of the Odoo warehouses to watch (stock.warehouse `code`); empty: "
        "all. Purchase orders count by their Deliver To operation type's warehouse.",
    )
    backorder_types: list[PickingKind] = Field(
        default_factory=lambda: list(BOTH_DIRECTIONS),
        description="Which backorders to report: of receipts (a supplier shipped short), of "
        "deliveries (a customer order could not ship whole), or both.",
    )
    start_at: datetime | None = Field(
        default=None,
        description="Only report records written after this instant (UTC if no offset); "
        "empty: everything that matches, including every open purchase order already in "
        "Odoo when the connection is made.",
    )
    settle_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="Read only records written at least this long ago by Odoo's clock. Odoo "
        "stamps a record's write_date when its transaction starts, so a long transaction "
        "(a scheduler run reserving stock) commits records dated in the past; the delay "
        "keeps the cursor from passing them before they are visible. With 0, records "
        "written in Odoo's current second still wait for the next poll.",
    )
    create_backorders: bool = Field(
        default=True,
        description="When a receipt has less than expected, leave a backorder for the rest "
        "(as Odoo asks); false closes the receipt without one.",
    )
    receipt_tolerance_percent: float | None = Field(
        default=None,
        ge=0,
        le=1000,
        allow_inf_nan=False,
        description="Receiving tolerance: a receipt bringing a product of a purchase order "
        "beyond ordered * (1 + this / 100), counting what was received before, is refused "
        "(dead-lettered, nothing booked). Empty: no limit; Odoo books any over-receipt.",
    )

    @field_validator("warehouses")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        if any(not code.strip() for code in codes):
            raise ValueError("warehouse codes must not be blank")
        return codes
