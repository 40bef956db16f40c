"""API shapes of the connections domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,127}$"


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=NAME_PATTERN, description="A unique, stable name: `acme-supplier-edi`."
    )
    connector: str = Field(description="The connector slug, from `GET /v1/connectors`.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings checked against the connector's config schema. Secret fields are "
        "write-only: stored encrypted, never returned.",
    )
    concurrency: int = Field(default=8, ge=1, le=256, description="Deliveries in flight at once.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    breaker_threshold: int | None = Field(default=None, ge=1, le=1000)
    breaker_cooldown_seconds: float | None = Field(default=None, gt=0, le=86400)
    mappings: dict[str, str] = Field(
        default_factory=dict,
        description="Mapping (a name in `mappings/`) per native record kind, over the "
        "connector's defaults.",
    )
    poll_interval_seconds: float | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="Poll this often (connectors that poll). Leave out to not poll.",
    )


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = Field(
        default=None, description="Fields to change; secret fields left out keep their value."
    )
    concurrency: int | None = Field(default=None, ge=1, le=256)
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)
    breaker_threshold: int | None = Field(default=None, ge=1, le=1000)
    breaker_cooldown_seconds: float | None = Field(default=None, gt=0, le=86400)
    mappings: dict[str, str] | None = Field(
        default=None, description="Replaces the connection's mapping choices."
    )
    poll_interval_seconds: float | None = Field(
        default=None, ge=0, le=86400, description="0 stops polling."
    )


class Breaker(BaseModel):
    state: str = Field(description="closed, open or half_open.")
    consecutive_failures: int
    opened_until: datetime | None


class Polling(BaseModel):
    interval_seconds: float | None
    cursor: str | None = Field(description="Where the next poll starts.")
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_error: str | None


class CheckOut(BaseModel):
    ok: bool
    detail: str
    latency_ms: float | None
    info: dict[str, Any]


class ConnectionOut(BaseModel):
    id: str
    name: str
    connector: str
    config: dict[str, Any]
    secrets_set: list[str] = Field(description="Names of the secret fields that hold a value.")
    concurrency: int
    timeout_seconds: float
    breaker_threshold: int
    breaker_cooldown_seconds: float
    breaker: Breaker
    mappings: dict[str, str] = Field(description="Mapping per native record kind, effective.")
    polling: Polling
    created_at: datetime
    updated_at: datetime


class ConnectionPage(BaseModel):
    items: list[ConnectionOut]
    next_cursor: str | None
