"""API shapes of the contracts domain."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field


class VersionSummary(BaseModel):
    version: str
    dataschema: str = Field(description="The `dataschema` value producers put in events.")
    lifecycle: str = Field(description="draft, active, deprecated or retired.")
    sunset: date | None = Field(
        default=None,
        description="For a deprecated version: the day (from 00:00 UTC) it is refused.",
    )
    events: list[str]


class FamilySummary(BaseModel):
    family: str
    owner: dict[str, str] | None
    events: list[str]
    versions: list[VersionSummary]


class FamilyList(BaseModel):
    items: list[FamilySummary]


class ExampleOut(BaseModel):
    name: str
    valid: bool
    description: str
    event: dict[str, Any]
    violations: list[str]


class VersionDetail(VersionSummary):
    family: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    examples: list[ExampleOut]


class ContractWarning(BaseModel):
    """A message's contract version is deprecated: it works until its sunset, then is refused."""

    type: Literal["contract-version-deprecated"]
    dataschema: str = Field(description="The deprecated version.")
    sunset: date = Field(description="From this day (00:00 UTC) the version is refused.")
    successor: str | None = Field(description="The family's newest active version.")
    detail: str
