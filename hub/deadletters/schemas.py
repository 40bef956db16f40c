"""API shapes of the dead-letter domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.deliveries.schemas import AttemptOut


class DeadLetterOut(BaseModel):
    id: str
    direction: str = Field(description="outbound (a delivery) or inbound (a received payload).")
    status: str = Field(description="open, replayed or discarded.")
    reason: str = Field(
        description="Outbound: permanent, attempts_exhausted or max_age. Inbound: parse_failed, "
        "mapping_failed, contract_violation or idempotency_conflict."
    )
    error_class: str
    signature: str = Field(description="Groups dead letters with the same cause.")
    error: str | None
    attempts: int
    last_response: dict[str, Any] | None
    route_id: str | None
    connection_id: str | None
    delivery_id: int | None
    message_key: str | None
    message_type: str | None
    ordering_key: str | None
    edited: bool
    source_delivery_id: str | None = Field(
        description="Inbound: the sender's delivery id (webhook id, file name)."
    )
    record_kind: str | None = Field(description="Inbound: the native record kind, if parsed.")
    replay_message_keys: list[str] = Field(
        description="Inbound: the messages a successful replay created."
    )
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class DeadLetterDetail(DeadLetterOut):
    event: dict[str, Any] | None = Field(
        description="What a replay sends: the edited event, if edited."
    )
    history: list[AttemptOut]
    inbound: InboundPayload | None = Field(
        description="Inbound: the verified request as received, and the record that failed."
    )


class InboundPayload(BaseModel):
    headers: dict[str, str]
    body: str | None = Field(description="The raw body, if it is UTF-8 text.")
    body_base64: str | None = Field(description="The raw body in base64, if it is not text.")
    record: dict[str, Any] | None = Field(
        description="The native record that failed (`kind`, `id`, `data`), if parsing got there."
    )


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None


class SignatureGroup(BaseModel):
    signature: str
    count: int
    error_class: str
    sample_error: str | None
    routes: list[str]
    first_at: datetime
    last_at: datetime


class SignatureGroups(BaseModel):
    items: list[SignatureGroup]


class DeadLetterEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(
        description="The new `data` of the event; checked against its contract."
    )


class Discard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class DeadLetterFilter(BaseModel):
    """Which dead letters a list or a bulk replay covers. Every field narrows the set."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "replayed", "discarded"] | None = "open"
    direction: Literal["outbound", "inbound"] | None = None
    route: str | None = Field(default=None, description="Route id or name.")
    connection: str | None = Field(default=None, description="Connection id or name.")
    type: str | None = Field(default=None, description="Message type, or `family.*`.")
    reason: str | None = None
    signature: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class ReplayRequest(DeadLetterFilter):
    status: Literal["open"] | None = "open"
    limit: int = Field(default=10_000, ge=1, le=100_000, description="At most this many.")


class JobOut(BaseModel):
    id: str
    kind: str
    status: str = Field(description="pending, running, done or failed.")
    params: dict[str, Any]
    total: int
    processed: int
    succeeded: int
    failed: int
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
