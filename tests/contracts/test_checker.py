"""The Check step on the shipped examples and on hand-made edge cases (no HTTP)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry, Example
from tests.conftest import REPO

REGISTRY = ContractRegistry.load(REPO / "contracts", REPO / "governance")
CHECKER = MessageChecker(REGISTRY)
EXAMPLES = [(v.dataschema, e) for v in REGISTRY.all_versions() for e in v.examples]


@pytest.mark.parametrize(("dataschema", "example"), EXAMPLES, ids=lambda x: getattr(x, "name", x))
def test_examples_are_judged_as_labelled(dataschema: str, example: Example) -> None:
    result = CHECKER.check(example.event)
    pointers = {v.pointer for v in result.violations}
    if example.valid:
        assert result.ok, result.violations
        assert result.contract is not None and result.contract.dataschema == dataschema
    else:
        assert not result.ok
        assert set(example.violations) <= pointers, (example.violations, result.violations)


def _valid(family: str) -> dict[str, Any]:
    version = REGISTRY.get(family, "1.0")
    assert version is not None
    return copy.deepcopy(next(e.event for e in version.examples if e.valid))


def test_a_non_object_is_one_violation_at_the_root() -> None:
    result = CHECKER.check([1, 2])
    assert [(v.pointer, v.rule) for v in result.violations] == [("", "envelope")]


def test_every_violation_is_reported_not_just_the_first() -> None:
    event = _valid("reservation")
    del event["data"]["lines"][0]["uom"]
    event["data"]["lines"][0]["requested_qty"] = -1
    event["data"]["priority"] = "whenever"
    pointers = {v.pointer for v in CHECKER.check(event).violations}
    assert {"/data/lines/0", "/data/lines/0/requested_qty", "/data/priority"} <= pointers


def test_an_impossible_calendar_date_is_refused() -> None:
    event = _valid("reservation")
    event["time"] = "2026-02-30T10:00:00Z"
    assert [v.pointer for v in CHECKER.check(event).violations] == ["/time"]


def test_an_impossible_date_in_data_is_refused() -> None:
    event = _valid("po_release")
    event["data"]["lines"][0]["requested_date"] = "2026-13-01"
    assert [(v.pointer, v.rule) for v in CHECKER.check(event).violations] == [
        ("/data/lines/0/requested_date", "real-date")
    ]


def test_type_family_must_match_dataschema() -> None:
    event = _valid("receipt")
    event["type"] = "reservation.requested"
    assert [(v.pointer, v.rule) for v in CHECKER.check(event).violations] == [
        ("/dataschema", "type-matches-contract")
    ]


def test_unknown_extension_shapes_are_refused() -> None:
    event = _valid("transfer")
    event["Bad-Name"] = "x"
    event["nested"] = {"not": "allowed"}
    pointers = {v.pointer for v in CHECKER.check(event).violations}
    assert {"", "/nested"} <= pointers


def test_extension_attributes_are_allowed() -> None:
    event = _valid("transfer")
    event["partition"] = "eu"
    event["priorityclass"] = 3
    assert CHECKER.check(event).ok


def test_long_validator_messages_are_shortened() -> None:
    event = _valid("reservation")
    event["data"] = {"x": "y" * 5000}
    assert all(len(v.message) < 400 for v in CHECKER.check(event).violations)


def test_the_resolution_cache_keeps_only_the_contracts_own_event_types() -> None:
    # Clients choose the type; a cache keyed by whatever they send would grow without end.
    checker = MessageChecker(REGISTRY)
    valid = _valid("reservation")
    for number in range(200):
        event = copy.deepcopy(valid)
        event["type"] = f"Bogus{number}"  # not <family>.<event>: the envelope refuses it
        assert "/type" in {v.pointer for v in checker.check(event).violations}
    assert checker.check(valid).ok
    assert list(checker._resolved) == [(valid["dataschema"], valid["type"])]
