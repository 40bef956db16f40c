"""API shapes of the contracts domain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class VersionSummary(BaseModel):
    version: str
    dataschema: str = Field(description="The `dataschema` value producers put in events.")
    lifecycle: str = Field(description="draft, active, deprecated or retired.")
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
