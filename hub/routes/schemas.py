"""API shapes of the routes domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.connections.schemas import NAME_PATTERN
from hub.deliveries.policy import RetryPolicy
from hub.routes.versions import PIN_PATTERN

TYPE_PATTERN = r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$"

ContractPins = dict[
    Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$", max_length=64)],
    Annotated[str, StringConstraints(pattern=PIN_PATTERN)],
]
_PINS_DESCRIPTION = (
    'Contract version pins, per family: `{"reservation": "1"}` delivers every '
    "reservation as 1.x (1.x messages as sent, others converted through the version mappings "
    'in `mappings/`); `"1.0"` pins exactly 1.0. The route is refused (422) when a version '
    "producers may send cannot be converted to its pin."
)


class RouteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    connection: str = Field(description="Target connection, by id or name.")
    types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Message types to deliver: `receipt.received`, `receipt.*` or `*`.",
    )
    filter: str | None = Field(
        default=None,
        max_length=2000,
        description="A JMESPath expression over the CloudEvent; only truthy messages are routed, "
        "e.g. `data.location.code == 'DC-ATL'`.",
    )
    ordering_key: str = Field(
        default="subject",
        max_length=256,
        description="A JMESPath expression over the CloudEvent. Messages with the same key are "
        "delivered one at a time, in acceptance order. Default: the business document.",
    )
    retry: RetryPolicy | None = Field(
        default=None, description="Default: governance/delivery.yaml."
    )
    on_dead_letter: Literal["block", "skip"] = Field(
        default="block",
        description="`block`: later messages with the same key wait until the dead letter is "
        "replayed or discarded. `skip`: they go on.",
    )
    mapping: str | None = Field(
        default=None,
        description="A mapping in `mappings/` that turns each canonical message into the "
        "target's own shape before it is sent; the connector gets both.",
    )
    contract_versions: ContractPins = Field(
        default_factory=dict, max_length=20, description=_PINS_DESCRIPTION
    )
    paused: bool = False


class RouteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    filter: str | None = Field(
        default=None, max_length=2000, description="Empty string removes it."
    )
    ordering_key: str | None = Field(default=None, max_length=256)
    retry: RetryPolicy | None = None
    on_dead_letter: Literal["block", "skip"] | None = None
    mapping: str | None = Field(default=None, description="Empty string removes it.")
    contract_versions: ContractPins | None = Field(
        default=None,
        max_length=20,
        description="Replaces every pin; `{}` removes them. " + _PINS_DESCRIPTION,
    )


class RouteOut(BaseModel):
    id: str
    name: str
    connection_id: str
    connection: str
    types: list[str]
    filter: str | None
    ordering_key: str
    retry: RetryPolicy
    on_dead_letter: str
    mapping: str | None
    contract_versions: dict[str, str] = Field(description="Version pins, per family.")
    paused: bool
    created_at: datetime
    updated_at: datetime


class RoutePage(BaseModel):
    items: list[RouteOut]
    next_cursor: str | None


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(
        description="Queue every matching message accepted at or after this time."
    )
    until: datetime | None = Field(
        default=None, description="…and before this time (default: now)."
    )
