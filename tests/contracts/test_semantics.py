"""The code rules, one by one, and the field plan they are compiled into."""

from __future__ import annotations

from typing import Any

import pytest

from hub.contracts.registry import ContractRegistry
from hub.contracts.semantics import EACH, ContractRules, FieldPlan, gs1_check_digit_ok
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")


def test_the_plan_finds_gs1_numbers_and_dates_from_the_schema() -> None:
    schema = {
        "type": "object",
        "$defs": {"item": {"type": "object", "properties": {"gtin": {"type": "string"}}}},
        "properties": {
            "ship_date": {"type": "string", "format": "date"},
            "site": {"properties": {"gln": {"type": "string"}}},
            "lines": {"type": "array", "items": {"properties": {"item": {"$ref": "#/$defs/item"}}}},
        },
    }
    plan = FieldPlan.from_schema(schema)
    assert dict(plan.gs1) == {("site", "gln"): "gln", ("lines", EACH, "item", "gtin"): "gtin"}
    assert plan.dates == (("ship_date",),)


def test_every_shipped_contract_checks_its_gtins() -> None:
    for version in REGISTRY.all_versions():
        assert any(kind == "gtin" for _, kind in version.rules.plan.gs1), version.dataschema


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("96385074", True),
        ("036000291452", True),
        ("4006381333931", True),
        ("10614141000415", True),
        ("4006381333932", False),
        ("036000291453", False),
    ],
)
def test_gs1_check_digits(number: str, ok: bool) -> None:
    assert gs1_check_digit_ok(number) is ok


RULES = ContractRules(
    "reservation",
    {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "item": {"type": "object", "properties": {"gtin": {"type": "string"}}},
                        "promised_date": {"type": "string", "format": "date"},
                    },
                },
            },
        },
    },
)


def _line(n: int, **fields: Any) -> dict[str, Any]:
    return {"line_no": n, "item": {"gtin": "4006381333931"}, "requested_qty": 5, **fields}


def test_a_clean_document_has_no_findings() -> None:
    data = {"lines": [_line(1, reserved_qty=5, promised_date="2026-02-28"), _line(2)]}
    assert RULES.findings("reservation.confirmed", data) == []


def test_findings_point_at_the_offending_values() -> None:
    data = {
        "lines": [
            _line(1, reserved_qty=5.5),
            _line(1, promised_date="2026-02-30", item={"gtin": "4006381333932"}),
        ]
    }
    findings = {
        (pointer, rule) for pointer, rule, _ in RULES.findings("reservation.confirmed", data)
    }
    assert findings == {
        ("/data/lines/0/reserved_qty", "reserved-within-requested"),
        ("/data/lines/1/line_no", "unique-line-no"),
        ("/data/lines/1/promised_date", "real-date"),
        ("/data/lines/1/item/gtin", "gtin-check-digit"),
    }


def test_receipt_quantities_compare_as_decimals() -> None:
    rules = ContractRules("receipt", {"type": "object"})
    fine = {
        "lines": [{"line_no": 1, "received_qty": 0.3, "accepted_qty": 0.1, "rejected_qty": 0.2}]
    }
    assert rules.findings("receipt.received", fine) == []  # 0.1 + 0.2 != 0.3 in floats
    off = {"lines": [{"line_no": 1, "received_qty": 10, "accepted_qty": 7, "rejected_qty": 2}]}
    assert [f[0] for f in rules.findings("receipt.received", off)] == ["/data/lines/0/accepted_qty"]


def test_the_compiled_plan_agrees_with_the_walk_on_every_example() -> None:
    """The generated "any failure?" function and the recursive walk see the same failures."""
    checked = failing = 0
    for family, version in ((v.family, v.version) for v in REGISTRY.all_versions()):
        contract = REGISTRY.get(family, version)
        assert contract is not None
        rules = ContractRules(family, contract.schema)
        for example in contract.examples:
            data = example.event.get("data")
            walked: list[Any] = []
            rules._walk.run(data, [], walked)
            assert rules._failing(data) is bool(walked), example.name
            checked += 1
            failing += bool(walked)
    assert checked >= 60
    assert failing >= 5  # the invalid examples with wrong check digits and impossible dates
