"""API shapes of the deliveries domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.deliveries.models import Delivery, DeliveryAttempt


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    outcome: str
    classification: str = Field(description="success, transient or permanent.")
    status_code: int | None
    error: str | None
    retry_after: float | None


class DeliveryOut(BaseModel):
    id: int
    route_id: str
    route: str
    connection_id: str
    ordering_key: str
    status: str = Field(description="pending, in_flight, delivered, dead or discarded.")
    attempts: int
    next_attempt_at: datetime | None
    accepted_at: datetime
    first_attempt_at: datetime | None
    delivered_at: datetime | None
    latency_ms: float | None = Field(description="Accepted to delivered.")
    history: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


def attempt_view(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "duration_ms": round(attempt.duration_ms, 3),
        "outcome": attempt.outcome,
        "classification": attempt.classification,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "retry_after": attempt.retry_after,
    }


def delivery_view(
    delivery: Delivery, route: str, attempts: list[DeliveryAttempt]
) -> dict[str, Any]:
    latency = (
        (delivery.delivered_at - delivery.accepted_at).total_seconds() * 1000
        if delivery.delivered_at
        else None
    )
    return {
        "id": delivery.id,
        "route_id": delivery.route_id,
        "route": route,
        "connection_id": delivery.connection_id,
        "ordering_key": delivery.ordering_key,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
        "accepted_at": delivery.accepted_at,
        "first_attempt_at": delivery.first_attempt_at,
        "delivered_at": delivery.delivered_at,
        "latency_ms": latency,
        "history": [attempt_view(a) for a in attempts],
    }
