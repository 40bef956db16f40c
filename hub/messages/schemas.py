"""API shapes of the messages domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.contracts.schemas import ContractWarning
from hub.openapi import ContractViolationProblem

_WARNINGS = (
    "Present when the message's contract version is deprecated (the answer then carries "
    "`Deprecation` and `Sunset` headers too): it is refused from its sunset day on."
)


class Acceptance(BaseModel):
    key: str = Field(description="The hub's key for the stored message.")
    accepted_at: datetime
    duplicate: bool = Field(description="True when this source + id was accepted before.")
    warnings: list[ContractWarning] | None = Field(default=None, description=_WARNINGS)


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the event in the submitted array.")
    status: Literal["accepted", "duplicate", "rejected", "conflict"]
    key: str | None = None
    accepted_at: datetime | None = None
    problem: ContractViolationProblem | None = Field(
        default=None, description="Why a rejected or conflicting item was not accepted."
    )
    warnings: list[ContractWarning] | None = Field(default=None, description=_WARNINGS)


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[BatchItemResult]


class StoredMessage(BaseModel):
    key: str
    accepted_at: datetime
    event: dict[str, Any] = Field(description="The CloudEvent exactly as accepted.")
    warnings: list[ContractWarning] | None = Field(default=None, description=_WARNINGS)


class MessagePage(BaseModel):
    items: list[StoredMessage]
    next_cursor: str = Field(
        description="Pass as `after` to get the messages accepted after this page. "
        "Returned even on an empty page, so a consumer can keep polling with it."
    )
    has_more: bool
