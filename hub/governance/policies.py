"""Loader for ``governance/contracts/<family>.yaml``: owner and lifecycle of each version.

The files are the source of truth; the pydantic models below are their schema
(``crossdock governance schema`` prints it as JSON Schema).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Lifecycle(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str = Field(min_length=1)
    contact: str = Field(min_length=3)


class VersionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Lifecycle
    sunset: date | None = Field(default=None, description="Required when deprecated.")


class ContractPolicy(BaseModel):
    """The policy file of one contract family."""

    model_config = ConfigDict(extra="forbid")

    family: str = Field(pattern=r"^[a-z][a-z_]*$")
    owner: Owner
    versions: dict[str, VersionPolicy]

    def lifecycle(self, version: str) -> Lifecycle | None:
        policy = self.versions.get(version)
        return policy.status if policy else None


class PolicyError(Exception):
    """A governance file is missing, unreadable or breaks its schema."""


def load_contract_policies(governance_path: Path) -> dict[str, ContractPolicy]:
    folder = governance_path / "contracts"
    policies: dict[str, ContractPolicy] = {}
    if not folder.is_dir():
        return policies
    for path in sorted(folder.glob("*.yaml")):
        try:
            policy = ContractPolicy.model_validate(yaml.safe_load(path.read_text("utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise PolicyError(f"{path}: {exc}") from exc
        if policy.family != path.stem:
            raise PolicyError(f"{path}: family {policy.family!r} does not match the file name")
        for version, version_policy in policy.versions.items():
            if version_policy.status is Lifecycle.DEPRECATED and version_policy.sunset is None:
                raise PolicyError(f"{path}: deprecated version {version} needs a sunset date")
        policies[policy.family] = policy
    return policies
