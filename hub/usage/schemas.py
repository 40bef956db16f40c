"""API shapes of the usage domain."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class UsageActor(BaseModel):
    kind: str = Field(description="`client` (an API key) or `connection`.")
    id: str
    name: str | None = Field(description="Its current name; null once it was deleted.")


class UsageEntry(BaseModel):
    actor: UsageActor
    first_seen: datetime = Field(description="The first message seen since usage is recorded.")
    last_seen: datetime
    count: int = Field(
        description="Messages produced; or, for consumers, messages read from the feed or "
        "sent (each delivery attempt counts)."
    )


class VersionUsage(BaseModel):
    version: str
    dataschema: str
    lifecycle: str = Field(description="draft, active, deprecated or retired.")
    sunset: date | None = Field(description="For a deprecated version: the day it is refused.")
    producers: list[UsageEntry] = Field(description="Most recently seen first.")
    consumers: list[UsageEntry] = Field(description="Most recently seen first.")


class FamilyUsage(BaseModel):
    family: str
    versions: list[VersionUsage]
