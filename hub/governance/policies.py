"""The policy files of ``governance/``, their schema and the rules a schema cannot say.

- ``governance/contracts/<family>.yaml`` (:class:`ContractPolicy`): the family's owner, each
  version's lifecycle, the compatibility mode new versions are checked under, latency SLA
  objectives and message limits.
- ``governance/hub.yaml`` (:class:`HubPolicy`): hub-wide message limits and the outbound
  address policy.
- ``governance/delivery.yaml``: retry defaults and outcome classification, whose schema
  lives with the delivery engine (``hub.deliveries.policy.DeliveryPolicy``).

The files are the source of truth; the pydantic models below are their schema. Their JSON
Schema is published beside this module (``*-policy.schema.json``) and printed by
``crossdock governance schema``; ``crossdock governance check`` validates every file.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from hub.governance.compatibility import CompatibilityMode, escape
from hub.governance.outbound import OutboundAddressPolicy

VersionNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]+$")]


class Lifecycle(StrEnum):
    """Where a contract version is in its life. The hub accepts messages of ``active`` and
    ``deprecated`` versions only."""

    DRAFT = "draft"
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Owner(BaseModel):
    """Who answers for the family: reviews its changes, decides its deprecations."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(min_length=1)
    contact: str = Field(min_length=3, description="An address that reaches the team.")


class VersionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Lifecycle
    deprecated: date | None = Field(
        default=None,
        description="The day the version was deprecated (the Deprecation response header); "
        "allowed only on deprecated and retired versions, and before the sunset.",
    )
    sunset: date | None = Field(
        default=None,
        description="The day the version is retired. Required when deprecated; "
        "allowed only on deprecated and retired versions.",
    )


class Timestamp(StrEnum):
    """The clock points a message passes, in order: when it happened at the source (the
    CloudEvents ``time``), when the hub accepted it, first tried and delivered it."""

    EVENT_TIME = "event_time"
    ACCEPTED = "accepted"
    FIRST_ATTEMPT = "first_attempt"
    DELIVERED = "delivered"


_TIMESTAMP_ORDER = list(Timestamp)


class LatencyObjective(BaseModel):
    """A latency SLA objective: ``percentile`` % of the family's messages go from one clock
    point to a later one within ``threshold_ms``, measured over ``window_days``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    percentile: float = Field(gt=0, lt=100, description="99 means p99.")
    threshold_ms: int = Field(ge=1, le=7 * 24 * 3600 * 1000)
    window_days: int = Field(default=28, ge=1, le=366)


class FamilyLimits(BaseModel):
    """Limits on one family's messages; each at most the hub-wide one (``hub.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    max_message_bytes: int | None = Field(
        default=None, ge=256, description="Serialized CloudEvent, envelope included."
    )
    max_lines: int | None = Field(default=None, ge=1, description="Items in `data.lines`.")


class ContractPolicy(BaseModel):
    """The policy file of one contract family, ``governance/contracts/<family>.yaml``."""

    model_config = ConfigDict(extra="forbid")

    family: str = Field(pattern=r"^[a-z][a-z_]*$")
    owner: Owner
    compatibility: CompatibilityMode = Field(
        default=CompatibilityMode.BACKWARD_TRANSITIVE,
        description="What a new minor version must not break, checked by "
        "`crossdock contracts check` against earlier versions of its major.",
    )
    versions: dict[VersionNumber, VersionPolicy] = Field(min_length=1)
    sla: list[LatencyObjective] = Field(
        default_factory=list, description="Latency objectives, evaluated by SLA monitoring."
    )
    limits: FamilyLimits = Field(default_factory=FamilyLimits)

    @field_validator("versions", mode="before")
    @classmethod
    def _quoted_versions(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unquoted = [key for key in value if not isinstance(key, str)]
            if unquoted:
                raise ValueError(
                    f"quote version numbers: YAML reads {unquoted[0]!r} as a number "
                    '(write "1.0", not 1.0)'
                )
        return value

    def lifecycle(self, version: str) -> Lifecycle | None:
        policy = self.versions.get(version)
        return policy.status if policy else None

    def problems(self) -> list[tuple[str, str]]:
        """What breaks the rules a schema cannot say, as ``(pointer, message)`` pairs."""
        found: list[tuple[str, str]] = []
        ordered = sorted(self.versions.items(), key=lambda kv: version_key(kv[0]))
        for version, policy in ordered:
            at = f"/versions/{escape(version)}"
            if policy.status is Lifecycle.DEPRECATED and policy.sunset is None:
                found.append((f"{at}/sunset", f"deprecated version {version} needs a sunset date"))
            if policy.sunset is not None and policy.status not in (
                Lifecycle.DEPRECATED,
                Lifecycle.RETIRED,
            ):
                found.append(
                    (
                        f"{at}/sunset",
                        f"a sunset belongs to a deprecated version, not {policy.status}",
                    )
                )
            if policy.deprecated is not None and policy.status not in (
                Lifecycle.DEPRECATED,
                Lifecycle.RETIRED,
            ):
                found.append(
                    (
                        f"{at}/deprecated",
                        f"a deprecation date belongs to a deprecated version, not {policy.status}",
                    )
                )
            if (
                policy.deprecated is not None
                and policy.sunset is not None
                and policy.deprecated > policy.sunset
            ):
                found.append(
                    (
                        f"{at}/deprecated",
                        f"deprecated on {policy.deprecated}, after its sunset {policy.sunset}",
                    )
                )
            if policy.status is Lifecycle.DEPRECATED and not any(
                other.status is Lifecycle.ACTIVE and version_key(v) > version_key(version)
                for v, other in ordered
            ):
                found.append(
                    (
                        f"{at}/status",
                        f"deprecated version {version} has no newer active version for its "
                        "producers and consumers to move to",
                    )
                )
        statuses = {p.status for p in self.versions.values()}
        if Lifecycle.ACTIVE not in statuses and statuses not in (
            {Lifecycle.DRAFT},
            {Lifecycle.RETIRED},
        ):
            found.append(
                (
                    "/versions",
                    "no version is active: a family in use keeps one active version "
                    "(only a family still in draft, or wholly retired, has none)",
                )
            )
        names: set[str] = set()
        for index, objective in enumerate(self.sla):
            if objective.name in names:
                found.append(
                    (f"/sla/{index}/name", f"objective {objective.name!r} is defined twice")
                )
            names.add(objective.name)
            if _TIMESTAMP_ORDER.index(objective.to) <= _TIMESTAMP_ORDER.index(objective.from_):
                found.append(
                    (
                        f"/sla/{index}/to",
                        f"{objective.to} does not come after {objective.from_}: clock points "
                        f"run {' → '.join(_TIMESTAMP_ORDER)}",
                    )
                )
        return found

    def warnings(self, today: date) -> list[tuple[str, str]]:
        """What is allowed but wants attention: a deprecated version past its sunset."""
        return [
            (
                f"/versions/{escape(version)}/sunset",
                f"deprecated version {version} passed its sunset ({policy.sunset}): retire it",
            )
            for version, policy in self.versions.items()
            if policy.status is Lifecycle.DEPRECATED
            and policy.sunset is not None
            and policy.sunset < today
        ]


class HubLimits(BaseModel):
    """Hub-wide limits on one message; families may set lower ones."""

    model_config = ConfigDict(extra="forbid")

    max_message_bytes: int = Field(ge=256, description="Serialized CloudEvent, envelope included.")
    max_lines: int = Field(ge=1, description="Items in `data.lines`.")


class HubPolicy(BaseModel):
    """``governance/hub.yaml``: what holds for every family and connection."""

    model_config = ConfigDict(extra="forbid")

    limits: HubLimits
    outbound: OutboundAddressPolicy

    def problems(self) -> list[tuple[str, str]]:
        return [(f"/outbound{p}", m) for p, m in self.outbound.problems()]

    def warnings(self) -> list[tuple[str, str]]:
        return [(f"/outbound{p}", m) for p, m in self.outbound.warnings()]


class PolicyError(Exception):
    """A governance file is missing, unreadable or breaks its schema."""


class DuplicateKey(yaml.YAMLError):
    """A mapping gives the same key twice."""


class _PolicyLoader(yaml.SafeLoader):
    """YAML as JSON sees it: dates stay strings (the JSON Schema says ``format: date``), and a
    key given twice is an error rather than the last one silently winning."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            if key in seen:
                raise DuplicateKey(f"{key!r} is given twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_policy_yaml(path: Path) -> Any:
    """A policy file's content; raises ``OSError`` or ``yaml.YAMLError``."""
    return yaml.load(path.read_text("utf-8"), Loader=_PolicyLoader)  # a SafeLoader subclass


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10"`` → ``(1, 10)``: versions in numeric order."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def pointer_of(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as an RFC 6901 pointer."""
    return "".join(f"/{escape(str(part))}" for part in loc)


def describe(error: ValidationError) -> list[tuple[str, str]]:
    """Every error of a validation, as ``(pointer, message)``."""
    return [(pointer_of(e["loc"]), e["msg"]) for e in error.errors()]


def load_contract_policy(path: Path) -> tuple[ContractPolicy | None, list[tuple[str, str]]]:
    """One family's policy and every problem found in it, as ``(pointer, message)``."""
    try:
        data = read_policy_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        return None, [("", f"cannot be read: {exc}")]
    try:
        policy = ContractPolicy.model_validate(data)
    except ValidationError as exc:
        return None, describe(exc)
    found = policy.problems()
    if policy.family != path.stem:
        found.insert(0, ("/family", f"family {policy.family!r} does not match the file name"))
    return policy, found


def load_contract_policies(governance_path: Path) -> dict[str, ContractPolicy]:
    """Every family's policy, by family. Raises :class:`PolicyError` listing every problem of
    the first file that has any."""
    folder = governance_path / "contracts"
    policies: dict[str, ContractPolicy] = {}
    if not folder.is_dir():
        return policies
    for path in sorted(folder.glob("*.yaml")):
        policy, found = load_contract_policy(path)
        if found or policy is None:
            raise PolicyError(f"{path}: " + "; ".join(f"{p or '/'}: {m}" for p, m in found))
        policies[policy.family] = policy
    return policies


def load_hub_policy(governance_path: Path) -> HubPolicy:
    """``governance/hub.yaml``. Raises :class:`PolicyError` listing every problem."""
    path = governance_path / "hub.yaml"
    try:
        policy = HubPolicy.model_validate(read_policy_yaml(path))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot be read: {exc}") from exc
    except ValidationError as exc:
        raise PolicyError(f"{path}: " + "; ".join(f"{p}: {m}" for p, m in describe(exc))) from exc
    found = policy.problems()
    if found:
        raise PolicyError(f"{path}: " + "; ".join(f"{p}: {m}" for p, m in found))
    return policy
