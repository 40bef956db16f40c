"""``crossdock governance check``: every policy file against its schema, its own rules and the
contracts it governs, with every problem listed by file and JSON pointer.

Also the JSON Schema of each kind of policy file, generated from the pydantic models that
load them and published beside this module (``<name>.schema.json``) for editors and
reviewers; the suite proves the published files match the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from hub.deliveries.policy import DeliveryPolicy
from hub.governance.compatibility import DRAFT_2020_12, escape
from hub.governance.policies import (
    ContractPolicy,
    HubPolicy,
    describe,
    load_contract_policy,
    read_policy_yaml,
    version_key,
)

SCHEMA_FOLDER = Path(__file__).resolve().parent
POLICY_MODELS: dict[str, type[BaseModel]] = {
    "contract-policy": ContractPolicy,
    "hub-policy": HubPolicy,
    "delivery-policy": DeliveryPolicy,
}
POLICY_FILES = "contracts/<family>.yaml, hub.yaml, delivery.yaml"


def policy_json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one kind of policy file (``contract-policy``, ``hub-policy``,
    ``delivery-policy``), as published in ``hub/governance/<name>.schema.json``."""
    model = POLICY_MODELS[name]
    return {
        "$schema": DRAFT_2020_12,
        "$id": f"urn:crossdock:governance:{name}",
        **model.model_json_schema(by_alias=True),
    }


def published_json_schema(name: str) -> Any:
    """The JSON Schema file shipped for ``name`` (the suite compares it with the model)."""
    return orjson.loads((SCHEMA_FOLDER / f"{name}.schema.json").read_bytes())


class Severity(StrEnum):
    """Errors fail ``governance check``; warnings are printed and pass."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: in which file, where in it (RFC 6901), what. Errors fail the check."""

    path: Path
    pointer: str
    message: str
    severity: Severity = Severity.ERROR


@dataclass
class GovernanceReport:
    """The files checked and everything found in them."""

    checked: list[Path]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_governance(
    governance_path: Path, contracts_path: Path | None, today: date
) -> GovernanceReport:
    """Check every file of ``governance_path`` and, when ``contracts_path`` is a folder,
    that policies and contract files name the same families and versions."""
    report = GovernanceReport([], [])
    if not governance_path.is_dir():
        report.findings.append(Finding(governance_path, "", "the governance folder does not exist"))
        return report
    policies = _check_contract_policies(governance_path, today, report)
    hub = _check_hub_policy(governance_path / "hub.yaml", report)
    _check_delivery_policy(governance_path / "delivery.yaml", report)
    known = {governance_path / "hub.yaml", governance_path / "delivery.yaml"}
    for path in sorted(p for p in governance_path.rglob("*") if p.is_file()):
        if path.name == "README.md" or path in known or path.parent.name == "__pycache__":
            continue
        if path.parent == governance_path / "contracts" and path.suffix == ".yaml":
            continue
        report.findings.append(
            Finding(path, "", f"not a policy file this hub knows ({POLICY_FILES})")
        )
    for family_path, policy in policies.items():
        if hub is not None:
            _check_limits(family_path, policy, hub, report)
    if contracts_path is not None and contracts_path.is_dir():
        _check_against_contracts(governance_path, contracts_path, policies, report)
    return report


def _check_contract_policies(
    governance_path: Path, today: date, report: GovernanceReport
) -> dict[Path, ContractPolicy]:
    policies: dict[Path, ContractPolicy] = {}
    for path in sorted((governance_path / "contracts").glob("*.yaml")):
        report.checked.append(path)
        policy, found = load_contract_policy(path)
        report.findings += [Finding(path, p, m) for p, m in found]
        if policy is not None:
            policies[path] = policy
            report.findings += [
                Finding(path, p, m, Severity.WARNING) for p, m in policy.warnings(today)
            ]
    return policies


def _validated(path: Path, model: type[BaseModel], report: GovernanceReport) -> Any:
    if not path.is_file():
        report.findings.append(Finding(path, "", "missing"))
        return None
    report.checked.append(path)
    try:
        return model.model_validate(read_policy_yaml(path))
    except (OSError, yaml.YAMLError) as exc:
        report.findings.append(Finding(path, "", f"cannot be read: {exc}"))
    except ValidationError as exc:
        report.findings += [Finding(path, p, m) for p, m in describe(exc)]
    return None


def _check_hub_policy(path: Path, report: GovernanceReport) -> HubPolicy | None:
    policy: HubPolicy | None = _validated(path, HubPolicy, report)
    if policy is not None:
        report.findings += [Finding(path, p, m) for p, m in policy.problems()]
        report.findings += [Finding(path, p, m, Severity.WARNING) for p, m in policy.warnings()]
    return policy


def _check_delivery_policy(path: Path, report: GovernanceReport) -> None:
    _validated(path, DeliveryPolicy, report)


def _check_limits(
    path: Path, policy: ContractPolicy, hub: HubPolicy, report: GovernanceReport
) -> None:
    for name in ("max_message_bytes", "max_lines"):
        own = getattr(policy.limits, name)
        ceiling = getattr(hub.limits, name)
        if own is not None and own > ceiling:
            report.findings.append(
                Finding(
                    path,
                    f"/limits/{name}",
                    f"{own} is above the hub-wide {name} of {ceiling} (hub.yaml), which wins",
                )
            )


def _check_against_contracts(
    governance_path: Path,
    contracts_path: Path,
    policies: dict[Path, ContractPolicy],
    report: GovernanceReport,
) -> None:
    by_family = {policy.family: (path, policy) for path, policy in policies.items()}
    folders = {p.name: p for p in contracts_path.iterdir() if p.is_dir()}
    for family, folder in sorted(folders.items()):
        files = {
            p.name.removesuffix(".schema.json"): p for p in sorted(folder.glob("*.schema.json"))
        }
        if not files:
            continue
        if family not in by_family:
            if (governance_path / "contracts" / f"{family}.yaml").is_file():
                continue  # its policy exists but is broken: reported above
            report.findings.append(
                Finding(
                    governance_path / "contracts" / f"{family}.yaml",
                    "",
                    f"missing: contract family {family!r} ({folder}) has no policy",
                )
            )
            continue
        path, policy = by_family[family]
        for version in sorted(files, key=version_key):
            if version not in policy.versions:
                report.findings.append(
                    Finding(
                        path,
                        "/versions",
                        f"version {version} ({files[version]}) has no lifecycle here",
                    )
                )
            else:
                _check_lines_limit(path, policy, version, files[version], report)
        for version in policy.versions:
            if version not in files:
                report.findings.append(
                    Finding(
                        path,
                        f"/versions/{escape(version)}",
                        f"no contract file {folder / (version + '.schema.json')}",
                    )
                )
    for family, (path, _) in sorted(by_family.items()):
        if family not in folders:
            report.findings.append(
                Finding(path, "/family", f"no contract folder {contracts_path / family}")
            )


def _check_lines_limit(
    path: Path,
    policy: ContractPolicy,
    version: str,
    schema_path: Path,
    report: GovernanceReport,
) -> None:
    """A lines limit above what the schema allows never takes effect: say so."""
    try:
        schema = orjson.loads(schema_path.read_bytes())
        ceiling = schema["properties"]["lines"]["maxItems"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return  # no lines limit in the schema, or a broken file `contracts check` reports
    limit = policy.limits.max_lines
    if isinstance(ceiling, int) and limit is not None and limit > ceiling:
        report.findings.append(
            Finding(
                path,
                "/limits/max_lines",
                f"max_lines {limit} is above what {version} allows ({ceiling} lines): "
                "the schema refuses more first",
                Severity.WARNING,
            )
        )
