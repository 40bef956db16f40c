"""The contract files: loadable, meta-valid, governed, and shipped with enough examples."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from hub.contracts.registry import ContractLoadError, ContractRegistry, parse_dataschema
from hub.governance.policies import Lifecycle, PolicyError, load_contract_policies
from tests.conftest import REPO

FAMILIES = {"reservation", "transfer", "po_release", "receipt", "backorder"}


@pytest.fixture(scope="module")
def registry() -> ContractRegistry:
    return ContractRegistry.load(REPO / "contracts", REPO / "governance")


def test_all_five_families_load_with_an_active_v1(registry: ContractRegistry) -> None:
    assert set(registry.families) == FAMILIES
    for family in FAMILIES:
        version = registry.get(family, "1.0")
        assert version is not None
        assert version.lifecycle is Lifecycle.ACTIVE
        assert version.dataschema == f"urn:crossdock:contract:{family}:1.0"


def test_every_version_ships_three_valid_and_three_invalid_examples(
    registry: ContractRegistry,
) -> None:
    for version in registry.all_versions():
        valid = [e for e in version.examples if e.valid]
        invalid = [e for e in version.examples if not e.valid]
        assert len(valid) >= 3, version.dataschema
        assert len(invalid) >= 3, version.dataschema
        assert all(not e.violations for e in valid)
        assert all(e.violations and all(p.startswith("/") for p in e.violations) for e in invalid)


def test_every_example_file_has_the_documented_shape() -> None:
    for path in (REPO / "contracts").glob("*/examples/*/*/*.json"):
        doc = orjson.loads(path.read_bytes())
        assert set(doc) <= {"description", "event", "violations"}, path
        assert isinstance(doc["description"], str) and doc["description"], path
        assert ("violations" in doc) == (path.parent.name == "invalid"), path


def test_events_cover_the_design(registry: ContractRegistry) -> None:
    assert registry.families["reservation"].events == (
        "requested",
        "confirmed",
        "released",
        "cancelled",
        "expired",
    )
    assert set(registry.families["receipt"].events) == {"advised", "received"}


def test_parse_dataschema() -> None:
    assert parse_dataschema("urn:crossdock:contract:po_release:1.0") == ("po_release", "1.0")
    assert parse_dataschema("urn:crossdock:contract:po_release") is None
    assert parse_dataschema("https://example.com/schema.json") is None


def _contract_tree(
    tmp_path: Path, schema: dict[str, object], name: str = "1.0.schema.json"
) -> Path:
    folder = tmp_path / "contracts" / "widget"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(orjson.dumps(schema))
    return tmp_path


def _widget_schema(**overrides: object) -> dict[str, object]:
    schema: dict[str, object] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:crossdock:contract:widget:1.0",
        "type": "object",
        "x-crossdock": {"family": "widget", "version": "1.0", "events": ["made"]},
    }
    schema.update(overrides)
    return schema


def test_a_schema_that_is_not_json_schema_is_refused(tmp_path: Path) -> None:
    root = _contract_tree(tmp_path, _widget_schema(type="thing"))
    with pytest.raises(ContractLoadError, match="not a valid JSON Schema"):
        ContractRegistry.load(root / "contracts", root / "governance")


def test_an_id_that_disagrees_with_the_path_is_refused(tmp_path: Path) -> None:
    root = _contract_tree(tmp_path, _widget_schema(**{"$id": "urn:crossdock:contract:widget:2.0"}))
    with pytest.raises(ContractLoadError, match=r"\$id must be"):
        ContractRegistry.load(root / "contracts", root / "governance")


def test_a_version_without_policy_is_a_draft(tmp_path: Path) -> None:
    root = _contract_tree(tmp_path, _widget_schema())
    registry = ContractRegistry.load(root / "contracts", root / "governance")
    widget = registry.get("widget", "1.0")
    assert widget is not None
    assert widget.lifecycle is Lifecycle.DRAFT
    assert not widget.accepts_messages


def test_governance_files_follow_their_schema() -> None:
    policies = load_contract_policies(REPO / "governance")
    assert set(policies) == FAMILIES


def test_a_deprecated_version_needs_a_sunset(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "widget.yaml").write_text(
        "family: widget\nowner: {team: t, contact: t@x.io}\n"
        "versions:\n  '1.0': {status: deprecated}\n"
    )
    with pytest.raises(PolicyError, match="sunset"):
        load_contract_policies(tmp_path)
