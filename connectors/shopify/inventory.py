"""The inventory update a route's mapping hands the Shopify connector, and how it is applied.

The payload (kind ``inventory_update``, made by ``mappings/shopify/inventory-from-*.yaml``)::

    {"document_type": "Receipt", "document_id": "RCV-ATL-26-00917",
     "reason": "received", "source_time": "2026-03-26T18:37:00Z",
     "changes": [{"sku": "FS-COF-ESP-1KG", "inventory_item_id": 45012345678901234,
                  "location_id": 65432109876, "delta": 400, "uom": "EA", "shopify_uom": "EA"}]}

Each change moves the ``available`` quantity of one inventory item at one location, either
by ``delta`` (a receipt adds what it accepted) or to ``quantity`` (a stock count). Shopify
counts whole units, so a fractional quantity is refused, never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

# The reasons inventorySetQuantities accepts (Shopify's "possible reasons").
Reason = Literal[
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
]

ShopifyId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
MAX_QUANTITY = 1_000_000_000  # Shopify refuses totals above this


class InventoryChange(BaseModel):
    """One item at one location: by how much (``delta``) or to what (``quantity``)."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default=None, description="For people reading errors.")
    inventory_item_id: ShopifyId | None = Field(
        default=None,
        description="Shopify's InventoryItem id. Missing: the SKU is not sold in this shop and "
        "the change is skipped.",
    )
    location_id: ShopifyId = Field(description="Shopify's Location id.")
    delta: Decimal | None = None
    quantity: Decimal | None = Field(default=None, ge=0)
    uom: str | None = Field(default=None, description="The unit of the canonical quantity.")
    shopify_uom: str | None = Field(
        default=None, description="The unit Shopify counts this item in; must equal `uom`."
    )

    @model_validator(mode="after")
    def _one_whole_amount(self) -> InventoryChange:
        if (self.delta is None) == (self.quantity is None):
            raise ValueError("give exactly one of delta and quantity")
        if self.inventory_item_id is None:
            return self  # skipped: its unit and amount do not concern the shop
        amount = self.delta if self.delta is not None else self.quantity
        assert amount is not None
        if amount != amount.to_integral_value():
            raise ValueError(f"Shopify counts whole units; {amount} is not one")
        if self.uom and self.shopify_uom and self.uom != self.shopify_uom:
            raise ValueError(
                f"{self.sku or 'the item'} is counted in {self.shopify_uom} at Shopify, "
                f"not {self.uom}"
            )
        return self

    @property
    def label(self) -> str:
        return f"{self.sku or self.inventory_item_id} at location {self.location_id}"


class InventoryUpdate(BaseModel):
    """What one canonical message changes in a Shopify store's available quantities."""

    model_config = ConfigDict(extra="forbid")

    document_type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,39}$")
    document_id: str = Field(min_length=1, max_length=200)
    reason: Reason
    source_time: datetime = Field(description="When the change happened at its source.")
    changes: list[InventoryChange] = Field(max_length=250)

    @model_validator(mode="after")
    def _aware_time(self) -> InventoryUpdate:
        if self.source_time.tzinfo is None:
            raise ValueError("source_time needs a UTC offset")
        return self


Level = tuple[int, int]
"""(inventory item id, location id)."""


@dataclass(frozen=True)
class LevelChange:
    """The change of one level, merged over the payload's changes of that level."""

    item_id: int
    location_id: int
    label: str
    delta: int | None  # None: absolute
    quantity: int | None

    def target(self, current: int) -> int:
        """The new available quantity given the current one."""
        if self.quantity is not None:
            return self.quantity
        assert self.delta is not None
        return current + self.delta


def merge(update: InventoryUpdate) -> list[LevelChange]:
    """One change per level: deltas of the same level add up (Shopify refuses a level twice
    in one call); two absolute quantities, or an absolute and a delta, for one level are
    ambiguous and refused. Changes of SKUs the shop does not sell, and zero deltas, go."""
    merged: dict[Level, LevelChange] = {}
    for change in update.changes:
        if change.inventory_item_id is None:
            continue
        level = (change.inventory_item_id, change.location_id)
        seen = merged.get(level)
        if change.quantity is not None:
            if seen is not None:
                raise ValueError(f"{change.label} is set twice in one update")
            merged[level] = LevelChange(*level, change.label, None, int(change.quantity))
            continue
        assert change.delta is not None
        if seen is not None and seen.delta is None:
            raise ValueError(f"{change.label} is both set and moved in one update")
        total = (seen.delta if seen is not None and seen.delta is not None else 0) + int(
            change.delta
        )
        merged[level] = LevelChange(*level, change.label, total, None)
    return [c for c in merged.values() if c.delta != 0]


def level_state_key(item_id: int, location_id: int) -> str:
    """Where the source time of the newest change applied to a level is remembered."""
    return f"level:{item_id}:{location_id}"


def item_gid(item_id: int) -> str:
    return f"gid://shopify/InventoryItem/{item_id}"


def location_gid(location_id: int) -> str:
    return f"gid://shopify/Location/{location_id}"


def id_of(gid: str) -> int:
    """The numeric id of a Shopify global id (``gid://shopify/Location/65432109876``)."""
    return int(gid.rsplit("/", 1)[-1].split("?", 1)[0])
