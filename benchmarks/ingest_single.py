"""ingest-single: ``POST /v1/messages`` with a 5-line reservation, driven by wrk.

For each target (the bare endpoint, the hub on SQLite, the hub on PostgreSQL) a fresh
server process is started under the same uvicorn configuration (uvloop, httptools, one
process, no access log), warmed up, then loaded by ``wrk -t1 -c64`` for the measured
duration. Every request carries a unique CloudEvent id (see wrk_post.lua), so the hub takes
its real path: check, group commit, 202. Afterwards every key the hub answered 202 with is
looked up in the database: a benchmark that loses an accepted message fails.

Rounds interleave the targets (bare, SQLite, PostgreSQL, bare, …) and the hub/bare ratio is
taken within each round, so background load on the machine hits both sides of a ratio.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import orjson

from benchmarks import profiling
from benchmarks.common import (
    ADMIN_KEY,
    BENCH_DIR,
    ID_PLACEHOLDER,
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
    stored_keys,
    today,
    write_result,
    write_text,
)

NAME = "ingest-single"
LUA = BENCH_DIR / "wrk_post.lua"
TARGET_RATIO = 0.5  # the hub on SQLite: at least half the bare endpoint's requests/s
WRK_TIMEOUT = "5s"
INSTALL_WRK = "wrk is not installed. Install it with:  apt-get install -y wrk  (Debian/Ubuntu)"


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchmarkError(INSTALL_WRK)
    return found


def run_wrk(
    url: str, template: Path, phase: str, duration: float, connections: int, workdir: Path
) -> tuple[dict[str, Any], list[str]]:
    """One wrk run; its Lua summary and the keys of the 202 answers."""
    out = workdir / f"wrk-{phase}-{uuid.uuid4().hex[:8]}.json"
    summary = wrk(url, LUA, [str(template), phase, str(out), ADMIN_KEY], out, duration, connections)
    keys = out.with_name(out.name + ".keys").read_text().split()
    return summary, keys


def wrk(
    url: str, script: Path, args: list[str], out: Path, duration: float, connections: int
) -> dict[str, Any]:
    """``wrk -t1`` with a Lua ``script`` that writes its JSON summary to ``out``."""
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        WRK_TIMEOUT,
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"wrk did not finish: {exc}") from exc
    if done.returncode != 0 or not out.exists():
        raise BenchmarkError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary: dict[str, Any] = orjson.loads(out.read_bytes())
    return summary


def _digest(summary: dict[str, Any]) -> dict[str, Any]:
    seconds = summary["duration_us"] / 1e6
    statuses = {str(k): int(v) for k, v in summary["statuses"].items()}
    accepted = statuses.get("202", 0)
    latency = {k: round(v / 1000.0, 2) for k, v in summary["latency_us"].items()}
    return {
        "seconds": round(seconds, 3),
        "requests_per_s": round(accepted / seconds, 1) if seconds else 0.0,
        "responses": summary["requests"],
        "accepted_202": accepted,
        "other_statuses": {k: v for k, v in statuses.items() if k != "202"},
        "socket_errors": summary["errors"],
        "sent": summary["sent"],
        "latency_ms": latency,
    }


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str | None]:
    """The database of ``kind`` (bare, hub-sqlite, hub-postgresql), dropped afterwards."""
    if kind == "bare":
        yield None
    elif kind == "hub-sqlite":
        yield sqlite_url(workdir)
    elif kind == "hub-postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(kind)


def _server(database_url: str | None, workdir: Path) -> AbstractContextManager[Server]:
    return bare_server(workdir) if database_url is None else hub_server(database_url, workdir)


def _verify(database_url: str, keys: list[str], main: dict[str, Any], warm: int) -> dict[str, Any]:
    """Every 202 of the measured run is a stored message; nothing but in-flight extra."""
    stored = stored_keys(database_url, "m-")
    acked = set(keys)
    missing = len(acked - stored)
    unanswered = len(stored - acked)
    in_flight = main["sent"] - main["responses"]
    total = stored_count(database_url)
    ok = (
        missing == 0
        and len(acked) == len(keys) == main["accepted_202"]
        and not main["other_statuses"]
        and 0 <= unanswered <= in_flight
    )
    return {
        "accepted_202": main["accepted_202"],
        "distinct_keys": len(acked),
        "stored_measured_run": len(stored),
        "missing_from_store": missing,
        "stored_but_unanswered": unanswered,
        "in_flight_when_wrk_stopped": in_flight,
        "stored_total": total,
        "accepted_total_incl_warmup": warm + main["accepted_202"],
        "ok": ok,
    }


def measure(
    kind: str, options: Options, template: Path, profile_dir: Path | None
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
        _database(kind, Path(tmp)) as database_url,
    ):
        workdir = Path(tmp)
        with _server(database_url, workdir) as server:
            url = f"{server.base_url}/v1/messages"
            warm, _ = run_wrk(url, template, "w", options.warmup, options.connections, workdir)
            recorder = None
            if profile_dir is not None:
                recorder = profiling.start_record(
                    server.process.pid, options.duration, profile_dir / f"{kind}.collapsed"
                )
                time.sleep(0.5)  # py-spy attaches
            summary, keys = run_wrk(
                url, template, "m", options.duration, options.connections, workdir
            )
            if recorder is not None:
                _, err = recorder.communicate(timeout=60)
                if recorder.returncode != 0:
                    raise BenchmarkError(f"py-spy failed: {err.decode(errors='replace')}")
        # The server has stopped (the hub committed what was queued): now count.
        result = {"target": kind, **_digest(summary)}
        warm_digest = _digest(warm)
        result["warmup"] = {
            k: warm_digest[k] for k in ("seconds", "requests_per_s", "accepted_202")
        }
        if database_url is not None:
            result["verification"] = _verify(
                database_url, keys, result, warm_digest["accepted_202"]
            )
        elif result["other_statuses"]:
            result["verification"] = {"ok": False, "why": "the bare endpoint answered non-202"}
        return result


def run(options: Options) -> dict[str, Any]:
    wrk_binary()
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    kinds = ["bare", "hub-sqlite"]
    notes: list[str] = []
    pg_settings = add_postgres(NAME, options, kinds, "hub-postgresql", notes)
    prefix, suffix = event_template()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        template = Path(tmp) / "event.json"
        template.write_bytes(prefix + ID_PLACEHOLDER.encode() + suffix)
        for round_no in range(1, options.rounds + 1):
            for kind in kinds:
                print(f"[{NAME}] round {round_no}/{options.rounds}: {kind} …", flush=True)
                result = measure(kind, options, template, None)
                result["round"] = round_no
                runs.append(result)
                print(
                    f"[{NAME}]   {result['requests_per_s']:>9,.0f} req/s  "
                    f"p99 {result['latency_ms']['p99']:.1f} ms"
                    + (
                        f"  verified: {result['verification']['ok']}"
                        if "verification" in result
                        else ""
                    ),
                    flush=True,
                )
        profile = _profile(options, template) if options.profile else None
    payload = summarise(options, kinds, runs, background, pg_settings, notes, len(prefix + suffix))
    if profile is not None:
        payload["profile"] = profile
    write_result(NAME, payload)
    return payload


def _profile(options: Options, template: Path) -> dict[str, Any]:
    """A separate, unmeasured hub-sqlite run under py-spy; top functions by samples."""
    print(f"[{NAME}] profiling hub-sqlite with py-spy …", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        folder = Path(tmp)
        result = measure("hub-sqlite", options, template, folder)
        analysed = profiling.analyse(folder / "hub-sqlite.collapsed").summary()
    text = profiling.render(
        analysed,
        f"py-spy of the hub (SQLite) under wrk -t1 -c{options.connections}, "
        f"{result['requests_per_s']:.0f} req/s while sampled",
    )
    out = write_text(f"{NAME}-profile.txt", text)
    print(f"[{NAME}] profile written to {out}")
    return {"requests_per_s_while_sampled": result["requests_per_s"], **analysed}


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
    body_bytes: int,
) -> dict[str, Any]:
    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in runs if r["target"] == kind]

    per_target: dict[str, dict[str, Any]] = {}
    bare_by_round = {r["round"]: r["requests_per_s"] for r in of("bare")}
    for kind in kinds:
        rows = of(kind)
        entry: dict[str, Any] = {
            "requests_per_s": round(median([r["requests_per_s"] for r in rows]), 1),
            "p99_ms": round(median([r["latency_ms"]["p99"] for r in rows]), 2),
            "p50_ms": round(median([r["latency_ms"]["p50"] for r in rows]), 2),
        }
        if kind != "bare":
            entry["ratio_to_bare"] = round(
                median([ratio(r["requests_per_s"], bare_by_round[r["round"]]) for r in rows]), 3
            )
        per_target[kind] = entry
    verified = all(r.get("verification", {}).get("ok", True) for r in runs)
    sqlite_ratio = per_target["hub-sqlite"]["ratio_to_bare"]
    targets = [
        {
            "what": "hub on SQLite / bare endpoint, requests/s",
            "target": f">= {TARGET_RATIO:.0%}",
            "measured": sqlite_ratio,
            "met": sqlite_ratio >= TARGET_RATIO,
        }
    ]
    table = [
        {
            "case": "bare FastAPI endpoint (baseline)",
            "measured": f"{per_target['bare']['requests_per_s']:,.0f} req/s",
            "baseline": "",
            "ratio": "1.00",
            "p99": f"{per_target['bare']['p99_ms']:.1f} ms",
            "target": "",
            "met": "",
        },
        _row(per_target, "hub-sqlite", "hub, SQLite", f">= {TARGET_RATIO:.2f}", targets[0]["met"]),
    ]
    if "hub-postgresql" in per_target:
        table.append(_row(per_target, "hub-postgresql", "hub, PostgreSQL", "none (reported)", None))
    checked = [
        r["verification"]
        for r in runs
        if "verification" in r and "missing_from_store" in r["verification"]
    ]
    verification = (
        f"Verification {'passed' if verified else '**FAILED**'}: "
        f"{sum(v['accepted_202'] for v in checked):,} messages answered 202 in the measured "
        f"hub runs, {sum(v['missing_from_store'] for v in checked)} of them missing from the "
        f"database; {sum(v['stored_but_unanswered'] for v in checked)} more stored without a "
        "202 (in flight when wrk stopped)."
    )
    return {
        "benchmark": NAME,
        "date": today(),
        "verification": verification,
        "headline": (
            f"`POST /v1/messages`, 5-line reservation, wrk -t1 -c{options.connections}, "
            f"{options.duration:g} s after {options.warmup:g} s warm-up, "
            f"median of {options.rounds} round(s)."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "postgresql": pg_settings,
        "config": {
            "load_generator": f"wrk -t1 -c{options.connections} --timeout {WRK_TIMEOUT}",
            "warmup_s": options.warmup,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "body_bytes": body_bytes,
            "message": "reservation 1.0, 5 lines, unique CloudEvent id per request",
            "uvicorn": "uvloop, httptools, 1 process, access log off",
            "hub_settings": "defaults (SQLite synchronous=FULL, WAL)",
        },
        "results": per_target,
        "targets": targets,
        "verified": verified,
        "notes": notes,
        "runs": runs,
    }


def _row(
    per_target: dict[str, dict[str, Any]], kind: str, case: str, target: str, met: bool | None
) -> dict[str, str]:
    entry, bare = per_target[kind], per_target["bare"]
    return {
        "case": case,
        "measured": f"{entry['requests_per_s']:,.0f} req/s",
        "baseline": f"{bare['requests_per_s']:,.0f} req/s",
        "ratio": f"{entry['ratio_to_bare']:.2f}",
        "p99": f"{entry['p99_ms']:.1f} ms",
        "target": target,
        "met": "" if met is None else ("yes" if met else "**no**"),
    }
