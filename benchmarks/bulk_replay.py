"""bulk-replay: ``POST /v1/deadletters/replays`` of ``--dead-letters`` dead letters.

The dead letters are made by the engine itself, once per database: ``crossdock serve`` (with
its workers) and a route (``on_dead_letter: skip``) to the sink while the sink answers 400,
so every delivery fails permanently at its first attempt and the worker writes its dead
letter exactly as in production (``hub/deliveries/store.py``, ``_dead_letter``). The server
stops; that database is the template, and every measured run works on a copy of it.

A run: ``crossdock serve`` on the copy, the sink now answering 200, then one bulk replay of
the route's open dead letters. Measured: the job's own rate (``processed`` over its
``finished_at - started_at``), the wall time from the ``POST`` until ``GET
/v1/deadletters/replays/{id}`` says ``done`` (polled every 20 ms) and, in the first round,
the time until the sink had every message again. The workers deliver while the job runs, as
they would in production: both go through the process's one group committer.

Diagnostic, same run: the same job on a copy whose route was paused first (``crossdock
routes pause``), so that nothing is delivered beside it.

Baseline, same run: the same state changes as plain SQL on another copy, in chunks of the
job's size (500), one transaction per chunk, through the hub's own engine settings: select
the next open dead letters of the route, set their deliveries back to pending with a fresh
attempt budget, mark the letters replayed. What the job costs above that is the hub's.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, text

from benchmarks import delivery, delivery_throughput
from benchmarks.common import (
    BenchmarkError,
    Options,
    background_cpu,
    crossdock_command,
    hub_server,
    median,
    ratio,
    write_result,
)
from hub.store.database import create_hub_engine

NAME = "bulk-replay"
TARGET_PER_S = 2_000.0  # dead letters replayed per second (the job's rate)
CHUNK = 500  # JobRunner's default chunk size


def make_dead_letters(
    url: str, workdir: Path, the_sink: delivery.Sink, count: int, c: int
) -> dict[str, Any]:
    """``count`` dead letters written by the engine: every delivery answered 400."""
    events = delivery.keyed_events("d", count)
    bodies = delivery.batch_bodies(events)
    the_sink.control(reset=True, status=400)
    started = time.perf_counter()
    with hub_server(url, workdir, extra_env=delivery.QUIET) as hub:
        with delivery.api_client(hub.base_url) as api:
            delivery.create_route(api, the_sink.url, concurrency=c, on_dead_letter="skip")
        asyncio.run(delivery.post_batches(hub.base_url, bodies))
        deadline = time.monotonic() + 120 + count / 20
        while True:
            letters = delivery.dead_letter_counts(url)
            if letters.get("open", 0) >= count:
                break
            if time.monotonic() > deadline:
                raise BenchmarkError(f"only {letters} dead letters of {count} after the deadline")
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    rows = delivery._engine_query(
        url,
        "SELECT reason, error_class, last_status, count(*) FROM dead_letters "
        "GROUP BY reason, error_class, last_status",
    )
    kinds = [list(row) for row in rows]
    if kinds != [["permanent", "http_error", 400, count]]:
        raise BenchmarkError(f"unexpected dead letters: {kinds}")
    if url.startswith("sqlite"):
        delivery.checkpoint(url)
    return {"dead_letters": count, "seconds": round(seconds, 1), "kinds": kinds}


def sql_replay(url: str, route_id: str) -> dict[str, Any]:
    """The baseline: the job's state changes as plain SQL, one transaction per chunk."""
    engine = create_hub_engine(url)
    sqlite = url.startswith("sqlite")
    select_chunk = text(
        "SELECT id, delivery_id FROM dead_letters WHERE status = 'open' AND route_id = :route "
        "AND id > :cursor ORDER BY id LIMIT :limit"
    )
    requeue = text(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = :now, "
        "lease_owner = NULL, lease_expires_at = NULL WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    resolve = text(
        "UPDATE dead_letters SET status = 'replayed', resolved_at = :now, "
        "resolution = 'replayed by the SQL baseline', replay_delivery_id = delivery_id "
        "WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    replayed, cursor = 0, ""
    started = time.perf_counter()
    try:
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select_chunk, {"route": route_id, "cursor": cursor, "limit": CHUNK}
                ).all()
                if not rows:
                    break
                now = datetime.now(UTC)
                bound = now.replace(tzinfo=None) if sqlite else now
                conn.execute(requeue, {"now": bound, "ids": [r[1] for r in rows]})
                conn.execute(resolve, {"now": bound, "ids": [r[0] for r in rows]})
                replayed += len(rows)
                cursor = rows[-1][0]
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return {
        "replayed": replayed,
        "seconds": round(seconds, 3),
        "per_s": round(replayed / seconds, 1) if seconds else 0.0,
    }


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def hub_replay(
    url: str, workdir: Path, the_sink: delivery.Sink, count: int, wait_redelivered: bool
) -> dict[str, Any]:
    the_sink.control(reset=True, status=200, verify=delivery.VERIFY_FIRST)
    with (
        hub_server(url, workdir, extra_env=delivery.QUIET) as hub,
        delivery.api_client(hub.base_url) as api,
    ):
        posted_at = time.time()
        started = time.perf_counter()
        answer = api.post("/v1/deadletters/replays", json={"route": delivery.ROUTE, "limit": count})
        if answer.status_code != 202:
            raise BenchmarkError(
                f"POST /v1/deadletters/replays: {answer.status_code} {answer.text}"
            )
        job_id = answer.json()["id"]
        job = _wait_job(api, job_id, timeout=60 + count / 50)
        wall = time.perf_counter() - started
        redelivered: dict[str, Any] | None = None
        if wait_redelivered:
            stats = the_sink.wait_for(count, 60 + count / 20, "re-delivery")
            counts = delivery.wait_all_delivered(url, count)
            redelivered = {
                "seconds_after_post": round(stats["last_new_at"] - posted_at, 2),
                "deliveries_per_s": round(
                    stats["distinct_keys"] / (stats["last_new_at"] - stats["first_at"]), 1
                ),
                "delivery_statuses": counts,
                "signatures": delivery.signature_check(stats),
                "duplicates_at_sink": stats["duplicates"],
            }
    letters = delivery.dead_letter_counts(url)
    job_seconds = (_parse(job["finished_at"]) - _parse(job["started_at"])).total_seconds()
    ok = (
        job["status"] == "done"
        and job["processed"] == job["succeeded"] == job["total"] == count
        and job["failed"] == 0
        and letters == {"replayed": count}
    )
    if redelivered is not None:
        ok = (
            ok
            and redelivered["delivery_statuses"] == {"delivered": count}
            and redelivered["signatures"]["ok"]
        )
    return {
        "job": {k: job[k] for k in ("status", "total", "processed", "succeeded", "failed")},
        "job_seconds": round(job_seconds, 3),
        "queued_seconds": round(
            (_parse(job["started_at"]) - _parse(job["created_at"])).total_seconds(), 3
        ),
        "job_per_s": round(job["processed"] / job_seconds, 1) if job_seconds > 0 else 0.0,
        "post_to_done_seconds": round(wall, 3),
        "redelivered": redelivered,
        "verification": {"dead_letter_statuses": letters, "ok": ok},
    }


def _wait_job(api: httpx.Client, job_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = api.get(f"/v1/deadletters/replays/{job_id}")
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        if job["status"] in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise BenchmarkError(f"the replay job is still {job['status']}: {job}")
        time.sleep(0.02)


def _route_id(url: str) -> str:
    [(route_id,)] = delivery._engine_query(
        url, f"SELECT id FROM routes WHERE name = '{delivery.ROUTE}'"
    )
    return str(route_id)


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    notes: list[str] = []
    kinds, pg_settings = delivery_throughput.kinds_of(options, notes)
    count = options.dead_letters
    runs: list[dict[str, Any]] = []
    made: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp,
        delivery.sink(Path(tmp)) as the_sink,
    ):
        workdir = Path(tmp)
        for kind in kinds:
            with delivery.fresh_database(kind, workdir) as template:
                print(f"[{NAME}] {kind}: making {count:,} dead letters through the engine …")
                made[kind] = make_dead_letters(
                    template, workdir, the_sink, count, options.delivery_concurrency
                )
                print(f"[{NAME}]   {made[kind]}", flush=True)
                route_id = _route_id(template)
                for round_no in range(1, options.rounds + 1):
                    print(f"[{NAME}] round {round_no}/{options.rounds}: {kind} …", flush=True)
                    with delivery.database_copy(template, workdir) as url:
                        base = sql_replay(url, route_id)
                    runs.append({"target": f"sql-{kind}", "round": round_no, **base})
                    with delivery.database_copy(template, workdir) as url:
                        result = hub_replay(url, workdir, the_sink, count, round_no == 1)
                    runs.append({"target": f"hub-{kind}", "round": round_no, **result})
                    with delivery.database_copy(template, workdir) as url:
                        # The same job with nothing delivering beside it: the route paused.
                        crossdock_command(url, workdir, "routes", "pause", delivery.ROUTE)
                        alone = hub_replay(url, workdir, the_sink, count, False)
                    runs.append({"target": f"paused-{kind}", "round": round_no, **alone})
                    print(
                        f"[{NAME}]   SQL {base['per_s']:,.0f}/s; job {result['job_per_s']:,.0f}/s "
                        f"(route paused: {alone['job_per_s']:,.0f}/s) "
                        f"(POST→done {result['post_to_done_seconds']:.2f} s) "
                        f"re-delivered: {result['redelivered']}  "
                        f"verified: {result['verification']['ok']}",
                        flush=True,
                    )
    payload = summarise(options, kinds, runs, made, background, pg_settings, notes)
    write_result(NAME, payload)
    return payload


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    made: dict[str, dict[str, Any]],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    table: list[dict[str, str]] = []
    targets = []
    labels = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    count = options.dead_letters
    for kind in kinds:
        sql = {r["round"]: r["per_s"] for r in runs if r["target"] == f"sql-{kind}"}
        rows = [r for r in runs if r["target"] == f"hub-{kind}"]
        alone = [r for r in runs if r["target"] == f"paused-{kind}"]
        first = next(r for r in rows if r["redelivered"] is not None)["redelivered"]
        entry = {
            "sql_per_s": round(median(list(sql.values())), 1),
            "job_per_s": round(median([r["job_per_s"] for r in rows]), 1),
            "ratio_to_sql": round(
                median([ratio(r["job_per_s"], sql[r["round"]]) for r in rows]), 3
            ),
            "paused_job_per_s": round(median([r["job_per_s"] for r in alone]), 1),
            "paused_ratio_to_sql": round(
                median([ratio(r["job_per_s"], sql[r["round"]]) for r in alone]), 3
            ),
            "post_to_done_seconds": median([r["post_to_done_seconds"] for r in rows]),
            "queued_seconds": median([r["queued_seconds"] for r in rows]),
            "all_redelivered_after_seconds": first["seconds_after_post"],
            "redelivery_per_s": first["deliveries_per_s"],
        }
        results[kind] = entry
        met = entry["job_per_s"] >= TARGET_PER_S
        targets.append(
            {
                "what": f"bulk replay on {kind}: dead letters replayed/s (the job's rate)",
                "target": f">= {TARGET_PER_S:,.0f}/s",
                "measured": entry["job_per_s"],
                "met": met,
            }
        )
        table.extend(
            [
                {
                    "case": f"{labels[kind]}: the same changes as plain SQL, {CHUNK} per "
                    "transaction (baseline)",
                    "measured": delivery.rate_text(entry["sql_per_s"], "dead letters/s"),
                    "ratio": "1.00",
                },
                {
                    "case": f"{labels[kind]}: hub bulk replay job",
                    "measured": delivery.rate_text(entry["job_per_s"], "dead letters/s"),
                    "baseline": delivery.rate_text(entry["sql_per_s"], "dead letters/s"),
                    "ratio": f"{entry['ratio_to_sql']:.2f}",
                    "target": f">= {TARGET_PER_S:,.0f}/s",
                    "met": "yes"
                    if met
                    else f"**no** ({entry['job_per_s'] / TARGET_PER_S:.1%} of target)",
                },
                {
                    "case": f"{labels[kind]}: the same job, route paused (nothing delivering "
                    "beside it; diagnostic)",
                    "measured": delivery.rate_text(entry["paused_job_per_s"], "dead letters/s"),
                    "baseline": delivery.rate_text(entry["sql_per_s"], "dead letters/s"),
                    "ratio": f"{entry['paused_ratio_to_sql']:.2f}",
                    "target": "none (reported)",
                },
            ]
        )
        notes.append(
            f"{kind}: POST → job `done` {entry['post_to_done_seconds']:.2f} s for {count:,} "
            f"dead letters, of which {entry['queued_seconds']:.2f} s before the job started "
            f"(created_at → started_at); all {count:,} re-delivered "
            f"{entry['all_redelivered_after_seconds']:.1f} s after the POST (re-delivery at "
            f"{entry['redelivery_per_s']:,.0f} deliveries/s, first round); making them took "
            f"{made[kind]['seconds']:.0f} s through the engine"
        )
    hub_runs = [r for r in runs if not r["target"].startswith("sql-")]
    verification = (
        f"{len(hub_runs)} replay jobs of {count:,}: each `done` with processed = succeeded = "
        "total and no failure, every dead letter `replayed`; in the first round of each "
        "database every message re-delivered (`delivered`, once per key at the sink, "
        "signatures verified)."
    )
    return delivery.payload(
        NAME,
        headline=(
            f"{count:,} open dead letters (HTTP 400, made by the engine) replayed by one "
            f"`POST /v1/deadletters/replays` on `crossdock serve` with its workers, median of "
            f"{options.rounds} round(s)."
        ),
        table=table,
        targets=targets,
        runs=runs,
        results=results,
        config={
            "dead_letters": count,
            "chunk": CHUNK,
            "rounds": options.rounds,
            "made": made,
            "job_rate": "processed / (finished_at - started_at) of the job",
            "poll": "GET /v1/deadletters/replays/{id} every 20 ms",
        },
        background=background,
        pg_settings=pg_settings,
        notes=notes,
        verification=verification,
    )
