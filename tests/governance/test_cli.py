"""``crossdock governance check|schema`` and ``crossdock contracts check``, in process and, for
the two checks ``make test`` relies on, as the installed command."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.governance.validation import policy_json_schema
from hub.settings import get_settings
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def _repo_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_CONTRACTS_PATH", str(REPO / "contracts"))
    monkeypatch.setenv("CROSSDOCK_GOVERNANCE_PATH", str(REPO / "governance"))
    get_settings.cache_clear()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "governance", tmp_path / "governance")
    shutil.copytree(REPO / "contracts", tmp_path / "contracts")
    return tmp_path


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("crossdock")), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_shipped_contracts_and_policies_pass_as_make_test_runs_them() -> None:
    contracts = _command("contracts", "check")
    assert contracts.returncode == 0, contracts.stdout + contracts.stderr
    for family in ("backorder", "po_release", "receipt", "reservation", "transfer"):
        assert f"ok    {family} 1.0" in contracts.stdout
    governance = _command("governance", "check")
    assert governance.returncode == 0, governance.stdout + governance.stderr
    assert " files, 0 errors, " in governance.stdout.splitlines()[-1]


def test_governance_check_lists_every_problem_with_file_and_pointer(tree: Path) -> None:
    policy = tree / "governance" / "contracts" / "reservation.yaml"
    policy.write_text(
        policy.read_text()
        .replace("compatibility: BACKWARD_TRANSITIVE", "compatibility: SIDEWAYS")
        .replace("threshold_ms: 2000", "threshold_ms: -1")
    )
    (tree / "governance" / "stray.yaml").write_text("a: 1\n")
    result = runner.invoke(
        app,
        [
            "governance",
            "check",
            "--path",
            str(tree / "governance"),
            "--contracts",
            str(tree / "contracts"),
        ],
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"error    {policy}  /compatibility: Input should be 'BACKWARD'" in "\n".join(lines)
    assert any(f"{policy}  /sla/0/threshold_ms:" in line for line in lines)
    assert any(
        f"{tree / 'governance' / 'stray.yaml'}  /: not a policy file" in line for line in lines
    )
    assert f"ok       {tree / 'governance' / 'hub.yaml'}" in lines
    assert lines[-1] == "7 files, 3 errors, 0 warnings"


def test_governance_schema_prints_each_policy_schema() -> None:
    for name in ("contract-policy", "hub-policy", "delivery-policy"):
        result = runner.invoke(app, ["governance", "schema", name])
        assert result.exit_code == 0
        assert json.loads(result.output) == policy_json_schema(name)
    unknown = runner.invoke(app, ["governance", "schema", "everything"])
    assert unknown.exit_code == 1
    assert "no policy schema 'everything'" in unknown.output


def _backorder(tree: Path) -> dict[str, Any]:
    schema: dict[str, Any] = orjson.loads(
        (tree / "contracts" / "backorder" / "1.0.schema.json").read_bytes()
    )
    return schema


def _publish(tree: Path, version: str, schema: dict[str, Any], status: str = "draft") -> None:
    schema = copy.deepcopy(schema)
    schema["$id"] = f"urn:crossdock:contract:backorder:{version}"
    schema["x-crossdock"]["version"] = version
    (tree / "contracts" / "backorder" / f"{version}.schema.json").write_bytes(
        orjson.dumps(schema, option=orjson.OPT_INDENT_2)
    )
    policy = tree / "governance" / "contracts" / "backorder.yaml"
    policy.write_text(
        policy.read_text().replace(
            "versions:\n", f'versions:\n  "{version}":\n    status: {status}\n'
        )
    )


def _check(tree: Path, *args: str) -> Any:
    return runner.invoke(
        app,
        [
            "contracts",
            "check",
            "--contracts",
            str(tree / "contracts"),
            "--governance",
            str(tree / "governance"),
            *args,
        ],
    )


def test_a_breaking_minor_version_fails_with_every_change_explained(tree: Path) -> None:
    breaking = _backorder(tree)
    breaking["$defs"]["uom"]["enum"].remove("PL")
    breaking["required"].append("promised_date")
    breaking["properties"]["reason_code"]["enum"].append("ZZ")
    _publish(tree, "1.1", breaking)
    result = _check(tree)
    assert result.exit_code == 1, result.output
    assert (
        "FAIL  backorder 1.1  (BACKWARD_TRANSITIVE)  1.1 is not BACKWARD_TRANSITIVE-compatible"
        in (result.output)
    )
    assert "✗ vs 1.0  /$defs/uom/enum  enum-value-removed  breaks producers" in result.output
    assert "at /uom, /lines/*/uom" in result.output
    assert "✗ vs 1.0  /required  required-added  breaks producers" in result.output
    assert "· vs 1.0  /properties/reason_code/enum  enum-value-added  breaks consumers" in (
        result.output
    )
    assert "ok    receipt 1.0" in result.output
    only = _check(tree, "receipt")
    assert only.exit_code == 0 and "backorder" not in only.output

    as_json = _check(tree, "backorder", "--json")
    assert as_json.exit_code == 1
    verdicts = json.loads(as_json.output)
    assert [(v["version"], v["compatible"]) for v in verdicts] == [("1.0", True), ("1.1", False)]
    forbidden = {
        (c["pointer"], c["kind"])
        for c in verdicts[1]["comparisons"][0]["changes"]
        if c["forbidden"]
    }
    assert forbidden == {("/$defs/uom/enum", "enum-value-removed"), ("/required", "required-added")}


def test_a_compatible_minor_and_a_breaking_major_pass(tree: Path) -> None:
    compatible = _backorder(tree)
    compatible["properties"]["reason_code"]["enum"].append("ZZ")
    _publish(tree, "1.1", compatible)
    breaking = copy.deepcopy(compatible)
    del breaking["properties"]["supply_ref"]
    _publish(tree, "2.0", breaking)
    result = _check(tree, "backorder")
    assert result.exit_code == 0, result.output
    assert "ok    backorder 1.1" in result.output
    assert "ok    backorder 2.0  (BACKWARD_TRANSITIVE)  2.0 is a new major version" in result.output
    assert "· vs 1.1  /properties/supply_ref  closed-model-property-removed" in result.output


def test_the_family_mode_decides_and_retired_versions_are_not_checked(tree: Path) -> None:
    compatible = _backorder(tree)
    compatible["properties"]["reason_code"]["enum"].append("ZZ")
    _publish(tree, "1.1", compatible, status="active")
    policy = tree / "governance" / "contracts" / "backorder.yaml"
    policy.write_text(policy.read_text().replace("BACKWARD_TRANSITIVE", "FULL"))
    assert _check(tree, "backorder").exit_code == 1
    policy.write_text(
        policy.read_text().replace('"1.0":\n    status: active', '"1.0":\n    status: retired')
    )
    result = _check(tree, "backorder")
    assert result.exit_code == 0, result.output
    assert "1.1 is the first backorder version in use" in result.output


def test_a_candidate_file_is_checked_against_its_family(tree: Path, tmp_path: Path) -> None:
    candidate = _backorder(tree)
    candidate["x-crossdock"]["version"] = "1.1"
    candidate["$id"] = "urn:crossdock:contract:backorder:1.1"
    path = tmp_path / "candidate.json"
    path.write_bytes(orjson.dumps(candidate))
    ok = _check(tree, "--candidate", str(path))
    assert ok.exit_code == 0, ok.output
    assert "ok    backorder 1.1" in ok.output
    candidate["properties"]["status"]["enum"].remove("cancelled")
    path.write_bytes(orjson.dumps(candidate))
    bad = _check(tree, "--candidate", str(path))
    assert bad.exit_code == 1
    assert "/properties/status/enum  enum-value-removed  breaks producers" in bad.output
    candidate["properties"]["status"]["type"] = "text"
    path.write_bytes(orjson.dumps(candidate))
    invalid = _check(tree, "--candidate", str(path))
    assert invalid.exit_code == 1
    assert "/schema/properties/status/type  [meta-schema:anyOf]" in invalid.output
    candidate["properties"]["status"]["type"] = "string"
    path.write_bytes(orjson.dumps(candidate))
    wrong = _check(tree, "receipt", "--candidate", str(path))
    assert wrong.exit_code == 1 and "/schema/x-crossdock/family" in wrong.output


def test_unknown_families_and_broken_contract_folders_fail_clearly(tree: Path) -> None:
    unknown = _check(tree, "widgets")
    assert unknown.exit_code == 1 and "no contract family widgets" in unknown.output
    (tree / "contracts" / "backorder" / "1.1.schema.json").write_text("{nope")
    broken = _check(tree)
    assert broken.exit_code == 1 and "1.1.schema.json" in broken.output
