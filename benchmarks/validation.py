"""validation: 5-line reservations validated per second, in-process, on one thread.

Three ways to judge the same message, each timed over a fixed number of calls (chosen once
so that a repetition lasts at least ``MIN_SECONDS``), best of ``REPEATS``:

* ``jsonschema`` (pure Python, ``Draft202012Validator(schema).is_valid(data)``): baseline;
* the hub's compiled ``jsonschema-rs`` validator (``registry.get(...).validator.is_valid``);
* the hub's whole check, ``MessageChecker.check(event)``: envelope, contract schema and the
  semantic rules (check digits, dates, line numbers, quantities).

The target (100,000 validations/s) is for the schema validation; the whole check is
reported beside it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import jsonschema

from benchmarks.common import (
    CONTRACTS,
    GOVERNANCE,
    BenchmarkError,
    Options,
    background_cpu,
    machine_info,
    ratio,
    reservation_event,
    today,
    write_result,
)
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry

NAME = "validation"
TARGET = 100_000.0  # schema validations/s of the 5-line reservation
REPEATS = 5
MIN_SECONDS = 0.3


def _calibrate(call: Callable[[], object]) -> int:
    """A call count for which one repetition lasts at least MIN_SECONDS."""
    count = 1
    while True:
        started = time.perf_counter()
        for _ in range(count):
            call()
        if time.perf_counter() - started >= MIN_SECONDS:
            return count
        count *= 2


def best_rate(call: Callable[[], object]) -> dict[str, Any]:
    count = _calibrate(call)
    timings = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(REPEATS):
            started = time.perf_counter()
            for _ in range(count):
                call()
            timings.append(time.perf_counter() - started)
    finally:
        if gc_was_enabled:
            gc.enable()
    best = min(timings)
    return {
        "calls_per_repeat": count,
        "repeats": REPEATS,
        "best_s": round(best, 4),
        "per_s": round(count / best, 1),
        "all_per_s": [round(count / t, 1) for t in timings],
        "microseconds_per_call": round(best / count * 1e6, 2),
    }


def run(options: Options) -> dict[str, Any]:
    del options  # nothing to tune: in-process, one thread
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    registry = ContractRegistry.load(CONTRACTS, GOVERNANCE)
    contract = registry.get("reservation", "1.0")
    if contract is None:
        raise BenchmarkError("contracts/ has no reservation 1.0")
    checker = MessageChecker(registry)
    event = reservation_event(5)
    data = event["data"]
    python_validator = jsonschema.Draft202012Validator(contract.schema)
    rust_validator = contract.validator

    # Each must say "valid" before it is timed: timing a rejection would measure another path.
    if not python_validator.is_valid(data) or not rust_validator.is_valid(data):
        raise BenchmarkError("the 5-line reservation does not pass its schema")
    if not checker.check(event).ok:
        raise BenchmarkError(f"the 5-line reservation fails the check: {checker.check(event)}")

    cases: dict[str, Callable[[], object]] = {
        "jsonschema": lambda: python_validator.is_valid(data),
        "jsonschema-rs": lambda: rust_validator.is_valid(data),
        "full-check": lambda: checker.check(event),
    }
    measured: dict[str, dict[str, Any]] = {}
    for name, call in cases.items():
        print(f"[{NAME}] {name} …", flush=True)
        measured[name] = best_rate(call)
        print(f"[{NAME}]   {measured[name]['per_s']:>12,.0f} /s", flush=True)

    baseline = measured["jsonschema"]["per_s"]
    for entry in measured.values():
        entry["ratio_to_jsonschema"] = ratio(entry["per_s"], baseline)
    rust = measured["jsonschema-rs"]["per_s"]
    full = measured["full-check"]["per_s"]
    targets = [
        {
            "what": "jsonschema-rs validations/s of the 5-line reservation",
            "target": f">= {TARGET:,.0f}",
            "measured": rust,
            "met": rust >= TARGET,
        }
    ]
    table = [
        {
            "case": "jsonschema, pure Python (baseline)",
            "measured": f"{baseline:,.0f} /s",
            "ratio": "1.00",
        },
        {
            "case": "jsonschema-rs `validator.is_valid(data)`",
            "measured": f"{rust:,.0f} /s",
            "baseline": f"{baseline:,.0f} /s",
            "ratio": f"{measured['jsonschema-rs']['ratio_to_jsonschema']:.1f}",
            "target": f"{targets[0]['target']} /s",
            "met": "yes" if targets[0]["met"] else f"**no** ({rust / TARGET:.0%} of target)",
        },
        {
            "case": "whole `MessageChecker.check(event)`",
            "measured": f"{full:,.0f} /s",
            "baseline": f"{baseline:,.0f} /s",
            "ratio": f"{measured['full-check']['ratio_to_jsonschema']:.1f}",
            "target": "none (reported)",
        },
    ]
    payload = {
        "benchmark": NAME,
        "date": today(),
        "headline": (
            "Validations/s of one 5-line reservation, one thread, in-process; fixed call "
            f"count per repetition, best of {REPEATS}."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "config": {
            "message": "reservation 1.0, 5 lines",
            "repeats": REPEATS,
            "min_seconds_per_repeat": MIN_SECONDS,
            "gc": "disabled while timing",
        },
        "results": measured,
        "targets": targets,
        "verified": True,
        "notes": [],
    }
    write_result(NAME, payload)
    return payload
