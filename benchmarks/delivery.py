"""What the delivery benchmarks share: the sink, keyed messages, pre-loading, draining.

The shape of every drain (delivery-throughput, two-workers, vs-procrastinate):

1. **Pre-load** once per database: ``crossdock serve`` with its workers disabled
   (``CROSSDOCK_WORKER_ENABLED=false``), a webhook connection to the sink and a *paused*
   route on ``*``, then ``N`` 5-line reservations posted as 500-message batches; every
   message writes one pending delivery. The server stops; the database is the template.
2. Each measured run gets a **copy** of it (``CREATE DATABASE … TEMPLATE`` on PostgreSQL, a
   file copy on SQLite), so every run drains exactly the same backlog.
3. ``crossdock worker`` processes start on the copy and say they run; then ``crossdock routes
   resume`` lets them go. The sink counts distinct ``crossdock-message-key`` values; the
   rate is distinct deliveries over the time from the first to the last new arrival at the
   sink (start-up and the idle poll before the first claim are outside the window).
4. After the last arrival, every delivery must be ``delivered`` in the database (the worker
   records each result after the answer), and the sink must have verified the Standard
   Webhooks signatures of the first requests.

Messages carry ``KEYS`` distinct subjects (the route's ordering key), assigned round-robin,
so per-key ordering allows that many deliveries in parallel.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from standardwebhooks.webhooks import Webhook

from benchmarks import profiling
from benchmarks.common import (
    ADMIN_KEY,
    BenchmarkError,
    CpuMeter,
    Server,
    crossdock_command,
    hub_server,
    machine_info,
    postgres_database,
    python_server,
    reservation_event,
    sqlalchemy_url,
    sqlite_url,
    today,
    worker_processes,
)

SECRET = "whsec_" + base64.b64encode(b"crossdock-benchmark-signing-key!").decode()
CONNECTION = "bench-sink"
ROUTE = "bench-route"
KEYS = 1_000  # distinct ordering keys (subjects)
VERIFY_FIRST = 200  # requests whose signatures the sink checks at the start of each run
BATCH = 500  # messages per pre-load batch
QUIET = {"CROSSDOCK_LOG_LEVEL": "warning"}
# Retry policy of the benchmark route: nothing should fail in a drain; if something does,
# it comes back soon enough to finish within the run.
RETRY = {
    "max_attempts": 10,
    "initial_delay": 0.5,
    "multiplier": 2,
    "max_delay": 5,
    "jitter": 0.2,
    "max_age": 3600,
}


# --- messages ---------------------------------------------------------------------------


def keyed_events(prefix: str, count: int, keys: int = KEYS) -> list[bytes]:
    """``count`` 5-line reservations as JSON, ids ``<prefix>-<n>``, subjects round-robin."""
    event = reservation_event()
    bodies = []
    for n in range(count):
        event["id"] = f"{prefix}-{n}"
        event["subject"] = f"BENCH-DOC-{n % keys:05d}"
        bodies.append(orjson.dumps(event))
    return bodies


def batch_bodies(events: list[bytes], size: int = BATCH) -> list[bytes]:
    return [b"[" + b",".join(events[i : i + size]) + b"]" for i in range(0, len(events), size)]


async def post_batches(
    base_url: str, bodies: list[bytes], concurrency: int = 4
) -> list[dict[str, Any]]:
    """Post batch bodies with ``concurrency`` clients; every result entry, in order."""
    headers = {
        "Authorization": f"Bearer {ADMIN_KEY}",
        "Content-Type": "application/cloudevents-batch+json",
    }
    answers: list[list[dict[str, Any]]] = [[] for _ in bodies]
    position = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120.0, headers=headers, limits=limits) as client:

        async def worker() -> None:
            nonlocal position
            while position < len(bodies):
                index = position
                position += 1
                response = await client.post(f"{base_url}/v1/messages/batch", content=bodies[index])
                if response.status_code != 200:
                    raise BenchmarkError(f"batch answered {response.status_code}: {response.text}")
                answers[index] = orjson.loads(response.content)["results"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    results = [entry for answer in answers for entry in answer]
    bad = [r for r in results if r.get("status") != "accepted"]
    if bad:
        raise BenchmarkError(f"{len(bad)} messages not accepted, e.g. {bad[0]}")
    return results


# --- the sink ---------------------------------------------------------------------------


@dataclass
class Sink:
    """The running sink (benchmarks/sink_app.py) and a client for its counters."""

    server: Server
    client: httpx.Client

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/hook"

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def control(
        self, *, status: int | None = None, verify: int | None = None, reset: bool = False
    ) -> dict[str, Any]:
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = str(status)
        if verify is not None:
            params["verify"] = str(verify)
        if reset:
            params["reset"] = "1"
        response = self.client.post("/control", params=params)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get("/stats").json()
        return answer

    def arrivals(self) -> dict[str, float]:
        answer: dict[str, float] = orjson.loads(self.client.get("/arrivals").content)
        return answer

    def wait_first(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.stats()["requests"] == 0:
            if time.monotonic() > deadline:
                raise BenchmarkError(f"nothing reached the sink in {timeout:.0f} s")
            time.sleep(0.02)

    def wait_for(
        self, distinct: int, timeout: float, what: str, stall: float = 30.0
    ) -> dict[str, Any]:
        """Until ``distinct`` message keys have arrived with a 2xx; fail on timeout or stall."""
        deadline = time.monotonic() + timeout
        seen, moved = -1, time.monotonic()
        while True:
            stats = self.stats()
            if stats["distinct_keys"] >= distinct:
                return stats
            now = time.monotonic()
            if stats["distinct_keys"] != seen:
                seen, moved = stats["distinct_keys"], now
            if now > deadline or now - moved > stall:
                why = "timeout" if now > deadline else f"no progress for {now - moved:.0f} s"
                raise BenchmarkError(
                    f"{what}: {stats['distinct_keys']:,} of {distinct:,} deliveries arrived ({why})"
                )
            time.sleep(0.1)


@contextlib.contextmanager
def sink(workdir: Path) -> Iterator[Sink]:
    env = {"BENCH_SINK_SECRET": SECRET}
    with (
        python_server("sink", "benchmarks.sink_app:app", workdir, env) as server,
        httpx.Client(base_url=server.base_url, timeout=30.0) as client,
    ):
        yield Sink(server, client)


def signature_check(stats: dict[str, Any]) -> dict[str, Any]:
    """Whether the sink verified the signatures it was asked to, without a bad one."""
    return {
        "verified": stats["verified"],
        "bad_signatures": stats["bad_signatures"],
        "error": stats["bad_signature_error"],
        "ok": stats["verified"] > 0 and stats["bad_signatures"] == 0,
    }


# --- the hub: connection, route, pre-load ---------------------------------------------


def api_client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60.0
    )


def create_route(
    api: httpx.Client,
    sink_url: str,
    *,
    concurrency: int,
    paused: bool = False,
    on_dead_letter: str = "skip",
) -> None:
    """A webhook connection to the sink and a route of every message type to it."""
    connection = api.post(
        "/v1/connections",
        json={
            "name": CONNECTION,
            "connector": "webhook",
            "config": {"url": sink_url, "signing_secret": SECRET},
            "concurrency": concurrency,
            "timeout_seconds": 10,
        },
    )
    if connection.status_code != 201:
        raise BenchmarkError(f"creating the connection: {connection.status_code} {connection.text}")
    route = api.post(
        "/v1/routes",
        json={
            "name": ROUTE,
            "connection": CONNECTION,
            "types": ["*"],
            "retry": RETRY,
            "on_dead_letter": on_dead_letter,
            "paused": paused,
        },
    )
    if route.status_code != 201:
        raise BenchmarkError(f"creating the route: {route.status_code} {route.text}")


def preload(
    database_url: str, workdir: Path, sink_url: str, count: int, concurrency: int
) -> dict[str, Any]:
    """``count`` messages with a pending delivery each, on a paused route; no worker ran."""
    events = keyed_events("p", count)
    bodies = batch_bodies(events)
    del events
    env = {"CROSSDOCK_WORKER_ENABLED": "false", **QUIET}
    with hub_server(database_url, workdir, extra_env=env) as hub:
        with api_client(hub.base_url) as api:
            create_route(api, sink_url, concurrency=concurrency, paused=True)
        started = time.perf_counter()
        asyncio.run(post_batches(hub.base_url, bodies))
        seconds = time.perf_counter() - started
    counts = delivery_counts(database_url)
    if counts != {"pending": count}:
        raise BenchmarkError(f"pre-load: expected {count} pending deliveries, found {counts}")
    if database_url.startswith("sqlite"):
        checkpoint(database_url)
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "messages_per_s": round(count / seconds, 1),
        "body_bytes": len(bodies[0]) // min(BATCH, count),
    }


# --- databases --------------------------------------------------------------------------


def _engine_query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def delivery_counts(database_url: str) -> dict[str, int]:
    rows = _engine_query(database_url, "SELECT status, count(*) FROM deliveries GROUP BY status")
    return {str(status): int(n) for status, n in rows}


def dead_letter_counts(database_url: str) -> dict[str, int]:
    rows = _engine_query(database_url, "SELECT status, count(*) FROM dead_letters GROUP BY status")
    return {str(status): int(n) for status, n in rows}


def wait_all_delivered(database_url: str, expected: int, timeout: float = 30.0) -> dict[str, int]:
    """Until the database says every delivery is delivered (results commit after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = delivery_counts(database_url)
        if counts.get("delivered", 0) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def checkpoint(database_url: str) -> None:
    """Fold SQLite's WAL into the main file, so that the file alone is the database."""
    path = make_url(database_url).database
    assert path
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def database_copy(template_url: str, workdir: Path) -> Iterator[str]:
    """A copy of a benchmark database (SQLite file or PostgreSQL ``bench_*``), removed after."""
    if template_url.startswith("sqlite"):
        source = Path(make_url(template_url).database or "")
        target = workdir / f"copy-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        with postgres_database(template=template_url) as url:
            yield url


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """An empty database of ``kind`` (``sqlite`` or ``postgresql``), removed after."""
    if kind == "sqlite":
        url = sqlite_url(workdir)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)
    elif kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(kind)


# --- draining ---------------------------------------------------------------------------


def drain(
    database_url: str,
    workdir: Path,
    the_sink: Sink,
    expected: int,
    *,
    workers: int = 1,
    concurrency: int = 64,
    profile: tuple[Path, float] | None = None,
) -> dict[str, Any]:
    """Drain a pre-loaded backlog with ``workers`` ``crossdock worker`` processes.

    ``profile=(collapsed_path, seconds)`` samples the first worker with py-spy from the first
    arrival on, for that long (the benchmark's unmeasured profiling run).
    """
    the_sink.control(reset=True, verify=VERIFY_FIRST, status=200)
    meter = CpuMeter()
    meter.watch("sink", the_sink.pid)
    env = {"CROSSDOCK_WORKER_CONCURRENCY": str(concurrency), **QUIET}
    timeout = 60 + expected / 25
    with worker_processes(database_url, workdir, workers, extra_env=env) as processes:
        for number, process in enumerate(processes):
            meter.watch(f"worker_{number}", process.process.pid)
        crossdock_command(database_url, workdir, "routes", "resume", ROUTE)
        the_sink.wait_first(timeout=30)
        meter.start()
        recorder = None
        if profile is not None:
            recorder = profiling.start_record(processes[0].process.pid, profile[1], profile[0])
        stats = the_sink.wait_for(expected, timeout, "drain")
        cpu = meter.stop()
        counts = wait_all_delivered(database_url, expected)
        if recorder is not None:
            _, err = recorder.communicate(timeout=profile[1] + 60 if profile else 60)
            if recorder.returncode != 0:
                raise BenchmarkError(f"py-spy failed: {err.decode(errors='replace')}")
    seconds = stats["last_new_at"] - stats["first_at"]
    rate = stats["distinct_keys"] / seconds if seconds > 0 else 0.0
    signatures = signature_check(stats)
    ok = counts == {"delivered": expected} and signatures["ok"] and stats["no_key"] == 0
    return {
        "deliveries": stats["distinct_keys"],
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(rate, 1),
        "sink": _sink_digest(stats),
        "cpu_cores": cpu,
        "verification": {
            "delivery_statuses": counts,
            "signatures": signatures,
            "duplicates_at_sink": stats["duplicates"],
            "ok": ok,
        },
    }


def _sink_digest(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        k: stats[k] for k in ("requests", "by_status", "distinct_keys", "duplicates", "connections")
    }


# --- the bare baseline ------------------------------------------------------------------


def bare_requests(events: list[bytes]) -> list[tuple[bytes, dict[str, str]]]:
    """The bodies and headers the webhook connector would send, signed before the clock."""
    signer = Webhook(SECRET)
    now = datetime.now(UTC)
    requests = []
    for n, body in enumerate(events, start=1):
        webhook_id = f"dlv_{n}"
        headers = {
            "content-type": "application/cloudevents+json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(webhook_id, now, body.decode()),
            "crossdock-message-key": f"msg_{uuid.uuid4().hex[:26].upper()}",
            "crossdock-delivery-id": str(n),
            "crossdock-attempt": "1",
        }
        requests.append((body, headers))
    return requests


async def _bare_loop(
    url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> list[str]:
    errors: list[str] = []
    position = 0
    # Configured as the webhook connector configures its client (httpx's default pool limits).
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:

        async def worker() -> None:
            nonlocal position
            while position < len(requests):
                body, headers = requests[position]
                position += 1
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


async def _aiohttp_loop(
    url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> list[str]:
    import aiohttp  # only here: the other benchmarks run without it

    errors: list[str] = []
    position = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=10.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal position
            while position < len(requests):
                body, headers = requests[position]
                position += 1
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status != 200:
                            errors.append(f"HTTP {response.status}")
                except aiohttp.ClientError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


def bare_drain(
    the_sink: Sink,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    client: str = "httpx",
) -> dict[str, Any]:
    """The baseline: one ``httpx.AsyncClient`` posting the same requests, ``concurrency`` tasks.

    ``client="aiohttp"``: the same loop with an ``aiohttp.ClientSession`` (a reference for
    what this machine and the sink can do when the HTTP client is not the limit).
    """
    the_sink.control(reset=True, verify=VERIFY_FIRST, status=200)
    meter = CpuMeter()
    meter.watch("sink", the_sink.pid)
    meter.start()
    loop = _aiohttp_loop if client == "aiohttp" else _bare_loop
    errors = asyncio.run(loop(the_sink.url, requests, concurrency))
    cpu = meter.stop()
    stats = the_sink.stats()
    seconds = stats["last_new_at"] - stats["first_at"]
    rate = stats["distinct_keys"] / seconds if seconds > 0 else 0.0
    signatures = signature_check(stats)
    return {
        "deliveries": stats["distinct_keys"],
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(rate, 1),
        "sink": _sink_digest(stats),
        "cpu_cores": cpu,  # "machine" includes this process, the load generator
        "verification": {
            "errors": errors[:5],
            "error_count": len(errors),
            "signatures": signatures,
            "ok": not errors and stats["distinct_keys"] == len(requests) and signatures["ok"],
        },
    }


# --- reporting --------------------------------------------------------------------------


def rate_text(value: float, unit: str = "deliveries/s") -> str:
    return f"{value:,.0f} {unit}"


def cpu_ms_per_delivery(run: dict[str, Any], process: str) -> float:
    """Milliseconds of CPU one delivery cost ``process`` (cores x seconds / deliveries)."""
    cores = run["cpu_cores"].get(process, 0.0)
    rate = run["deliveries_per_s"]
    return round(1000.0 * cores / rate, 2) if rate else 0.0


def payload(
    name: str,
    *,
    headline: str,
    table: list[dict[str, str]],
    targets: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    results: dict[str, Any],
    config: dict[str, Any],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
    verification: str,
) -> dict[str, Any]:
    """The result document, in the shape every benchmark writes (see report.py)."""
    verified = all(r.get("verification", {}).get("ok", True) for r in runs)
    machine = machine_info()
    machine["packages"].update(
        {name: _version(name) for name in ("aiohttp", "procrastinate", "psycopg-pool")}
    )
    return {
        "benchmark": name,
        "date": today(),
        "verification": f"Verification {'passed' if verified else '**FAILED**'}: {verification}",
        "headline": headline,
        "table": table,
        "machine": machine,
        "background_cpu_percent_before": background,
        "postgresql": pg_settings,
        "config": config,
        "results": results,
        "targets": targets,
        "verified": verified,
        "notes": notes,
        "runs": runs,
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
