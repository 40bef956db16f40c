"""vs-procrastinate: the hub's delivery engine beside procrastinate, a PostgreSQL task queue.

Same PostgreSQL server, same sink, same work, same concurrency:

* **hub**: ``--backlog`` messages pre-loaded with a pending delivery each (see
  benchmarks/delivery.py), drained by one ``crossdock worker`` process,
  ``CROSSDOCK_WORKER_CONCURRENCY`` and the connection's concurrency both
  ``--delivery-concurrency``.
* **procrastinate**: the same number of jobs of one async task, deferred in bulk into another
  database before the clock (each job's arguments: the message key, a delivery id and the
  same CloudEvent), run by one procrastinate worker process with
  ``run_worker_async(concurrency=--delivery-concurrency)``; the task signs and POSTs the event
  exactly as the webhook connector does (benchmarks/procrastinate_worker.py).

Each side drains a fresh copy of its pre-loaded database; both are timed at the sink, from
the first to the last new arrival. Rounds interleave the two; the ratio (hub deliveries/s
over procrastinate jobs/s) is per round. What each does besides the POST differs, and is
the point: the hub claims under a lease with per-key ordering, records every attempt and
keeps a breaker; procrastinate fetches one job per query and marks it done.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from benchmarks import delivery
from benchmarks.common import (
    REPO,
    BenchmarkError,
    CpuMeter,
    Options,
    Server,
    background_cpu,
    median,
    postgres_available,
    postgres_settings,
    ratio,
    write_result,
)

NAME = "vs-procrastinate"
INSTALL = "procrastinate is not installed: .venv/bin/pip install procrastinate"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _procrastinate(*args: str, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "benchmarks.procrastinate_worker", *args],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def defer_jobs(url: str, count: int, workdir: Path) -> float:
    """Apply procrastinate's schema and defer ``count`` jobs; the seconds it took."""
    log_path = workdir / "procrastinate-defer.log"
    started = time.perf_counter()
    process = _procrastinate("defer", _dsn(url), str(count), log_path=log_path)
    try:
        code = process.wait(timeout=300)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        raise BenchmarkError("deferring procrastinate jobs did not finish") from exc
    if code != 0:
        raise BenchmarkError(f"deferring procrastinate jobs failed:\n{log_path.read_text()}")
    return time.perf_counter() - started


def job_counts(url: str) -> dict[str, int]:
    rows = delivery._engine_query(
        url, "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status"
    )
    return {str(status): int(n) for status, n in rows}


def procrastinate_drain(
    url: str, workdir: Path, the_sink: delivery.Sink, expected: int, concurrency: int
) -> dict[str, Any]:
    """One procrastinate worker process works off the deferred jobs; measured at the sink."""
    the_sink.control(reset=True, verify=delivery.VERIFY_FIRST, status=200)
    log_path = workdir / f"procrastinate-work-{time.monotonic_ns()}.log"
    process = _procrastinate("work", _dsn(url), the_sink.url, str(concurrency), log_path=log_path)
    worker = Server("procrastinate worker", process, 0, log_path)
    meter = CpuMeter()
    meter.watch("sink", the_sink.pid)
    meter.watch("worker_0", process.pid)
    try:
        try:
            the_sink.wait_first(timeout=60)
        except BenchmarkError as exc:
            raise BenchmarkError(f"{exc}; procrastinate worker:\n{worker.log_tail()}") from exc
        meter.start()
        stats = the_sink.wait_for(expected, 60 + expected / 25, "procrastinate drain")
        cpu = meter.stop()
        deadline = time.monotonic() + 30
        counts = job_counts(url)
        while counts.get("succeeded", 0) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
            counts = job_counts(url)
    finally:
        worker.stop()
    seconds = stats["last_new_at"] - stats["first_at"]
    rate = stats["distinct_keys"] / seconds if seconds > 0 else 0.0
    signatures = delivery.signature_check(stats)
    return {
        "deliveries": stats["distinct_keys"],
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(rate, 1),
        "sink": {
            k: stats[k]
            for k in ("requests", "by_status", "distinct_keys", "duplicates", "connections")
        },
        "cpu_cores": cpu,
        "verification": {
            "job_statuses": counts,
            "signatures": signatures,
            "duplicates_at_sink": stats["duplicates"],
            "ok": counts == {"succeeded": expected} and signatures["ok"],
        },
    }


def run(options: Options) -> dict[str, Any]:
    try:
        import procrastinate  # noqa: F401
    except ImportError as exc:
        raise BenchmarkError(INSTALL) from exc
    if not options.postgres:
        raise BenchmarkError("vs-procrastinate runs on PostgreSQL only (drop --no-postgres)")
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
        delivery.fresh_database("postgresql", Path(tmp)) as hub_template,
        delivery.fresh_database("postgresql", Path(tmp)) as jobs_template,
    ):
        workdir = Path(tmp)
        print(f"[{NAME}] pre-loading {count:,} messages for the hub …", flush=True)
        preload = delivery.preload(hub_template, workdir, the_sink.url, count, concurrency)
        print(f"[{NAME}] deferring {count:,} procrastinate jobs …", flush=True)
        deferred = defer_jobs(jobs_template, count, workdir)
        if job_counts(jobs_template) != {"todo": count}:
            raise BenchmarkError(f"expected {count} jobs to do: {job_counts(jobs_template)}")
        for round_no in range(1, options.rounds + 1):
            for target in ("procrastinate", "hub"):
                print(f"[{NAME}] round {round_no}/{options.rounds}: {target} …", flush=True)
                if target == "hub":
                    with delivery.database_copy(hub_template, workdir) as url:
                        result = delivery.drain(
                            url, workdir, the_sink, count, concurrency=concurrency
                        )
                else:
                    with delivery.database_copy(jobs_template, workdir) as url:
                        result = procrastinate_drain(url, workdir, the_sink, count, concurrency)
                runs.append({"target": target, "round": round_no, **result})
                print(
                    f"[{NAME}]   {result['deliveries_per_s']:>9,.0f} /s  "
                    f"cpu {result['cpu_cores']}  verified: {result['verification']['ok']}",
                    flush=True,
                )
    payload = summarise(options, runs, preload, deferred, background, pg_settings)
    write_result(NAME, payload)
    return payload


def summarise(
    options: Options,
    runs: list[dict[str, Any]],
    preload: dict[str, Any],
    deferred_seconds: float,
    background: float,
    pg_settings: dict[str, str],
) -> dict[str, Any]:
    base = {r["round"]: r["deliveries_per_s"] for r in runs if r["target"] == "procrastinate"}
    results: dict[str, dict[str, Any]] = {}
    for target in ("procrastinate", "hub"):
        rows = [r for r in runs if r["target"] == target]
        results[target] = {
            "per_s": round(median([r["deliveries_per_s"] for r in rows]), 1),
            "ratio_to_procrastinate": round(
                median([ratio(r["deliveries_per_s"], base[r["round"]]) for r in rows]), 3
            ),
            "worker_cpu_cores": median([r["cpu_cores"]["worker_0"] for r in rows]),
            "worker_cpu_ms_per_delivery": median(
                [delivery.cpu_ms_per_delivery(r, "worker_0") for r in rows]
            ),
            "postgresql_cpu_cores": median([r["cpu_cores"]["postgresql"] for r in rows]),
            "machine_cpu_cores": median([r["cpu_cores"]["machine"] for r in rows]),
            "sink_connections": median([r["sink"]["connections"] for r in rows]),
        }
    hub, other = results["hub"], results["procrastinate"]
    tasks = options.delivery_concurrency
    table = [
        {
            "case": f"procrastinate, 1 worker, concurrency {tasks} (baseline)",
            "measured": delivery.rate_text(other["per_s"], "jobs/s"),
            "ratio": "1.00",
            "target": "",
        },
        {
            "case": f"hub, 1 `crossdock worker`, concurrency {tasks}",
            "measured": delivery.rate_text(hub["per_s"]),
            "baseline": delivery.rate_text(other["per_s"], "jobs/s"),
            "ratio": f"{hub['ratio_to_procrastinate']:.2f}",
            "target": "none (reported)",
        },
    ]
    notes = [
        f"{name}: worker process {entry['worker_cpu_cores']:.2f} cores "
        f"({entry['worker_cpu_ms_per_delivery']:.1f} ms CPU per delivery), PostgreSQL "
        f"{entry['postgresql_cpu_cores']:.2f}, machine {entry['machine_cpu_cores']:.2f}, "
        f"{entry['sink_connections']:.0f} TCP connections seen by the sink"
        for name, entry in results.items()
    ]
    verification = (
        f"{sum(r['deliveries'] for r in runs if r['target'] == 'hub'):,} hub deliveries all "
        f"`delivered`; {sum(r['deliveries'] for r in runs if r['target'] != 'hub'):,} "
        "procrastinate jobs all `succeeded`; every message key once at the sink; signatures "
        "verified on both sides."
    )
    return delivery.payload(
        NAME,
        headline=(
            f"{options.backlog:,} webhook deliveries of the same 5-line reservations to the same "
            f"sink, {tasks} in flight, on the same PostgreSQL server; median of "
            f"{options.rounds} round(s)."
        ),
        table=table,
        targets=[],
        runs=runs,
        results=results,
        config={
            "backlog": options.backlog,
            "concurrency": tasks,
            "rounds": options.rounds,
            "hub_preload": preload,
            "procrastinate_defer_seconds": round(deferred_seconds, 2),
            "procrastinate": "App(connector=PsycopgConnector(conninfo=…)) (default pool), "
            "run_worker_async(concurrency=N, wait=True), listen_notify on; task: orjson body, "
            "Standard Webhooks signature, shared httpx.AsyncClient(timeout=10), "
            "RetryStrategy(max_attempts=10, exponential_wait=2)",
            "hub": "one `crossdock worker`, CROSSDOCK_WORKER_CONCURRENCY = connection "
            "concurrency = N",
        },
        background=background,
        pg_settings=pg_settings,
        notes=notes,
        verification=verification,
    )
