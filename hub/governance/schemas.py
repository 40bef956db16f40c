"""API shapes of the governance domain: the compatibility gate's question and verdict."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.governance.compatibility import Breaks, ChangeKind, CompatibilityMode


class CompatibilityRequest(BaseModel):
    """A candidate schema for a contract family."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: dict[str, Any] = Field(
        alias="schema",
        description="The candidate: a JSON Schema 2020-12 document, self-contained (local "
        "`$ref`s only), as it would be saved in `contracts/<family>/<version>.schema.json`.",
    )
    version: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,4}\.[0-9]{1,4}$",
        description="The version the candidate would be. Default: the one its `x-crossdock` "
        "names, else the next minor version of the family's latest.",
    )


class ChangeOut(BaseModel):
    pointer: str = Field(
        description="RFC 6901 pointer into the candidate schema (into the earlier version's "
        "for what the candidate no longer has)."
    )
    kind: ChangeKind
    breaks: Breaks = Field(
        description="`producers`: messages valid under the earlier version are refused by the "
        "candidate. `consumers`: messages valid under the candidate are refused by the earlier "
        "version. `both`, or `none`."
    )
    forbidden: bool = Field(description="Whether the family's compatibility mode forbids it here.")
    message: str
    data_paths: list[str] = Field(
        description="Where in a message's `data` it applies (`*`: any index or name)."
    )


class ComparisonOut(BaseModel):
    against: str = Field(description="The earlier version compared with.")
    judged: bool = Field(
        description="Whether the mode decides on this comparison (false for a new major "
        "version, and for older versions under a non-transitive mode)."
    )
    compatible: bool = Field(description="Whether no change breaks what the mode protects.")
    changes: list[ChangeOut]


class CompatibilityVerdict(BaseModel):
    family: str
    version: str = Field(description="The version the candidate was judged as.")
    mode: CompatibilityMode = Field(description="The family's mode (governance/contracts).")
    compatible: bool = Field(description="The verdict under the family's mode.")
    new_major: bool = Field(description="A new major version, which may break earlier ones.")
    detail: str
    comparisons: list[ComparisonOut]
    modes: dict[str, bool] = Field(description="The verdict under every mode, for comparison.")
