"""Version pins and the converter on the shipped contracts and mappings (and on copies of
them with one more version), the reservation 2.0 rules, the gate's verdict on 2.0, and the
migration that adds the pins."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.governance.gate import check_registry
from hub.mappings import MappingRegistry
from hub.routes.versions import ConversionError, VersionConverter, parse_pin, receives
from hub.store.migrate import upgrade
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
MAPPINGS = MappingRegistry.load(REPO / "mappings")
CHECKER = MessageChecker(REGISTRY)
CONVERTER = VersionConverter(REGISTRY, MAPPINGS, CHECKER)


def examples(version: str, valid: bool = True) -> list[dict[str, Any]]:
    contract = REGISTRY.get("reservation", version)
    assert contract is not None
    return [copy.deepcopy(e.event) for e in contract.examples if e.valid is valid]


def test_pins_name_a_major_or_an_exact_version() -> None:
    major, exact = parse_pin("1"), parse_pin("1.0")
    assert (major.major, major.minor, str(major)) == (1, None, "1.x")
    assert (exact.major, exact.minor, str(exact)) == (1, 0, "1.0")
    assert major.admits("1.0") and major.admits("1.7") and not major.admits("2.0")
    assert exact.admits("1.0") and not exact.admits("1.1") and not exact.admits("10.0")
    assert parse_pin("10").admits("10.2") and not parse_pin("1").admits("10.0")
    for bad in ("", "v1", "1.", "1.0.0", "1.x", " 1"):
        with pytest.raises(ValueError, match="not a version pin"):
            parse_pin(bad)


def test_which_families_a_route_receives() -> None:
    assert receives(["*"], "reservation")
    assert receives(["transfer.*", "reservation.released"], "reservation")
    assert not receives(["transfer.*", "reservation_x.created"], "reservation")


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_every_valid_example_goes_there_and_back_unchanged(version: str) -> None:
    other = "2" if version == "1.0" else "1"
    for event in examples(version):
        there = CONVERTER.convert(event, {"reservation": other})
        assert there["dataschema"] != event["dataschema"]
        assert CHECKER.check(there).ok
        back = CONVERTER.convert(there, {"reservation": version.split(".")[0]})
        assert back == event


def test_what_a_pin_admits_is_not_touched() -> None:
    event = examples("2.0")[0]
    assert CONVERTER.convert(event, {"reservation": "2"}) is event
    assert CONVERTER.convert(event, {"reservation": "2.0"}) is event
    assert CONVERTER.convert(event, {"transfer": "1"}) is event


def test_conversion_keeps_the_producers_envelope_and_names_the_pinned_version() -> None:
    event = examples("2.0")[1]
    event["tenant"] = "eu-west"
    event["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    converted = CONVERTER.convert(event, {"reservation": "1"})
    assert converted["dataschema"] == "urn:crossdock:contract:reservation:1.0"
    for attribute in ("id", "source", "type", "subject", "time", "tenant", "traceparent"):
        assert converted[attribute] == event[attribute]
    assert "requested" not in json.dumps(converted["data"]).replace("requested_qty", "")


def test_a_message_the_mapping_cannot_convert_is_a_conversion_error() -> None:
    event = examples("2.0")[0]
    del event["data"]["lines"][0]["requested"]
    with pytest.raises(ConversionError, match=r"mapping 'reservation-2\.0-to-1\.0' failed"):
        CONVERTER.convert(event, {"reservation": "1"})


def test_a_conversion_that_makes_an_invalid_message_is_a_conversion_error() -> None:
    event = examples("2.0")[0]
    event["data"]["lines"][0]["requested"]["uom"] = "PARSEC"  # 1.0 has no such unit either
    with pytest.raises(ConversionError, match=r"gave an invalid .*reservation:1\.0.*/uom"):
        CONVERTER.convert(event, {"reservation": "1"})


def test_the_shipped_pins_are_reachable_both_ways() -> None:
    for pin in ("1", "1.0", "2", "2.0"):
        assert CONVERTER.unreachable("reservation", parse_pin(pin)) == []


def _tree_with_reservation_1_1(tmp_path: Path) -> tuple[ContractRegistry, MappingRegistry]:
    """The shipped contracts plus an active reservation 1.1 (1.0 with another $id), and only
    the shipped version mappings, which know nothing of 1.1."""
    contracts = tmp_path / "contracts" / "reservation"
    contracts.mkdir(parents=True)
    for name in ("1.0.schema.json", "2.0.schema.json"):
        (contracts / name).write_bytes((REPO / "contracts/reservation" / name).read_bytes())
    schema = json.loads((contracts / "1.0.schema.json").read_text())
    schema["$id"] = "urn:crossdock:contract:reservation:1.1"
    schema["x-crossdock"]["version"] = "1.1"
    (contracts / "1.1.schema.json").write_text(json.dumps(schema))
    governance = tmp_path / "governance" / "contracts"
    governance.mkdir(parents=True)
    policy = (REPO / "governance/contracts/reservation.yaml").read_text()
    policy = policy.replace('"2.0":\n', '"1.1":\n    status: active\n  "2.0":\n')
    (governance / "reservation.yaml").write_text(policy)
    mappings = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings" / "versions", mappings / "versions")
    registry = ContractRegistry.load(tmp_path / "contracts", tmp_path / "governance")
    assert registry.get("reservation", "1.1") is not None
    return registry, MappingRegistry.load(mappings)


def test_a_major_pin_converts_to_the_newest_version_of_it_there_is_a_way_to(
    tmp_path: Path,
) -> None:
    registry, mappings = _tree_with_reservation_1_1(tmp_path)
    converter = VersionConverter(registry, mappings, MessageChecker(registry))
    found = converter.chain("reservation", "2.0", parse_pin("1"))
    assert found is not None
    target, chain = found
    assert target.version == "1.0"  # no mapping reaches 1.1; 1.0 is the newest 1.x that can
    assert [m.name for m in chain] == ["reservation-2.0-to-1.0"]
    assert converter.unreachable("reservation", parse_pin("1")) == []
    # 1.1 messages are 1.x: a route pinned to 1.x gets them as sent.
    event = examples("1.0")[0]
    event["dataschema"] = "urn:crossdock:contract:reservation:1.1"
    assert converter.convert(event, {"reservation": "1"}) is event

    exact = converter.unreachable("reservation", parse_pin("1.1"))
    assert [(u.version, "from 1.0 to 1.1" in u.message) for u in exact] == [
        ("1.0", True),
        ("2.0", False),
    ]
    assert 'target {contract: reservation, version: "1.1"}' in exact[1].message
    up = converter.unreachable("reservation", parse_pin("2"))
    assert [u.version for u in up] == ["1.1"]


def test_reservation_2_0_rules_compare_measures_in_one_unit() -> None:
    contract = REGISTRY.get("reservation", "2.0")
    assert contract is not None

    def findings(requested: dict[str, Any], reserved: dict[str, Any]) -> list[tuple[str, str]]:
        line = {"line_no": 1, "requested": requested, "reserved": reserved}
        return [
            (p, r)
            for p, r, _ in contract.rules.findings("reservation.confirmed", {"lines": [line]})
        ]

    assert findings({"value": 0.3, "uom": "KG"}, {"value": 0.3, "uom": "KG"}) == []
    assert findings({"value": 0.3, "uom": "KG"}, {"value": 0.30000000000000004, "uom": "KG"}) == [
        ("/data/lines/0/reserved/value", "reserved-within-requested")
    ]
    assert findings({"value": 2, "uom": "CS"}, {"value": 1, "uom": "EA"}) == [
        ("/data/lines/0/reserved/uom", "reserved-in-requested-uom")
    ]
    # 1.0's rule still reads 1.0's fields.
    v1 = REGISTRY.get("reservation", "1.0")
    assert v1 is not None
    line = {"line_no": 1, "requested_qty": 1, "reserved_qty": 2, "uom": "EA"}
    assert [f[1] for f in v1.rules.findings("reservation.confirmed", {"lines": [line]})] == [
        "reserved-within-requested"
    ]


def test_the_gate_takes_reservation_2_0_as_a_new_major_not_held_to_backward() -> None:
    verdicts = {v.version: v for v in check_registry(REGISTRY, ["reservation"])}
    v2 = verdicts["2.0"]
    assert v2.new_major and v2.compatible
    [comparison] = v2.comparisons
    assert comparison.against == "1.0" and not comparison.same_major
    # It does break 1.0 (which is why it is 2.0): the changes are listed for review.
    assert any(c.pointer == "/$defs/line/properties/requested_qty" for c in comparison.changes)
    assert v2.judged(v2.mode) == ()


def test_the_migration_adds_and_removes_the_pins_column(tmp_path: Path) -> None:
    from alembic import command

    from hub.store.migrate import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine, "0005")
    assert "contract_versions" in {c["name"] for c in inspect(engine).get_columns("routes")}
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert "contract_versions" not in {c["name"] for c in inspect(engine).get_columns("routes")}
    engine.dispose()
