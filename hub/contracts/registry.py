"""The contract registry: every ``contracts/<family>/<version>.schema.json``, compiled once.

Each schema is meta-validated with ``jsonschema`` (the reference implementation) and then
compiled with ``jsonschema-rs`` for the hot path; ``tests/contracts`` proves the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import orjson

from hub.contracts.lifecycle import Deprecation, deprecation_of
from hub.contracts.semantics import ContractRules
from hub.governance.policies import (
    ContractPolicy,
    HubLimits,
    Lifecycle,
    load_contract_policies,
    load_hub_policy,
)
from hub.timestamps import utcnow

DATASCHEMA_PREFIX = "urn:crossdock:contract:"
_DATASCHEMA = re.compile(
    r"^urn:crossdock:contract:(?P<family>[a-z][a-z_]*):(?P<version>[0-9]+\.[0-9]+)$"
)
_SCHEMA_FILE = re.compile(r"^(?P<version>[0-9]+\.[0-9]+)\.schema\.json$")


class ContractLoadError(Exception):
    """A contract file is unreadable, not a valid JSON Schema, or inconsistent with its name."""


@dataclass(frozen=True)
class Example:
    name: str
    valid: bool
    description: str
    event: dict[str, Any]
    violations: tuple[str, ...]


@dataclass(frozen=True)
class ContractVersion:
    family: str
    version: str
    events: tuple[str, ...]
    schema: dict[str, Any]
    validator: Any = field(repr=False, compare=False)  # jsonschema_rs.Validator
    rules: ContractRules = field(repr=False, compare=False)
    lifecycle: Lifecycle
    examples: tuple[Example, ...] = ()
    deprecation: Deprecation | None = field(default=None, compare=False)
    """Set when the version is deprecated: its sunset, successor and the headers' dates."""
    max_message_bytes: int | None = None
    """The family's limit, else the hub's (``governance/``); ``None``: no limit."""
    max_lines: int | None = None

    @property
    def dataschema(self) -> str:
        return f"{DATASCHEMA_PREFIX}{self.family}:{self.version}"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def accepts_messages(self) -> bool:
        return self.lifecycle in (Lifecycle.ACTIVE, Lifecycle.DEPRECATED)


@dataclass(frozen=True)
class ContractFamily:
    name: str
    policy: ContractPolicy | None
    versions: dict[str, ContractVersion]

    @property
    def events(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for version in self.versions.values():
            seen.update(dict.fromkeys(version.events))
        return tuple(seen)


def parse_dataschema(dataschema: str) -> tuple[str, str] | None:
    """``urn:crossdock:contract:reservation:1.0`` → ``("reservation", "1.0")``."""
    match = _DATASCHEMA.match(dataschema)
    return (match["family"], match["version"]) if match else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class ContractRegistry:
    """All contract versions known to this hub, keyed by family and version."""

    def __init__(self, families: dict[str, ContractFamily]) -> None:
        self.families = families
        self._by_dataschema = {
            version.dataschema: version
            for family in families.values()
            for version in family.versions.values()
        }

    @classmethod
    def load(cls, contracts_path: Path, governance_path: Path) -> ContractRegistry:
        if not contracts_path.is_dir():
            raise ContractLoadError(f"contracts folder {contracts_path} does not exist")
        policies = load_contract_policies(governance_path)
        # A governance folder without hub.yaml (a test's, say) sets no hub-wide limits.
        hub_limits = (
            load_hub_policy(governance_path).limits
            if (governance_path / "hub.yaml").is_file()
            else None
        )
        families: dict[str, ContractFamily] = {}
        for folder in sorted(p for p in contracts_path.iterdir() if p.is_dir()):
            policy = policies.get(folder.name)
            versions: dict[str, ContractVersion] = {}
            for schema_path in sorted(folder.glob("*.schema.json")):
                version = _with_limits(
                    _load_version(folder.name, schema_path, policy), policy, hub_limits
                )
                versions[version.version] = version
            if versions:
                ordered = dict(sorted(versions.items(), key=lambda kv: _version_key(kv[0])))
                families[folder.name] = ContractFamily(
                    folder.name, policy, _with_deprecations(ordered, policy)
                )
        return cls(families)

    def by_dataschema(self, dataschema: str) -> ContractVersion | None:
        return self._by_dataschema.get(dataschema)

    def get(self, family: str, version: str) -> ContractVersion | None:
        fam = self.families.get(family)
        return fam.versions.get(version) if fam else None

    def all_versions(self) -> list[ContractVersion]:
        return [v for family in self.families.values() for v in family.versions.values()]

    def deprecations(self, dataschemas: Iterable[str]) -> list[Deprecation]:
        """The deprecation of each deprecated version among ``dataschemas``, once each."""
        found: dict[str, Deprecation] = {}
        for dataschema in dataschemas:
            version = self._by_dataschema.get(dataschema)
            if version is not None and version.deprecation is not None:
                found[dataschema] = version.deprecation
        return list(found.values())


def _with_limits(
    version: ContractVersion, policy: ContractPolicy | None, hub: HubLimits | None
) -> ContractVersion:
    """``version`` with the message limits of its family's policy, else the hub's."""
    family = policy.limits if policy is not None else None
    return replace(
        version,
        max_message_bytes=_lowest(
            family.max_message_bytes if family else None, hub.max_message_bytes if hub else None
        ),
        max_lines=_lowest(family.max_lines if family else None, hub.max_lines if hub else None),
    )


def _lowest(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def _with_deprecations(
    versions: dict[str, ContractVersion], policy: ContractPolicy | None
) -> dict[str, ContractVersion]:
    """``versions`` with the deprecation of each deprecated one filled in."""
    if policy is None:
        return versions
    active = [v for v in versions.values() if v.lifecycle is Lifecycle.ACTIVE]
    successor = active[-1].version if active else None
    loaded_at = utcnow()
    result: dict[str, ContractVersion] = {}
    for number, version in versions.items():
        rules = policy.versions.get(number)
        if version.lifecycle is Lifecycle.DEPRECATED and rules is not None and rules.sunset:
            found = deprecation_of(
                version.family, number, rules.sunset, successor, loaded_at, rules.deprecated
            )
            version = replace(version, deprecation=found)
        result[number] = version
    return result


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ContractLoadError(f"{path}: {exc}") from exc


def _load_version(family: str, schema_path: Path, policy: ContractPolicy | None) -> ContractVersion:
    name_match = _SCHEMA_FILE.match(schema_path.name)
    if not name_match:
        raise ContractLoadError(f"{schema_path}: name it <major>.<minor>.schema.json")
    version = name_match["version"]
    schema = _read_json(schema_path)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ContractLoadError(
            f"{schema_path}: not a valid JSON Schema 2020-12: {exc.message}"
        ) from exc
    meta = schema.get("x-crossdock") or {}
    expected_id = f"{DATASCHEMA_PREFIX}{family}:{version}"
    if schema.get("$id") != expected_id:
        raise ContractLoadError(f"{schema_path}: $id must be {expected_id!r}")
    if meta.get("family") != family or meta.get("version") != version:
        raise ContractLoadError(f"{schema_path}: x-crossdock family/version disagree with the path")
    events = meta.get("events")
    if not events or not all(isinstance(e, str) for e in events):
        raise ContractLoadError(f"{schema_path}: x-crossdock.events must list the event names")
    # Formats stay annotations, as JSON Schema 2020-12 says; dates are checked by patterns,
    # which both validators evaluate the same way.
    validator = jsonschema_rs.validator_for(schema, validate_formats=False)
    lifecycle = policy.lifecycle(version) if policy else None
    return ContractVersion(
        family=family,
        version=version,
        events=tuple(events),
        schema=schema,
        validator=validator,
        rules=ContractRules(family, schema),
        lifecycle=lifecycle or Lifecycle.DRAFT,
        examples=_load_examples(schema_path.parent / "examples" / version),
    )


def _load_examples(folder: Path) -> tuple[Example, ...]:
    examples: list[Example] = []
    for valid in (True, False):
        sub = folder / ("valid" if valid else "invalid")
        for path in sorted(sub.glob("*.json")) if sub.is_dir() else []:
            doc = _read_json(path)
            if not isinstance(doc, dict) or not isinstance(doc.get("event"), dict):
                raise ContractLoadError(f"{path}: an example is an object with an 'event'")
            examples.append(
                Example(
                    name=path.stem,
                    valid=valid,
                    description=str(doc.get("description", "")),
                    event=doc["event"],
                    violations=tuple(doc.get("violations", ())),
                )
            )
    return tuple(examples)
