"""The policy files of governance/: the shipped ones, their published JSON Schemas, the rules
a schema cannot say, and the outbound address policy's decisions."""

from __future__ import annotations

import shutil
from datetime import date
from ipaddress import ip_network
from pathlib import Path

import jsonschema
import pytest

from hub.governance.compatibility import CompatibilityMode
from hub.governance.policies import (
    PolicyError,
    load_contract_policies,
    load_contract_policy,
    load_hub_policy,
    read_policy_yaml,
)
from hub.governance.validation import (
    POLICY_MODELS,
    Finding,
    Severity,
    check_governance,
    policy_json_schema,
    published_json_schema,
)
from tests.conftest import REPO

TODAY = date(2026, 6, 1)
FAMILIES = ("backorder", "po_release", "receipt", "reservation", "transfer")


def _findings(root: Path) -> list[tuple[str, str, str, Severity]]:
    report = check_governance(root / "governance", root / "contracts", TODAY)
    return [_short(f, root) for f in report.findings]


def _short(finding: Finding, root: Path) -> tuple[str, str, str, Severity]:
    return (
        str(finding.path.relative_to(root)),
        finding.pointer,
        finding.message,
        finding.severity,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the shipped governance and contracts folders, to break."""
    shutil.copytree(REPO / "governance", tmp_path / "governance")
    shutil.copytree(REPO / "contracts", tmp_path / "contracts")
    return tmp_path


def test_the_shipped_policies_pass_without_a_warning() -> None:
    report = check_governance(REPO / "governance", REPO / "contracts", TODAY)
    assert report.findings == []
    assert {p.relative_to(REPO).as_posix() for p in report.checked} == {
        *(f"governance/contracts/{f}.yaml" for f in FAMILIES),
        "governance/hub.yaml",
        "governance/delivery.yaml",
    }
    policies = load_contract_policies(REPO / "governance")
    assert all(p.compatibility is CompatibilityMode.BACKWARD_TRANSITIVE for p in policies.values())
    assert all(p.sla for p in policies.values())
    hub = load_hub_policy(REPO / "governance")
    assert hub.limits.max_lines == 5000
    assert not hub.outbound.decide("127.0.0.1").allowed


@pytest.mark.parametrize("name", sorted(POLICY_MODELS))
def test_the_published_json_schemas_are_the_models(name: str) -> None:
    assert published_json_schema(name) == policy_json_schema(name), (
        f"regenerate: crossdock governance schema {name} > hub/governance/{name}.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(published_json_schema(name))


def test_every_shipped_policy_file_validates_against_its_published_json_schema() -> None:
    files = {
        "contract-policy": sorted((REPO / "governance" / "contracts").glob("*.yaml")),
        "hub-policy": [REPO / "governance" / "hub.yaml"],
        "delivery-policy": [REPO / "governance" / "delivery.yaml"],
    }
    for name, paths in files.items():
        validator = jsonschema.Draft202012Validator(
            published_json_schema(name), format_checker=jsonschema.FormatChecker()
        )
        for path in paths:
            assert list(validator.iter_errors(read_policy_yaml(path))) == [], path
    # The JSON Schema refuses what the models refuse: a sunset that is no date, a bad mode.
    validator = jsonschema.Draft202012Validator(
        published_json_schema("contract-policy"), format_checker=jsonschema.FormatChecker()
    )
    broken = read_policy_yaml(REPO / "governance" / "contracts" / "receipt.yaml")
    broken["compatibility"] = "SIDEWAYS"
    broken["versions"]["1.0"]["sunset"] = "2026-02-30"
    assert {e.json_path for e in validator.iter_errors(broken)} == {
        "$.compatibility",
        "$.versions['1.0'].sunset",
    }


def _policy(tmp_path: Path, text: str, name: str = "widget") -> list[tuple[str, str]]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return load_contract_policy(path)[1]


OWNER = "owner: {team: t, contact: t@example.com}\n"


def test_the_compatibility_mode_defaults_to_backward_transitive(tmp_path: Path) -> None:
    path = tmp_path / "widget.yaml"
    path.write_text(f"family: widget\n{OWNER}versions: {{'1.0': {{status: active}}}}\n")
    policy, found = load_contract_policy(path)
    assert found == []
    assert policy is not None and policy.compatibility is CompatibilityMode.BACKWARD_TRANSITIVE


@pytest.mark.parametrize(
    ("versions", "pointer", "words"),
    [
        (
            "{'1.0': {status: deprecated}, '1.1': {status: active}}",
            "/versions/1.0/sunset",
            "sunset",
        ),
        ("{'1.0': {status: active, sunset: 2027-01-31}}", "/versions/1.0/sunset", "belongs"),
        (
            "{'1.0': {status: active}, '1.1': {status: deprecated, sunset: 2027-01-31}}",
            "/versions/1.1/status",
            "no newer active",
        ),
        ("{'1.0': {status: retired}, '1.1': {status: draft}}", "/versions", "no version is active"),
        ("{1.0: {status: active}}", "/versions", 'write "1.0"'),
        ("{'v1': {status: active}}", "/versions/v1/[key]", "pattern"),
        ("{'1.0': {status: current}}", "/versions/1.0/status", "draft"),
    ],
)
def test_lifecycle_rules(tmp_path: Path, versions: str, pointer: str, words: str) -> None:
    found = _policy(tmp_path, f"family: widget\n{OWNER}versions: {versions}\n")
    assert [p for p, _ in found] == [pointer], found
    assert words in found[0][1]


def test_a_family_in_draft_or_wholly_retired_needs_no_active_version(tmp_path: Path) -> None:
    for versions in ("{'1.0': {status: draft}}", "{'1.0': {status: retired, sunset: 2025-01-01}}"):
        assert _policy(tmp_path, f"family: widget\n{OWNER}versions: {versions}\n") == []


def test_sla_objectives_run_forward_in_time_and_have_unique_names(tmp_path: Path) -> None:
    text = (
        f"family: widget\n{OWNER}versions: {{'1.0': {{status: active}}}}\nsla:\n"
        "  - {name: fast, from: accepted, to: delivered, percentile: 99, threshold_ms: 500}\n"
        "  - {name: fast, from: delivered, to: accepted, percentile: 99.9, threshold_ms: 500}\n"
        "  - {name: odd, from: accepted, to: delivered, percentile: 100, threshold_ms: 0}\n"
    )
    found = _policy(tmp_path, text)
    assert [p for p, _ in found] == ["/sla/2/percentile", "/sla/2/threshold_ms"]
    found = _policy(tmp_path, text.replace("percentile: 100, threshold_ms: 0", "percentile: 50"))
    assert [p for p, _ in found] == ["/sla/2/threshold_ms"]
    found = _policy(tmp_path, text.rsplit("  - {name: odd", 1)[0])
    assert [p for p, _ in found] == ["/sla/1/name", "/sla/1/to"]
    assert "twice" in found[0][1] and "event_time → accepted" in found[1][1]


def test_yaml_pitfalls_are_errors_not_surprises(tmp_path: Path) -> None:
    twice = _policy(tmp_path, f"family: widget\n{OWNER}family: gadget\nversions: {{}}\n")
    assert len(twice) == 1 and "'family' is given twice (line 3)" in twice[0][1]
    path = tmp_path / "dates.yaml"
    path.write_text("sunset: 2027-01-31\n")
    assert read_policy_yaml(path) == {"sunset": "2027-01-31"}
    unknown = _policy(
        tmp_path, f"family: widget\n{OWNER}versions: {{'1.0': {{status: active}}}}\nowners: []\n"
    )
    assert unknown == [("/owners", "Extra inputs are not permitted")]


def test_the_registry_loader_still_refuses_a_broken_policy(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "widget.yaml").write_text(
        f"family: widget\n{OWNER}versions: {{'1.0': {{status: deprecated}}}}\n"
    )
    with pytest.raises(PolicyError, match=r"/versions/1.0/sunset: deprecated version 1.0 needs"):
        load_contract_policies(tmp_path)


def test_a_deprecated_version_past_its_sunset_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "widget.yaml"
    path.write_text(
        f"family: widget\n{OWNER}versions: {{'1.0': {{status: deprecated, sunset: 2026-05-31}}, "
        "'1.1': {status: active}}\n"
    )
    policy, found = load_contract_policy(path)
    assert found == [] and policy is not None
    assert policy.warnings(TODAY) == [
        ("/versions/1.0/sunset", "deprecated version 1.0 passed its sunset (2026-05-31): retire it")
    ]
    assert policy.warnings(date(2026, 5, 31)) == []


def test_a_deprecation_date_belongs_to_a_deprecated_version_before_its_sunset(
    tmp_path: Path,
) -> None:
    good = "{status: deprecated, deprecated: 2026-10-01, sunset: 2027-01-31}"
    late = "{status: deprecated, deprecated: 2027-02-01, sunset: 2027-01-31}"
    active = "{status: active, deprecated: 2026-10-01}"
    text = f"family: widget\n{OWNER}versions: {{'1.0': VERSION, '1.1': {{status: active}}}}\n"
    assert _policy(tmp_path, text.replace("VERSION", good)) == []
    assert _policy(tmp_path, text.replace("VERSION", late)) == [
        ("/versions/1.0/deprecated", "deprecated on 2027-02-01, after its sunset 2027-01-31")
    ]
    assert _policy(tmp_path, text.replace("VERSION", active)) == [
        (
            "/versions/1.0/deprecated",
            "a deprecation date belongs to a deprecated version, not active",
        )
    ]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.31.0.1", False),
        ("192.168.1.1", False),
        ("fd12::1", False),
        ("169.254.10.10", False),
        ("fe80::1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("8.8.8.8", True),
        ("2a00:1450::1", True),
        ("10.8.0.5", True),
        ("169.254.169.254", False),
    ],
)
def test_the_outbound_address_policy_decides(address: str, allowed: bool) -> None:
    policy = load_hub_policy(REPO / "governance").outbound.model_copy(
        update={"allowed_networks": [ip_network("10.8.0.0/16")]}
    )
    decision = policy.decide(address)
    assert decision.allowed is allowed, decision.reason
    assert decision.reason


def test_contradictory_outbound_entries_are_found(tree: Path) -> None:
    hub = tree / "governance" / "hub.yaml"
    hub.write_text(
        hub.read_text().replace(
            "allowed_networks: []",
            "allowed_networks: [169.254.169.254/32, 203.0.113.0/24, 10.8.0.0/16]",
        )
    )
    assert _findings(tree) == [
        (
            "governance/hub.yaml",
            "/outbound/allowed_networks/0",
            "169.254.169.254/32 lies inside refused network 169.254.169.254/32, which wins: "
            "the entry has no effect",
            Severity.ERROR,
        ),
        (
            "governance/hub.yaml",
            "/outbound/allowed_networks/1",
            "203.0.113.0/24 overlaps no refused category: it is allowed anyway",
            Severity.WARNING,
        ),
    ]
    hub.write_text(hub.read_text().replace("10.8.0.0/16", "10.8.0.1/16"))
    assert [f[1] for f in _findings(tree)] == ["/outbound/allowed_networks/2"]


def test_policies_and_contract_files_must_name_the_same_families_and_versions(
    tree: Path,
) -> None:
    governance, contracts = tree / "governance", tree / "contracts"
    (governance / "contracts" / "transfer.yaml").unlink()
    (contracts / "backorder" / "1.0.schema.json").rename(
        contracts / "backorder" / "1.1.schema.json"
    )
    shutil.copytree(contracts / "receipt", contracts / "widget")
    (governance / "contracts" / "widget.yaml").write_text(
        f"family: widget\n{OWNER}versions: {{'1.0': {{status: active}}}}\n"
    )
    shutil.rmtree(contracts / "widget")
    (governance / "notes.txt").write_text("remember the milk")
    receipt = governance / "contracts" / "receipt.yaml"
    receipt.write_text(
        receipt.read_text() + "limits:\n  max_message_bytes: 2097152\n  max_lines: 6000\n"
    )
    assert _findings(tree) == [
        (
            "governance/notes.txt",
            "",
            "not a policy file this hub knows (contracts/<family>.yaml, hub.yaml, delivery.yaml)",
            Severity.ERROR,
        ),
        (
            "governance/contracts/receipt.yaml",
            "/limits/max_message_bytes",
            "2097152 is above the hub-wide max_message_bytes of 1048576 (hub.yaml), which wins",
            Severity.ERROR,
        ),
        (
            "governance/contracts/receipt.yaml",
            "/limits/max_lines",
            "6000 is above the hub-wide max_lines of 5000 (hub.yaml), which wins",
            Severity.ERROR,
        ),
        (
            "governance/contracts/backorder.yaml",
            "/versions",
            f"version 1.1 ({contracts / 'backorder' / '1.1.schema.json'}) has no lifecycle here",
            Severity.ERROR,
        ),
        (
            "governance/contracts/backorder.yaml",
            "/versions/1.0",
            f"no contract file {contracts / 'backorder' / '1.0.schema.json'}",
            Severity.ERROR,
        ),
        (
            "governance/contracts/receipt.yaml",
            "/limits/max_lines",
            "max_lines 6000 is above what 1.0 allows (5000 lines): the schema refuses more first",
            Severity.WARNING,
        ),
        (
            "governance/contracts/transfer.yaml",
            "",
            f"missing: contract family 'transfer' ({contracts / 'transfer'}) has no policy",
            Severity.ERROR,
        ),
        (
            "governance/contracts/widget.yaml",
            "/family",
            f"no contract folder {contracts / 'widget'}",
            Severity.ERROR,
        ),
    ]


def test_missing_and_broken_hub_wide_files_are_reported_with_pointers(tree: Path) -> None:
    governance = tree / "governance"
    (governance / "hub.yaml").unlink()
    delivery = governance / "delivery.yaml"
    delivery.write_text(delivery.read_text().replace("max_attempts: 10", "max_attempts: 0"))
    (governance / "contracts" / "po_release.yaml").write_text("family: [unclosed\n")
    found = _findings(tree)
    assert [(f[0], f[1]) for f in found] == [
        ("governance/contracts/po_release.yaml", ""),
        ("governance/hub.yaml", ""),
        ("governance/delivery.yaml", "/retry_defaults/max_attempts"),
    ]
    assert found[0][2].startswith("cannot be read:")
    assert found[1][2] == "missing"
    assert "greater than or equal to 1" in found[2][2]
    report = check_governance(tree / "nowhere", None, TODAY)
    assert not report.ok and report.findings[0].message == "the governance folder does not exist"


def test_load_contract_policy_reports_a_file_name_mismatch_first(tmp_path: Path) -> None:
    found = _policy(tmp_path, f"family: gadget\n{OWNER}versions: {{'1.0': {{status: active}}}}\n")
    assert found == [("/family", "family 'gadget' does not match the file name")]
