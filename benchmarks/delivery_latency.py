"""delivery-latency: accepted → delivered at half the maximum delivery rate, open loop.

``crossdock serve`` with its in-process workers (the default deployment: one process that
accepts and delivers) on a fresh database, a webhook connection and a route to the sink. A
load generator posts 10-message batches (``POST /v1/messages/batch``) on a fixed schedule,
whatever the answers (open loop), at half the maximum delivery rate: the hub's rate on that
database in ``results/delivery-throughput.json`` when it exists, else one drain measured
first in this run. ``--warmup`` seconds of messages are posted first and left out; then
``--duration`` seconds are measured.

Per delivery, the hub's own figure: ``delivered_at - accepted_at`` from the ``deliveries``
table (the same number ``GET /v1/messages/{key}/deliveries`` reports as ``latency_ms``; a
sample is read through the API and compared). Also reported: client send → first arrival
at the sink (end to end, including ingest).

Baseline, same run: a bare ``httpx.AsyncClient`` posting the same signed bodies straight to
the sink at the same message rate, open loop: one HTTP hop, the floor of any delivery.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks import delivery, delivery_throughput
from benchmarks.common import (
    ADMIN_KEY,
    RESULTS_DIR,
    BenchmarkError,
    CpuMeter,
    Options,
    background_cpu,
    hub_server,
    median,
    ratio,
    write_result,
)
from hub.deliveries.models import Delivery
from hub.messages.models import Message
from hub.store.database import create_hub_engine

NAME = "delivery-latency"
TARGET_P99_MS = 50.0
BATCH = 10  # messages per request
API_SAMPLE = 20  # deliveries whose latency_ms is read through the API and compared


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 2),
        "p90": round(percentile(values, 90), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values, default=0.0), 2),
    }


@dataclass
class Sent:
    at: float  # time.time() when the request went out
    seconds: float = 0.0  # its round trip
    keys: list[str] = field(default_factory=list)
    status: int = 0


async def open_loop(
    url: str,
    bodies: list[tuple[bytes, dict[str, str]]],
    interval: float,
    parse_keys: bool,
) -> list[Sent]:
    """Send ``bodies`` one every ``interval`` seconds, without waiting for answers."""
    sent = [Sent(0.0) for _ in bodies]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def post(index: int) -> None:
            body, headers = bodies[index]
            record = sent[index]
            record.at = time.time()
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                record.status = -1
                return
            record.seconds = time.perf_counter() - started
            record.status = response.status_code
            if parse_keys and response.status_code == 200:
                results = orjson.loads(response.content)["results"]
                record.keys = [r["key"] for r in results if r.get("status") == "accepted"]

        tasks = []
        start = time.perf_counter()
        for index in range(len(bodies)):
            delay = start + index * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(index)))
        await asyncio.gather(*tasks)
    return sent


def max_rate(kind: str, options: Options, notes: list[str]) -> tuple[float, str]:
    """The hub's maximum deliveries/s on ``kind``: delivery-throughput's, or measured now."""
    path = RESULTS_DIR / f"{delivery_throughput.NAME}.json"
    if path.exists():
        previous = orjson.loads(path.read_bytes())
        entry = previous.get("results", {}).get(f"hub-{kind}")
        if entry:
            rate = float(entry["deliveries_per_s"])
            return rate, f"{delivery_throughput.NAME} of {previous['date']}"
    print(f"[{NAME}] no {delivery_throughput.NAME} result for {kind}: measuring one drain …")
    rate = delivery_throughput.measure_hub(kind, options)
    notes.append(f"{kind}: maximum rate measured by one drain in this run ({rate:.0f}/s)")
    return rate, "one drain in this run"


def _schedule(rate: float, options: Options) -> tuple[int, int, float]:
    """(warm-up batches, measured batches, seconds between batches) for ``rate`` messages/s."""
    interval = BATCH / rate
    warm = max(1, math.ceil(options.warmup / interval))
    measured = max(1, math.ceil(options.duration / interval))
    return warm, measured, interval


def measure_hub(
    kind: str, rate: float, options: Options, workdir: Path, the_sink: delivery.Sink
) -> dict[str, Any]:
    warm_batches, batches, interval = _schedule(rate, options)
    events = delivery.keyed_events("w", warm_batches * BATCH) + delivery.keyed_events(
        "m", batches * BATCH
    )
    headers = {
        "Authorization": f"Bearer {ADMIN_KEY}",
        "Content-Type": "application/cloudevents-batch+json",
    }
    bodies = [(body, headers) for body in delivery.batch_bodies(events, BATCH)]
    the_sink.control(reset=True, verify=delivery.VERIFY_FIRST, status=200)
    with delivery.fresh_database(kind, workdir) as url:
        with hub_server(url, workdir, extra_env=delivery.QUIET) as hub:
            with delivery.api_client(hub.base_url) as api:
                delivery.create_route(api, the_sink.url, concurrency=options.delivery_concurrency)
            meter = CpuMeter()
            meter.watch("hub", hub.process.pid)
            meter.watch("sink", the_sink.pid)
            meter.start()
            sent = asyncio.run(
                open_loop(f"{hub.base_url}/v1/messages/batch", bodies, interval, True)
            )
            cpu = meter.stop()
            total = sum(len(s.keys) for s in sent)
            stats = the_sink.wait_for(total, 60 + total / 50, "latency run")
            counts = delivery.wait_all_delivered(url, total)
            with delivery.api_client(hub.base_url) as api:
                api_sample = _api_latencies(api, [k for s in sent[warm_batches:] for k in s.keys])
        rows = _latencies_from_database(url)
    arrivals = the_sink.arrivals()
    measured = sent[warm_batches:]
    hub_ms = [rows[k][0] for s in measured for k in s.keys if k in rows]
    claim_ms = [rows[k][1] for s in measured for k in s.keys if k in rows]
    send_ms = [rows[k][0] - rows[k][1] for s in measured for k in s.keys if k in rows]
    e2e_ms = [(arrivals[k] - s.at) * 1000 for s in measured for k in s.keys if k in arrivals]
    ingest_ms = [s.seconds * 1000 for s in measured if s.status == 200]
    mismatches = [k for k, v in api_sample.items() if k not in rows or abs(v - rows[k][0]) > 0.5]
    statuses = sorted({s.status for s in sent})
    slip = max(s.at - (sent[0].at + index * interval) for index, s in enumerate(sent))
    ok = (
        statuses == [200]
        and total == len(events)
        and counts == {"delivered": total}
        and len(hub_ms) == batches * BATCH
        and not mismatches
        and delivery.signature_check(stats)["ok"]
    )
    return {
        "offered_messages_per_s": round(rate, 1),
        "messages_measured": len(hub_ms),
        "accepted_to_delivered_ms": spread(hub_ms),
        "accepted_to_claimed_ms": spread(claim_ms),
        "claimed_to_delivered_ms": spread(send_ms),
        "send_to_sink_ms": spread(e2e_ms),
        "ingest_batch_round_trip_ms": spread(ingest_ms),
        "schedule_slip_s": round(slip, 3),
        "cpu_cores": cpu,
        "sink": {k: stats[k] for k in ("requests", "distinct_keys", "duplicates", "connections")},
        "verification": {
            "answer_statuses": statuses,
            "accepted": total,
            "posted": len(events),
            "delivery_statuses": counts,
            "api_sample": len(api_sample),
            "api_mismatches": mismatches,
            "signatures": delivery.signature_check(stats),
            "ok": ok,
        },
    }


def _latencies_from_database(url: str) -> dict[str, tuple[float, float]]:
    """Message key → (delivered_at - accepted_at, first_attempt_at - accepted_at) in ms,
    for the measured messages (ids ``m-…``)."""
    engine = create_hub_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(
                    Delivery.message_key,
                    Delivery.accepted_at,
                    Delivery.first_attempt_at,
                    Delivery.delivered_at,
                )
                .join(Message, Message.key == Delivery.message_key)
                .where(Message.event_id.startswith("m-"), Delivery.delivered_at.is_not(None))
            ).all()
    finally:
        engine.dispose()
    return {
        key: (
            (delivered - accepted).total_seconds() * 1000,
            (claimed - accepted).total_seconds() * 1000,
        )
        for key, accepted, claimed, delivered in rows
        if delivered is not None and claimed is not None
    }


def _api_latencies(api: httpx.Client, keys: list[str]) -> dict[str, float]:
    """``latency_ms`` of a spread sample of deliveries, read through the API."""
    if not keys:
        return {}
    step = max(1, len(keys) // API_SAMPLE)
    found: dict[str, float] = {}
    for key in keys[::step][:API_SAMPLE]:
        response = api.get(f"/v1/messages/{key}/deliveries")
        if response.status_code != 200:
            raise BenchmarkError(f"GET deliveries of {key}: {response.status_code}")
        [item] = response.json()["items"]
        if item["latency_ms"] is not None:
            found[key] = float(item["latency_ms"])
    return found


def measure_bare(rate: float, options: Options, the_sink: delivery.Sink) -> dict[str, Any]:
    """Single signed POSTs straight to the sink at ``rate`` per second, open loop."""
    warm = max(1, math.ceil(options.warmup * rate))
    count = max(1, math.ceil(options.duration * rate))
    requests = delivery.bare_requests(delivery.keyed_events("b", warm + count))
    the_sink.control(reset=True, verify=delivery.VERIFY_FIRST, status=200)
    sent = asyncio.run(open_loop(the_sink.url, requests, 1.0 / rate, False))
    stats = the_sink.stats()
    measured = [s.seconds * 1000 for s in sent[warm:] if s.status == 200]
    return {
        "offered_messages_per_s": round(rate, 1),
        "messages_measured": len(measured),
        "round_trip_ms": spread(measured),
        "verification": {
            "answer_statuses": sorted({s.status for s in sent}),
            "ok": {s.status for s in sent} == {200} and stats["distinct_keys"] == len(sent),
        },
    }


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    notes: list[str] = []
    kinds, pg_settings = delivery_throughput.kinds_of(options, notes)
    rates: dict[str, float] = {}
    sources: dict[str, str] = {}
    for kind in kinds:
        maximum, sources[kind] = max_rate(kind, options, notes)
        rates[kind] = maximum / 2
    runs: list[dict[str, Any]] = []
    bare_rate = median(list(rates.values()))
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp,
        delivery.sink(Path(tmp)) as the_sink,
    ):
        for round_no in range(1, options.rounds + 1):
            print(f"[{NAME}] round {round_no}/{options.rounds}: bare …", flush=True)
            bare = {
                "target": "bare",
                "round": round_no,
                **measure_bare(bare_rate, options, the_sink),
            }
            runs.append(bare)
            print(f"[{NAME}]   round trip {bare['round_trip_ms']}", flush=True)
            for kind in kinds:
                print(
                    f"[{NAME}] round {round_no}/{options.rounds}: hub-{kind} at "
                    f"{rates[kind]:.0f} msg/s …",
                    flush=True,
                )
                result = measure_hub(kind, rates[kind], options, Path(tmp), the_sink)
                runs.append({"target": f"hub-{kind}", "round": round_no, **result})
                print(
                    f"[{NAME}]   accepted→delivered {result['accepted_to_delivered_ms']}  "
                    f"verified: {result['verification']['ok']}",
                    flush=True,
                )
    payload = summarise(options, kinds, runs, rates, sources, background, pg_settings, notes)
    write_result(NAME, payload)
    return payload


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    rates: dict[str, float],
    sources: dict[str, str],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    bare_runs = [r for r in runs if r["target"] == "bare"]
    bare_p99 = {r["round"]: r["round_trip_ms"]["p99"] for r in bare_runs}
    results: dict[str, dict[str, Any]] = {
        "bare": {
            "offered_messages_per_s": bare_runs[0]["offered_messages_per_s"],
            "p50_ms": median([r["round_trip_ms"]["p50"] for r in bare_runs]),
            "p99_ms": median([r["round_trip_ms"]["p99"] for r in bare_runs]),
        }
    }
    for kind in kinds:
        rows = [r for r in runs if r["target"] == f"hub-{kind}"]
        results[f"hub-{kind}"] = {
            "offered_messages_per_s": round(rates[kind], 1),
            "max_rate_from": sources[kind],
            "p50_ms": median([r["accepted_to_delivered_ms"]["p50"] for r in rows]),
            "p99_ms": median([r["accepted_to_delivered_ms"]["p99"] for r in rows]),
            "max_ms": median([r["accepted_to_delivered_ms"]["max"] for r in rows]),
            "send_to_sink_p99_ms": median([r["send_to_sink_ms"]["p99"] for r in rows]),
            "accepted_to_claimed_p50_p99_ms": [
                median([r["accepted_to_claimed_ms"][p] for r in rows]) for p in ("p50", "p99")
            ],
            "claimed_to_delivered_p50_p99_ms": [
                median([r["claimed_to_delivered_ms"][p] for r in rows]) for p in ("p50", "p99")
            ],
            "ingest_p99_ms": median([r["ingest_batch_round_trip_ms"]["p99"] for r in rows]),
            "ratio_p99_to_bare": round(
                median(
                    [
                        ratio(r["accepted_to_delivered_ms"]["p99"], bare_p99[r["round"]])
                        for r in rows
                    ]
                ),
                1,
            ),
            "hub_cpu_cores": median([r["cpu_cores"]["hub"] for r in rows]),
        }
    bare = results["bare"]
    table = [
        {
            "case": f"bare httpx POST to the sink, {bare['offered_messages_per_s']:.0f}/s "
            "(baseline: one hop)",
            "measured": f"p50 {bare['p50_ms']:.1f} ms",
            "ratio": "1.0",
            "p99": f"{bare['p99_ms']:.1f} ms",
        }
    ]
    targets = []
    labels = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    for kind in kinds:
        entry = results[f"hub-{kind}"]
        met = entry["p99_ms"] <= TARGET_P99_MS
        targets.append(
            {
                "what": f"hub on {kind}: accepted → delivered p99 at half the maximum rate",
                "target": f"<= {TARGET_P99_MS:g} ms",
                "measured": entry["p99_ms"],
                "met": met,
            }
        )
        table.append(
            {
                "case": f"hub, {labels[kind]}, `serve` with workers, "
                f"{entry['offered_messages_per_s']:.0f} msg/s: accepted → delivered",
                "measured": f"p50 {entry['p50_ms']:.1f} ms",
                "baseline": f"p99 {bare['p99_ms']:.1f} ms",
                "ratio": f"{entry['ratio_p99_to_bare']:.1f}",
                "p99": f"{entry['p99_ms']:.1f} ms",
                "target": f"p99 <= {TARGET_P99_MS:g} ms",
                "met": "yes" if met else f"**no** ({entry['p99_ms'] / TARGET_P99_MS:.2f}x)",
            }
        )
        notes.append(
            f"{kind}: offered {entry['offered_messages_per_s']:.0f} msg/s = half of the maximum "
            f"from {entry['max_rate_from']}; accepted → claimed p50/p99 "
            f"{entry['accepted_to_claimed_p50_p99_ms'][0]:.1f}/"
            f"{entry['accepted_to_claimed_p50_p99_ms'][1]:.1f} ms, claimed → delivered "
            f"{entry['claimed_to_delivered_p50_p99_ms'][0]:.1f}/"
            f"{entry['claimed_to_delivered_p50_p99_ms'][1]:.1f} ms; client send → sink arrival p99 "
            f"{entry['send_to_sink_p99_ms']:.1f} ms; ingest (10-message batch) round trip p99 "
            f"{entry['ingest_p99_ms']:.1f} ms; the hub process used "
            f"{entry['hub_cpu_cores']:.2f} cores"
        )
    hub_runs = [r for r in runs if r["target"].startswith("hub-")]
    verification = (
        f"{sum(r['messages_measured'] for r in hub_runs):,} measured deliveries (warm-up "
        "excluded), every posted message accepted and `delivered`; "
        f"{sum(r['verification']['api_sample'] for r in hub_runs)} sampled `latency_ms` read "
        "through `GET /v1/messages/{key}/deliveries` all equal to the database's figure."
    )
    return delivery.payload(
        NAME,
        headline=(
            f"Open loop, {BATCH}-message batches at half the maximum delivery rate, "
            f"{options.warmup:g} s warm-up then {options.duration:g} s measured, "
            f"median of {options.rounds} round(s). Ratio: hub p99 / bare p99."
        ),
        table=table,
        targets=targets,
        runs=runs,
        results=results,
        config={
            "batch": BATCH,
            "warmup_s": options.warmup,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "rates": rates,
            "hub": "crossdock serve, workers in process (defaults), fresh database per run, "
            "route on `*` to the sink, on_dead_letter skip",
            "latency": "deliveries.delivered_at - deliveries.accepted_at (= latency_ms of "
            "GET /v1/messages/{key}/deliveries)",
        },
        background=background,
        pg_settings=pg_settings,
        notes=notes,
        verification=verification,
    )
