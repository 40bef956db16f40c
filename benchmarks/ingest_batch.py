"""ingest-batch: 500-message batches to ``POST /v1/messages/batch`` from concurrent clients.

A Python load generator (httpx, a few asyncio tasks on one keep-alive connection each)
posts pre-built request bodies: every message a 5-line reservation with a unique id, each
body made before the clock starts (splicing ids into one serialised event, so the loop
measures the server, not a JSON generator). The baseline is the same bodies posted to the
bare endpoint in the same run. Each request started before the deadline is allowed to
finish, so afterwards nothing is in flight and the stored count must equal the accepted
count exactly.

The hub's pool of bodies is sized from its warm-up rate (twice what the warm-up suggests);
if the hub is faster than that and runs out, the run ends early and says so. The bare
endpoint does not store anything, so it cycles through a small pool.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks import profiling
from benchmarks.common import (
    ADMIN_KEY,
    BenchmarkError,
    Options,
    Server,
    add_postgres,
    background_cpu,
    bare_server,
    event_template,
    hub_server,
    machine_info,
    median,
    postgres_database,
    ratio,
    sqlite_url,
    stored_count,
    today,
    write_result,
    write_text,
)

NAME = "ingest-batch"
TARGETS = {"hub-sqlite": 20_000.0, "hub-postgresql": 10_000.0}  # messages/s
# "-2p": `crossdock serve` with CROSSDOCK_WEB_CONCURRENCY=2, one process per core of these
# 2-core machines; the batch load generator needs little CPU, the hub two cores' worth.
PROCESSES = {"": 1, "-2p": 2}
BARE_POOL = 16  # batches the bare endpoint cycles through
WARMUP_POOL_RATE = 40_000  # messages/s the warm-up pool could feed
MAX_POOL_BATCHES = 1_600  # about 1.5 GB of bodies: the cap on what a pool may hold
CONTENT_TYPE = "application/cloudevents-batch+json"


def build_bodies(phase: str, count: int, batch_size: int) -> list[bytes]:
    """``count`` JSON arrays of ``batch_size`` events, ids ``<phase>-<batch>-<n>``."""
    prefix, suffix = event_template()
    bodies = []
    for batch in range(count):
        events = [prefix + f"{phase}-{batch}-{n}".encode() + suffix for n in range(batch_size)]
        bodies.append(b"[" + b",".join(events) + b"]")
    return bodies


@dataclass
class Load:
    """What one timed phase did."""

    seconds: float = 0.0
    requests: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    exhausted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def messages_per_s(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]

    def digest(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "messages_per_s": round(self.messages_per_s, 1),
            "requests": self.requests,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency_ms": {
                "p50": round(self.percentile(50) * 1000, 1),
                "p99": round(self.percentile(99) * 1000, 1),
                "max": round(max(self.latencies, default=0.0) * 1000, 1),
            },
            "pool_exhausted": self.exhausted,
            "transport_errors": self.errors,
        }


async def drive(
    url: str,
    bodies: list[bytes],
    duration: float,
    concurrency: int,
    batch_size: int,
    *,
    cycle: bool,
    hub: bool,
) -> Load:
    """Post ``bodies`` with ``concurrency`` tasks until ``duration`` has passed."""
    load = Load()
    position = 0
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": CONTENT_TYPE}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120.0, limits=limits, headers=headers) as client:

        async def worker(deadline: float) -> None:
            nonlocal position
            while time.perf_counter() < deadline:
                if position >= len(bodies) and not cycle:
                    load.exhausted = True
                    return
                body = bodies[position % len(bodies)]
                position += 1
                sent = time.perf_counter()
                try:
                    response = await client.post(url, content=body)
                except httpx.HTTPError as exc:
                    load.errors.append(f"{type(exc).__name__}: {exc}")
                    return
                load.latencies.append(time.perf_counter() - sent)
                load.requests += 1
                load.statuses[response.status_code] += 1
                if response.status_code != 200:
                    continue
                if hub:
                    answer = orjson.loads(response.content)
                    load.accepted += answer["accepted"]
                    load.duplicates += answer["duplicates"]
                    load.rejected += answer["rejected"]
                else:
                    load.accepted += batch_size

        started = time.perf_counter()
        await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
        load.seconds = time.perf_counter() - started
    return load


def _processes(kind: str) -> int:
    return PROCESSES["-2p"] if kind.endswith("-2p") else 1


def _base(kind: str) -> str:
    return kind.removesuffix("-2p")


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str | None]:
    kind = _base(kind)
    if kind == "bare":
        yield None
    elif kind == "hub-sqlite":
        yield sqlite_url(workdir)
    elif kind == "hub-postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(kind)


def _server(
    database_url: str | None, workdir: Path, processes: int = 1
) -> AbstractContextManager[Server]:
    if database_url is None:
        return bare_server(workdir)
    return hub_server(
        database_url, workdir, extra_env={"CROSSDOCK_WEB_CONCURRENCY": str(processes)}
    )


def measure(kind: str, options: Options, profile_to: Path | None = None) -> dict[str, Any]:
    hub = kind != "bare"
    size = options.batch_size
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
        _database(kind, Path(tmp)) as database_url,
    ):
        with _server(database_url, Path(tmp), _processes(kind)) as server:
            url = f"{server.base_url}/v1/messages/batch"
            warm_count = BARE_POOL if not hub else _pool(WARMUP_POOL_RATE * options.warmup, size)
            warm_bodies = build_bodies("w", warm_count, size)
            warm = asyncio.run(
                drive(
                    url,
                    warm_bodies,
                    options.warmup,
                    options.concurrency,
                    size,
                    cycle=not hub,
                    hub=hub,
                )
            )
            if hub:
                # Twice what the warm-up rate suggests, and at least a few batches per client.
                planned = 2 * max(warm.messages_per_s, 1000.0) * options.duration
                bodies = build_bodies("m", _pool(planned, size, options.concurrency * 4), size)
            else:
                bodies = warm_bodies
            del warm_bodies
            recorder = None
            if profile_to is not None:
                recorder = profiling.start_record(server.process.pid, options.duration, profile_to)
                time.sleep(0.5)  # py-spy attaches
            main = asyncio.run(
                drive(
                    url, bodies, options.duration, options.concurrency, size, cycle=not hub, hub=hub
                )
            )
            if recorder is not None:
                _, err = recorder.communicate(timeout=60)
                if recorder.returncode != 0:
                    raise BenchmarkError(f"py-spy failed: {err.decode(errors='replace')}")
            body_bytes = len(bodies[0])
            del bodies
        result: dict[str, Any] = {
            "target": kind,
            **main.digest(),
            "warmup": warm.digest(),
            "body_bytes": body_bytes,
        }
        if database_url is not None:
            stored = stored_count(database_url)
            expected = warm.accepted + main.accepted
            sent = (warm.requests + main.requests) * size
            result["verification"] = {
                "accepted_incl_warmup": expected,
                "stored": stored,
                "messages_sent": sent,
                "ok": stored == expected == sent
                and set(main.statuses) == {200}
                and main.duplicates == main.rejected == 0
                and not main.errors,
            }
        elif set(main.statuses) != {200} or main.errors:
            result["verification"] = {"ok": False, "why": "the bare endpoint answered non-200"}
        return result


def _pool(messages: float, batch_size: int, minimum: int = 4) -> int:
    return min(MAX_POOL_BATCHES, max(minimum, math.ceil(messages / batch_size)))


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    kinds = ["bare", "hub-sqlite", "hub-sqlite-2p"]
    notes: list[str] = []
    pg_settings = add_postgres(NAME, options, kinds, "hub-postgresql", notes)
    if "hub-postgresql" in kinds:
        kinds.append("hub-postgresql-2p")
    runs: list[dict[str, Any]] = []
    for round_no in range(1, options.rounds + 1):
        for kind in kinds:
            print(f"[{NAME}] round {round_no}/{options.rounds}: {kind} …", flush=True)
            result = measure(kind, options)
            result["round"] = round_no
            runs.append(result)
            print(
                f"[{NAME}]   {result['messages_per_s']:>9,.0f} msg/s  "
                f"p99 {result['latency_ms']['p99']:.0f} ms per batch"
                + (
                    f"  verified: {result['verification']['ok']}"
                    if "verification" in result
                    else ""
                )
                + ("  (pool exhausted)" if result["pool_exhausted"] else ""),
                flush=True,
            )
    profile = _profile(options) if options.profile else None
    if any(r["pool_exhausted"] for r in runs):
        notes.append("a hub run used up its pre-built bodies and ended early (rate still valid)")
    payload = summarise(options, kinds, runs, background, pg_settings, notes)
    if profile is not None:
        payload["profile"] = profile
    write_result(NAME, payload)
    return payload


def _profile(options: Options) -> dict[str, Any]:
    """A separate, unmeasured hub-sqlite run under py-spy; top functions by samples."""
    print(f"[{NAME}] profiling hub-sqlite with py-spy …", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        collapsed = Path(tmp) / "hub-sqlite.collapsed"
        result = measure("hub-sqlite", options, collapsed)
        analysed = profiling.analyse(collapsed).summary()
    text = profiling.render(
        analysed,
        f"py-spy of the hub (SQLite) under {options.concurrency} clients posting "
        f"{options.batch_size}-message batches, {result['messages_per_s']:.0f} msg/s while sampled",
    )
    path = write_text(f"{NAME}-profile.txt", text)
    print(f"[{NAME}] profile written to {path}")
    return {"messages_per_s_while_sampled": result["messages_per_s"], **analysed}


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    bare_by_round = {r["round"]: r["messages_per_s"] for r in runs if r["target"] == "bare"}
    per_target: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        rows = [r for r in runs if r["target"] == kind]
        entry: dict[str, Any] = {
            "messages_per_s": round(median([r["messages_per_s"] for r in rows]), 1),
            "p99_batch_ms": round(median([r["latency_ms"]["p99"] for r in rows]), 1),
        }
        if kind != "bare":
            entry["ratio_to_bare"] = round(
                median([ratio(r["messages_per_s"], bare_by_round[r["round"]]) for r in rows]), 3
            )
        per_target[kind] = entry
    targets = [
        {
            "what": f"{kind}, messages/s",
            "target": f">= {goal:,.0f}",
            "measured": per_target[kind]["messages_per_s"],
            "met": per_target[kind]["messages_per_s"] >= goal,
        }
        for kind in per_target
        if (goal := TARGETS.get(_base(kind))) is not None
    ]
    bare = per_target["bare"]
    table = [
        {
            "case": f"bare endpoint, {options.batch_size}-message batches (baseline)",
            "measured": f"{bare['messages_per_s']:,.0f} msg/s",
            "ratio": "1.00",
            "p99": f"{bare['p99_batch_ms']:.0f} ms/batch",
        }
    ]
    labels = {"hub-sqlite": "hub, SQLite", "hub-postgresql": "hub, PostgreSQL"}
    for target in targets:
        kind = target["what"].split(",")[0]
        entry = per_target[kind]
        processes = _processes(kind)
        table.append(
            {
                "case": labels[_base(kind)]
                + (f", {processes} serve processes" if processes > 1 else ", 1 process"),
                "measured": f"{entry['messages_per_s']:,.0f} msg/s",
                "baseline": f"{bare['messages_per_s']:,.0f} msg/s",
                "ratio": f"{entry['ratio_to_bare']:.2f}",
                "p99": f"{entry['p99_batch_ms']:.0f} ms/batch",
                "target": f"{target['target']} msg/s",
                "met": "yes"
                if target["met"]
                else f"**no** ({entry['messages_per_s'] / TARGETS[_base(kind)]:.0%} of target)",
            }
        )
    checked = [r["verification"] for r in runs if "stored" in r.get("verification", {})]
    verified = all(r.get("verification", {}).get("ok", True) for r in runs)
    verification = (
        f"Verification {'passed' if verified else '**FAILED**'}: "
        f"{sum(v['stored'] for v in checked):,} messages stored for "
        f"{sum(v['accepted_incl_warmup'] for v in checked):,} accepted and "
        f"{sum(v['messages_sent'] for v in checked):,} sent (warm-ups included)."
    )
    return {
        "benchmark": NAME,
        "date": today(),
        "verification": verification,
        "headline": (
            f"`POST /v1/messages/batch`, {options.batch_size} 5-line reservations per batch, "
            f"{options.concurrency} concurrent httpx clients, {options.duration:g} s after "
            f"{options.warmup:g} s warm-up, median of {options.rounds} round(s)."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "postgresql": pg_settings,
        "config": {
            "load_generator": f"httpx.AsyncClient, {options.concurrency} tasks, keep-alive",
            "batch_size": options.batch_size,
            "warmup_s": options.warmup,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "message": "reservation 1.0, 5 lines, unique CloudEvent id per message",
            "uvicorn": "uvloop, httptools, 1 process, access log off",
            "hub_settings": "defaults (SQLite synchronous=FULL, WAL; 1 MiB request limit)",
        },
        "results": per_target,
        "targets": targets,
        "verified": verified,
        "notes": notes,
        "runs": runs,
    }
