"""delivery-throughput: one ``crossdock worker`` drains a pre-loaded backlog to a fast sink.

The backlog (``--backlog`` 5-line reservations, 1,000 distinct subjects) is written once per
database by ``crossdock serve`` with its workers disabled, on a paused route; every measured
run drains a copy of it with one ``crossdock worker`` process (``--delivery-concurrency``
deliveries in flight, the connection's concurrency the same), see benchmarks/delivery.py.

The baseline, in the same run and to the same sink: a bare ``httpx.AsyncClient`` (configured
as the webhook connector configures its own) posting the same bodies with the same headers,
already signed, from the same number of asyncio tasks. A second, reference loop does the
same with aiohttp: what the machine and the sink can do when the HTTP client is not the
limit. Rounds interleave bare, reference, SQLite and PostgreSQL; ratios are per round.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import delivery, profiling
from benchmarks.common import (
    BenchmarkError,
    Options,
    add_postgres,
    background_cpu,
    median,
    ratio,
    write_result,
    write_text,
)

NAME = "delivery-throughput"
TARGET_RATIO = 0.5  # the hub at least half the bare httpx loop's deliveries/s
LABELS = {
    "sqlite": "hub, SQLite, 1 `crossdock worker`",
    "postgresql": "hub, PostgreSQL, 1 `crossdock worker`",
}


def kinds_of(options: Options, notes: list[str]) -> tuple[list[str], dict[str, str]]:
    """The databases to run on, and PostgreSQL's settings when it is one of them."""
    kinds = ["sqlite"]
    return kinds, add_postgres(NAME, options, kinds, "postgresql", notes)


def measure_hub(kind: str, options: Options) -> float:
    """One pre-load and one drain on ``kind``: its deliveries/s (delivery-latency's calibration)."""
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp,
        delivery.sink(Path(tmp)) as the_sink,
        delivery.fresh_database(kind, Path(tmp)) as url,
    ):
        delivery.preload(
            url, Path(tmp), the_sink.url, options.backlog, options.delivery_concurrency
        )
        result = delivery.drain(
            url, Path(tmp), the_sink, options.backlog, concurrency=options.delivery_concurrency
        )
    if not result["verification"]["ok"]:
        raise BenchmarkError(f"calibration drain failed its verification: {result['verification']}")
    rate: float = result["deliveries_per_s"]
    return rate


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    notes: list[str] = []
    kinds, pg_settings = kinds_of(options, notes)
    with_aiohttp = importlib.util.find_spec("aiohttp") is not None
    if not with_aiohttp:
        notes.append("reference loop skipped: aiohttp is not installed (pip install aiohttp)")
    count, concurrency = options.backlog, options.delivery_concurrency
    runs: list[dict[str, Any]] = []
    preloads: dict[str, dict[str, Any]] = {}
    profile: dict[str, Any] | None = None
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp,
        delivery.sink(Path(tmp)) as the_sink,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        templates: dict[str, str] = {}
        for kind in kinds:
            templates[kind] = stack.enter_context(delivery.fresh_database(kind, workdir))
            print(f"[{NAME}] pre-loading {count:,} messages on {kind} …", flush=True)
            preloads[kind] = delivery.preload(
                templates[kind], workdir, the_sink.url, count, concurrency
            )
        requests = delivery.bare_requests(delivery.keyed_events("p", count))
        for round_no in range(1, options.rounds + 1):
            cases: list[tuple[str, Any]] = [
                ("bare-httpx", lambda: delivery.bare_drain(the_sink, requests, concurrency)),
            ]
            if with_aiohttp:
                cases.append(
                    (
                        "reference-aiohttp",
                        lambda: delivery.bare_drain(the_sink, requests, concurrency, "aiohttp"),
                    )
                )
            for kind in kinds:
                cases.append(
                    (
                        f"hub-{kind}",
                        _hub_drain(templates[kind], workdir, the_sink, count, concurrency),
                    )
                )
            for target, measure in cases:
                print(f"[{NAME}] round {round_no}/{options.rounds}: {target} …", flush=True)
                result = {"target": target, "round": round_no, **measure()}
                runs.append(result)
                print(
                    f"[{NAME}]   {result['deliveries_per_s']:>9,.0f} deliveries/s  "
                    f"cpu {result['cpu_cores']}  verified: {result['verification']['ok']}",
                    flush=True,
                )
        if options.profile:
            profile = _profile(templates["sqlite"], workdir, the_sink, options, runs)
    payload = summarise(options, kinds, runs, preloads, background, pg_settings, notes)
    if profile is not None:
        payload["profile"] = profile
    write_result(NAME, payload)
    return payload


def _hub_drain(
    template: str, workdir: Path, the_sink: delivery.Sink, count: int, concurrency: int
) -> Any:
    def measure() -> dict[str, Any]:
        with delivery.database_copy(template, workdir) as url:
            return delivery.drain(url, workdir, the_sink, count, concurrency=concurrency)

    return measure


def _profile(
    template: str,
    workdir: Path,
    the_sink: delivery.Sink,
    options: Options,
    runs: list[dict[str, Any]],
) -> dict[str, Any]:
    """An extra, unmeasured SQLite drain with py-spy on the worker."""
    if profiling.py_spy() is None:
        raise BenchmarkError("py-spy is not installed: .venv/bin/pip install py-spy")
    print(f"[{NAME}] profiling the SQLite worker with py-spy …", flush=True)
    rate = median([r["deliveries_per_s"] for r in runs if r["target"] == "hub-sqlite"])
    seconds = max(1.0, min(options.duration, 0.8 * options.backlog / max(rate, 1.0)))
    collapsed = workdir / "worker.collapsed"
    with delivery.database_copy(template, workdir) as url:
        result = delivery.drain(
            url,
            workdir,
            the_sink,
            options.backlog,
            concurrency=options.delivery_concurrency,
            profile=(collapsed, seconds),
        )
    analysed = profiling.analyse(collapsed).summary()
    text = profiling.render(
        analysed,
        f"py-spy of one `crossdock worker` (SQLite) draining {options.backlog:,} deliveries, "
        f"{result['deliveries_per_s']:.0f} deliveries/s while sampled",
    )
    path = write_text(f"{NAME}-profile.txt", text)
    print(f"[{NAME}] profile written to {path}")
    return {"deliveries_per_s_while_sampled": result["deliveries_per_s"], **analysed}


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    preloads: dict[str, dict[str, Any]],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    def of(target: str) -> list[dict[str, Any]]:
        return [r for r in runs if r["target"] == target]

    bare_by_round = {r["round"]: r["deliveries_per_s"] for r in of("bare-httpx")}
    results: dict[str, dict[str, Any]] = {}
    for target in ["bare-httpx", "reference-aiohttp", *(f"hub-{k}" for k in kinds)]:
        rows = of(target)
        if not rows:
            continue
        entry: dict[str, Any] = {
            "deliveries_per_s": round(median([r["deliveries_per_s"] for r in rows]), 1),
            "ratio_to_bare": round(
                median([ratio(r["deliveries_per_s"], bare_by_round[r["round"]]) for r in rows]), 3
            ),
            "sink_cpu_cores": median([r["cpu_cores"]["sink"] for r in rows]),
            "machine_cpu_cores": median([r["cpu_cores"]["machine"] for r in rows]),
            "sink_connections": median([r["sink"]["connections"] for r in rows]),
        }
        if target.startswith("hub-"):
            entry["worker_cpu_cores"] = median([r["cpu_cores"]["worker_0"] for r in rows])
            entry["worker_cpu_ms_per_delivery"] = median(
                [delivery.cpu_ms_per_delivery(r, "worker_0") for r in rows]
            )
        results[target] = entry
    targets = [
        {
            "what": f"hub on {kind} / bare httpx loop, deliveries/s",
            "target": f">= {TARGET_RATIO:.0%}",
            "measured": results[f"hub-{kind}"]["ratio_to_bare"],
            "met": results[f"hub-{kind}"]["ratio_to_bare"] >= TARGET_RATIO,
        }
        for kind in kinds
    ]
    bare = results["bare-httpx"]
    tasks = options.delivery_concurrency
    table: list[dict[str, str]] = [
        {
            "case": f"bare `httpx.AsyncClient` loop, {tasks} tasks (baseline)",
            "measured": delivery.rate_text(bare["deliveries_per_s"]),
            "ratio": "1.00",
        },
    ]
    if "reference-aiohttp" in results:
        reference = results["reference-aiohttp"]
        table.append(
            {
                "case": f"reference: `aiohttp.ClientSession` loop, {tasks} tasks",
                "measured": delivery.rate_text(reference["deliveries_per_s"]),
                "baseline": delivery.rate_text(bare["deliveries_per_s"]),
                "ratio": f"{reference['ratio_to_bare']:.2f}",
                "target": "none (reported)",
            }
        )
    for kind, goal in zip(kinds, targets, strict=True):
        entry = results[f"hub-{kind}"]
        table.append(
            {
                "case": LABELS[kind],
                "measured": delivery.rate_text(entry["deliveries_per_s"]),
                "baseline": delivery.rate_text(bare["deliveries_per_s"]),
                "ratio": f"{entry['ratio_to_bare']:.2f}",
                "target": f">= {TARGET_RATIO:.2f}",
                "met": "yes" if goal["met"] else "**no**",
            }
        )
    for kind in kinds:
        hub = results[f"hub-{kind}"]
        notes.append(
            f"{kind}: the worker process used {hub['worker_cpu_cores']:.2f} cores "
            f"({hub['worker_cpu_ms_per_delivery']:.1f} ms of CPU per delivery); the sink "
            f"{hub['sink_cpu_cores']:.2f} cores; the whole machine "
            f"{hub['machine_cpu_cores']:.2f} of {os.cpu_count()} cores busy"
        )
    checked = [r for r in runs if r["target"].startswith("hub-")]
    verification = (
        f"{sum(r['deliveries'] for r in checked):,} deliveries drained in the hub runs, every "
        "one `delivered` in the database and counted once per message key at the sink "
        f"({sum(r['verification']['duplicates_at_sink'] for r in checked)} duplicates); "
        f"the sink verified the Standard Webhooks signatures of the first {delivery.VERIFY_FIRST} "
        "requests of every run."
    )
    return delivery.payload(
        NAME,
        headline=(
            f"{options.backlog:,} pre-loaded 5-line reservations ({delivery.KEYS:,} ordering keys) "
            f"drained to a loopback sink, {options.delivery_concurrency} in flight, "
            f"median of {options.rounds} round(s)."
        ),
        table=table,
        targets=targets,
        runs=runs,
        results=results,
        config={
            "backlog": options.backlog,
            "ordering_keys": delivery.KEYS,
            "concurrency": options.delivery_concurrency,
            "rounds": options.rounds,
            "preload": preloads,
            "hub": "one `crossdock worker` process, CROSSDOCK_WORKER_CONCURRENCY = connection "
            "concurrency = concurrency; route resumed once the worker runs",
            "sink": "benchmarks/sink_app.py under uvicorn (uvloop, httptools), one process",
            "bare": "httpx.AsyncClient(timeout=10) with its default pool limits, the same "
            "bodies and headers (signed before the clock), one task per slot",
            "rate": "distinct message keys at the sink / (last new arrival - first arrival)",
        },
        background=background,
        pg_settings=pg_settings,
        notes=notes,
        verification=verification,
    )
