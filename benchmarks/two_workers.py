"""two-workers: the same PostgreSQL backlog drained by one ``crossdock worker``, then two.

One backlog is pre-loaded (see benchmarks/delivery.py) into a template database; each run
drains a copy of it, with one worker process or with two started together (each with
``--delivery-concurrency`` deliveries in flight and the same per-process connection limit,
which is how the hub scales out: ``FOR UPDATE SKIP LOCKED`` claims, one group committer per
process). The rate is measured at the sink, from the first to the last new arrival. Rounds
interleave one and two workers; the ratio is per round. The CPU of each worker, of the sink,
of PostgreSQL and of the whole machine during the drain is reported, to tell a hub limit from
a saturated machine or sink.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import delivery
from benchmarks.common import (
    BenchmarkError,
    Options,
    background_cpu,
    median,
    postgres_available,
    postgres_settings,
    ratio,
    write_result,
)

NAME = "two-workers"
TARGET_RATIO = 1.6  # two workers at least 1.6x one


def run(options: Options) -> dict[str, Any]:
    if not options.postgres:
        raise BenchmarkError("two-workers runs on PostgreSQL only (drop --no-postgres)")
    why_not = postgres_available()
    if why_not is not None:
        raise BenchmarkError(why_not)
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    pg_settings = postgres_settings()
    count, concurrency = options.backlog, options.delivery_concurrency
    runs: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp,
        delivery.sink(Path(tmp)) as the_sink,
        delivery.fresh_database("postgresql", Path(tmp)) as template,
    ):
        workdir = Path(tmp)
        print(f"[{NAME}] pre-loading {count:,} messages …", flush=True)
        preload = delivery.preload(template, workdir, the_sink.url, count, concurrency)
        for round_no in range(1, options.rounds + 1):
            for workers in (1, 2):
                print(f"[{NAME}] round {round_no}/{options.rounds}: {workers} worker(s) …")
                with delivery.database_copy(template, workdir) as url:
                    result = delivery.drain(
                        url, workdir, the_sink, count, workers=workers, concurrency=concurrency
                    )
                runs.append({"target": f"workers-{workers}", "round": round_no, **result})
                print(
                    f"[{NAME}]   {result['deliveries_per_s']:>9,.0f} deliveries/s  "
                    f"cpu {result['cpu_cores']}  verified: {result['verification']['ok']}",
                    flush=True,
                )
    payload = summarise(options, runs, preload, background, pg_settings)
    write_result(NAME, payload)
    return payload


def _worker_cores(result: dict[str, Any]) -> float:
    cores: dict[str, float] = result["cpu_cores"]
    return round(sum(v for k, v in cores.items() if k.startswith("worker_")), 2)


def summarise(
    options: Options,
    runs: list[dict[str, Any]],
    preload: dict[str, Any],
    background: float,
    pg_settings: dict[str, str],
) -> dict[str, Any]:
    one_by_round = {r["round"]: r["deliveries_per_s"] for r in runs if r["target"] == "workers-1"}
    results: dict[str, dict[str, Any]] = {}
    for target in ("workers-1", "workers-2"):
        rows = [r for r in runs if r["target"] == target]
        results[target] = {
            "deliveries_per_s": round(median([r["deliveries_per_s"] for r in rows]), 1),
            "ratio_to_one": round(
                median([ratio(r["deliveries_per_s"], one_by_round[r["round"]]) for r in rows]), 3
            ),
            "workers_cpu_cores": median([_worker_cores(r) for r in rows]),
            "postgresql_cpu_cores": median([r["cpu_cores"]["postgresql"] for r in rows]),
            "sink_cpu_cores": median([r["cpu_cores"]["sink"] for r in rows]),
            "machine_cpu_cores": median([r["cpu_cores"]["machine"] for r in rows]),
        }
    two = results["workers-2"]
    met = two["ratio_to_one"] >= TARGET_RATIO
    targets = [
        {
            "what": "two workers / one worker, deliveries/s (PostgreSQL)",
            "target": f">= {TARGET_RATIO}x",
            "measured": two["ratio_to_one"],
            "met": met,
        }
    ]
    one = results["workers-1"]
    table = [
        {
            "case": "hub, PostgreSQL, 1 `crossdock worker` (baseline)",
            "measured": delivery.rate_text(one["deliveries_per_s"]),
            "ratio": "1.00",
        },
        {
            "case": "hub, PostgreSQL, 2 `crossdock worker` processes",
            "measured": delivery.rate_text(two["deliveries_per_s"]),
            "baseline": delivery.rate_text(one["deliveries_per_s"]),
            "ratio": f"{two['ratio_to_one']:.2f}",
            "target": f">= {TARGET_RATIO:.2f}",
            "met": "yes" if met else "**no**",
        },
    ]
    cores = os.cpu_count()
    notes = [
        f"{target[-1]} worker(s): workers {entry['workers_cpu_cores']:.2f} cores, PostgreSQL "
        f"{entry['postgresql_cpu_cores']:.2f}, sink {entry['sink_cpu_cores']:.2f}, whole machine "
        f"{entry['machine_cpu_cores']:.2f} of {cores} (medians over the drains)"
        for target, entry in results.items()
    ]
    verification = (
        f"{sum(r['deliveries'] for r in runs):,} deliveries drained, every one `delivered` in "
        f"the database, {sum(r['verification']['duplicates_at_sink'] for r in runs)} duplicates "
        "at the sink (two workers must never both take a delivery), signatures verified."
    )
    return delivery.payload(
        NAME,
        headline=(
            f"{options.backlog:,} pre-loaded deliveries ({delivery.KEYS:,} ordering keys) on "
            f"PostgreSQL drained by one or two `crossdock worker` processes, "
            f"{options.delivery_concurrency} in flight per process, median of "
            f"{options.rounds} round(s)."
        ),
        table=table,
        targets=targets,
        runs=runs,
        results=results,
        config={
            "backlog": options.backlog,
            "ordering_keys": delivery.KEYS,
            "concurrency_per_process": options.delivery_concurrency,
            "rounds": options.rounds,
            "preload": preload,
            "database": "a copy (CREATE DATABASE … TEMPLATE) of one pre-loaded database per run",
        },
        background=background,
        pg_settings=pg_settings,
        notes=notes,
        verification=verification,
    )
