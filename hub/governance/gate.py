"""The contract compatibility gate: a version of a family against the earlier versions its
compatibility mode names.

A new *minor* version must keep what the family's mode protects against the earlier versions
of its major: the latest one, or every one for a ``*_TRANSITIVE`` mode. A new *major*
version may break its predecessors (that is what the major number says); its changes against
the latest earlier version are still listed, for review. Retired versions have no producers
or consumers left, so nothing is checked against them.

Used by ``crossdock contracts check`` (every shipped version) and by
``POST /v1/contracts/{family}/compatibility`` (a candidate schema).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.contracts.registry import DATASCHEMA_PREFIX, ContractFamily, ContractRegistry
from hub.errors import ProblemError
from hub.governance.compatibility import (
    Change,
    CompatibilityMode,
    SchemaError,
    SchemaProblem,
    check_schema_document,
    compare,
)
from hub.governance.policies import Lifecycle, version_key

DEFAULT_MODE = CompatibilityMode.BACKWARD_TRANSITIVE
_VERSION = re.compile(r"^[0-9]{1,4}\.[0-9]{1,4}$")


class InvalidCandidateSchema(ProblemError):
    """The candidate cannot be compared; ``violations`` says why, with pointers."""

    status = 422
    slug = "invalid-schema"
    title = "The candidate is not a contract schema the gate can compare"


@dataclass(frozen=True)
class EarlierVersion:
    """A published version the candidate is compared with."""

    version: str
    schema: dict[str, Any]
    lifecycle: Lifecycle


@dataclass(frozen=True)
class Comparison:
    """The candidate against one earlier version. ``same_major`` is false only for a new
    major version's comparison with its predecessor, listed for review and never judged."""

    against: str
    changes: tuple[Change, ...]
    same_major: bool


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one version: every comparison, judged under the family's mode."""

    family: str
    version: str
    mode: CompatibilityMode
    comparisons: tuple[Comparison, ...]

    @property
    def new_major(self) -> bool:
        return bool(self.comparisons) and not self.comparisons[-1].same_major

    def judged(self, mode: CompatibilityMode) -> tuple[Comparison, ...]:
        """The comparisons ``mode`` decides on."""
        relevant = tuple(c for c in self.comparisons if c.same_major)
        if mode is CompatibilityMode.NONE:
            return ()
        return relevant if mode.transitive else relevant[-1:]

    def compatible_under(self, mode: CompatibilityMode) -> bool:
        return not any(c.breaks_under(mode) for cmp in self.judged(mode) for c in cmp.changes)

    @property
    def compatible(self) -> bool:
        return self.compatible_under(self.mode)

    @property
    def detail(self) -> str:
        if not self.comparisons:
            return f"{self.version} is the first {self.family} version in use: nothing to break"
        if self.new_major:
            latest = self.comparisons[-1]
            return (
                f"{self.version} is a new major version: it may break {latest.against}; its "
                f"{_count(len(latest.changes), 'change')} against it are listed for review"
            )
        judged = self.judged(self.mode)
        if self.mode is CompatibilityMode.NONE:
            return f"{self.family} is governed with compatibility NONE: nothing is checked"
        forbidden = [
            (c.against, [x for x in c.changes if x.breaks_under(self.mode)]) for c in judged
        ]
        broken = [(against, changes) for against, changes in forbidden if changes]
        versions = ", ".join(c.against for c in judged)
        if not broken:
            total = sum(len(c.changes) for c in judged)
            return (
                f"{self.version} is {self.mode}-compatible with {versions}: "
                f"{_count(total, 'change')}, none that the mode forbids"
            )
        parts = [f"{_count(len(changes), 'forbidden change')} against {v}" for v, changes in broken]
        return (
            f"{self.version} is not {self.mode}-compatible: {'; '.join(parts)}. Undo what the "
            "mode forbids, or publish the schema as a new major version"
        )

    def as_dict(self) -> dict[str, Any]:
        """The verdict as the API answers it (and ``contracts check --json`` prints it)."""
        judged = {id(c) for c in self.judged(self.mode)}
        return {
            "family": self.family,
            "version": self.version,
            "mode": self.mode.value,
            "compatible": self.compatible,
            "new_major": self.new_major,
            "detail": self.detail,
            "comparisons": [
                {
                    "against": cmp.against,
                    "judged": id(cmp) in judged,
                    "compatible": not any(c.breaks_under(self.mode) for c in cmp.changes),
                    "changes": [
                        {
                            "pointer": c.pointer,
                            "kind": c.kind.value,
                            "breaks": c.breaks.value,
                            "forbidden": id(cmp) in judged and c.breaks_under(self.mode),
                            "message": c.message,
                            "data_paths": list(c.data_paths),
                        }
                        for c in cmp.changes
                    ],
                }
                for cmp in self.comparisons
            ],
            "modes": {mode.value: self.compatible_under(mode) for mode in CompatibilityMode},
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _major(version: str) -> int:
    return version_key(version)[0]


def judge(
    family: str,
    version: str,
    schema: dict[str, Any],
    history: Sequence[EarlierVersion],
    mode: CompatibilityMode,
) -> Verdict:
    """``schema`` as ``version`` of ``family`` against ``history`` (any order; versions after
    ``version`` and retired ones are left out; an equal version is the one it replaces)."""
    earlier = sorted(
        (
            h
            for h in history
            if version_key(h.version) <= version_key(version)
            and h.lifecycle is not Lifecycle.RETIRED
        ),
        key=lambda h: version_key(h.version),
    )
    same = [h for h in earlier if _major(h.version) == _major(version)]
    if same:
        comparisons = tuple(
            Comparison(h.version, tuple(compare(h.schema, schema)), True) for h in same
        )
    elif earlier:
        latest = earlier[-1]
        comparisons = (Comparison(latest.version, tuple(compare(latest.schema, schema)), False),)
    else:
        comparisons = ()
    return Verdict(family, version, mode, comparisons)


def family_mode(family: ContractFamily) -> CompatibilityMode:
    """The family's compatibility mode; the default when it has no policy file."""
    return family.policy.compatibility if family.policy else DEFAULT_MODE


def check_registry(registry: ContractRegistry, families: Sequence[str] = ()) -> list[Verdict]:
    """Every version of every family (or of ``families``) against its predecessors."""
    verdicts: list[Verdict] = []
    for family in registry.families.values():
        if families and family.name not in families:
            continue
        versions = list(family.versions.values())
        for index, version in enumerate(versions):
            history = [EarlierVersion(v.version, v.schema, v.lifecycle) for v in versions[:index]]
            verdicts.append(
                judge(family.name, version.version, version.schema, history, family_mode(family))
            )
    return verdicts


def check_candidate(family: ContractFamily, schema: Any, version: str | None = None) -> Verdict:
    """A candidate schema for ``family`` (as ``version``; default: the version its
    ``x-crossdock`` names, else the next minor of the latest) against the family's versions.

    Raises :class:`InvalidCandidateSchema` when it cannot be compared.
    """
    problems = check_schema_document(schema)
    if problems:
        raise _invalid(problems)
    version = version or _declared_version(schema) or _next_minor(family)
    problems = _identity_problems(family.name, version, schema)
    if problems:
        raise _invalid(problems)
    history = [EarlierVersion(v.version, v.schema, v.lifecycle) for v in family.versions.values()]
    try:
        return judge(family.name, version, schema, history, family_mode(family))
    except SchemaError as exc:
        raise _invalid(exc.problems) from None


def _invalid(problems: Sequence[SchemaProblem]) -> InvalidCandidateSchema:
    violations = [
        {"pointer": f"/schema{p.pointer}", "rule": p.rule, "message": p.message}
        for p in problems[:100]
    ]
    shown = "; ".join(f"{v['pointer']}: {v['message']}" for v in violations[:5])
    return InvalidCandidateSchema(
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: {shown}",
        extensions={"violations": violations},
    )


def _declared_version(schema: dict[str, Any]) -> str | None:
    meta = schema.get("x-crossdock")
    declared = meta.get("version") if isinstance(meta, dict) else None
    return declared if isinstance(declared, str) and _VERSION.match(declared) else None


def _next_minor(family: ContractFamily) -> str:
    if not family.versions:
        return "1.0"
    latest = max(family.versions, key=version_key)
    major, minor = version_key(latest)[:2]
    return f"{major}.{minor + 1}"


def _identity_problems(family: str, version: str, schema: dict[str, Any]) -> list[SchemaProblem]:
    found: list[SchemaProblem] = []
    meta = schema.get("x-crossdock")
    if meta is not None and not isinstance(meta, dict):
        return [SchemaProblem("/x-crossdock", "identity", "x-crossdock is an object")]
    meta = meta or {}
    if "family" in meta and meta["family"] != family:
        found.append(
            SchemaProblem(
                "/x-crossdock/family", "identity", f"the candidate is posted to family {family!r}"
            )
        )
    if "version" in meta and meta["version"] != version:
        found.append(
            SchemaProblem("/x-crossdock/version", "identity", f"the candidate is version {version}")
        )
    events = meta.get("events")
    if events is not None and not (
        isinstance(events, list) and all(isinstance(e, str) for e in events)
    ):
        found.append(SchemaProblem("/x-crossdock/events", "identity", "events are a list of names"))
    expected_id = f"{DATASCHEMA_PREFIX}{family}:{version}"
    if "$id" in schema and schema["$id"] != expected_id:
        found.append(SchemaProblem("/$id", "identity", f"$id must be {expected_id!r}"))
    return found
