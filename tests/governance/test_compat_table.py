"""The compatibility gate against a table of schema pairs and histories whose verdicts are
known (compat_cases.yaml): every change found, where, whom it breaks, and every mode's
verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.governance.compatibility import ChangeKind, CompatibilityMode
from hub.governance.gate import EarlierVersion, Verdict, judge
from hub.governance.policies import Lifecycle

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "compat_cases.yaml").read_text("utf-8")
)


def _verdict(case: dict[str, Any]) -> Verdict:
    versions = case["versions"]
    history = [
        EarlierVersion(f"1.{index}", schema, Lifecycle.ACTIVE)
        for index, schema in enumerate(versions[:-1])
    ]
    candidate = f"1.{len(versions) - 1}"
    return judge("widget", candidate, versions[-1], history, CompatibilityMode.BACKWARD)


def _expected_verdicts(case: dict[str, Any]) -> dict[CompatibilityMode, bool]:
    given = {CompatibilityMode(mode): bool(ok) for mode, ok in case["verdicts"].items()}
    if len(case["versions"]) == 2:
        # A pair has no older history: a transitive mode answers as its plain mode.
        assert set(given) == {
            CompatibilityMode.BACKWARD,
            CompatibilityMode.FORWARD,
            CompatibilityMode.FULL,
        }, case["name"]
        given |= {CompatibilityMode(f"{mode.value}_TRANSITIVE"): ok for mode, ok in given.items()}
        given[CompatibilityMode.NONE] = True
    assert set(given) == set(CompatibilityMode), case["name"]
    return given


def test_the_table_holds_at_least_30_cases_and_every_kind_of_change() -> None:
    assert len(CASES) >= 30
    names = [case["name"] for case in CASES]
    assert len(set(names)) == len(names)
    kinds = {change["kind"] for case in CASES for change in case["changes"]}
    assert kinds == {kind.value for kind in ChangeKind}
    assert sum(len(case["versions"]) > 2 for case in CASES) >= 3


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_known_verdicts(case: dict[str, Any]) -> None:
    verdict = _verdict(case)
    latest = verdict.comparisons[-1]
    found = sorted((c.pointer, c.kind.value, c.breaks.value) for c in latest.changes)
    expected = sorted((c["pointer"], c["kind"], c["breaks"]) for c in case["changes"])
    assert found == expected, [c.message for c in latest.changes]
    for change in case["changes"]:
        if "data_paths" in change:
            (match,) = [
                c
                for c in latest.changes
                if (c.pointer, c.kind.value) == (change["pointer"], change["kind"])
            ]
            assert list(match.data_paths) == change["data_paths"]
    assert all(c.message for c in latest.changes)
    for mode, compatible in _expected_verdicts(case).items():
        assert verdict.compatible_under(mode) is compatible, mode
