"""inbound: signed webhooks into ``POST /v1/connections/{id}/inbound``, against ingest.

One hub per backend, three phases in the same run, each driven by ``wrk -t1``:

1. ``messages`` (the baseline): ``POST /v1/messages`` with a 5-line reservation.
2. ``inbound-canonical``: the same CloudEvents pushed to a webhook connection, each signed
   with Standard Webhooks: verification, receipt dedupe, check, accept.
3. ``inbound-mapped``: 5-line Shopify orders pushed to a webhook connection whose records
   go through ``mappings/shopify/orders-create.yaml`` to reservation.requested.

Signatures cannot be computed in wrk's Lua, so every request is built and signed before
its phase starts (wrk_replay.lua sends each one once). The pool is sized from the
warm-up rate; if wrk runs out, the repeats are answered as duplicates and the run says so.
Afterwards the number of stored messages must equal the number of 202 answers.
"""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from benchmarks.common import (
    ADMIN_KEY,
    BENCH_DIR,
    REPO,
    BenchmarkError,
    Options,
    add_postgres,
    background_cpu,
    event_template,
    hub_server,
    machine_info,
    median,
    postgres_database,
    ratio,
    reservation_event,
    sqlite_url,
    stored_count,
    today,
    write_result,
)
from benchmarks.ingest_single import LUA, wrk, wrk_binary

NAME = "inbound"
REPLAY = BENCH_DIR / "wrk_replay.lua"
SECRET = "whsec_" + "YmVuY2gtaW5ib3VuZC1zZWNyZXQtMDEyMzQ1Njc4OQ=="
SHOPIFY_ORDER = REPO / "mappings/shopify/vectors/order-5-lines.json"
MAX_POOL = 150_000
PHASES = ("messages", "inbound-canonical", "inbound-mapped")


def _sign(body: bytes, webhook_id: str, signer: Webhook, at: datetime) -> bytes:
    return b"\n".join(
        (
            webhook_id.encode(),
            str(int(at.timestamp())).encode(),
            signer.sign(webhook_id, at, body.decode()).encode(),
            body,
        )
    )


def build_requests(phase: str, tag: str, count: int, path: Path) -> Path:
    """``count`` signed requests for an inbound phase, in wrk_replay.lua's file format."""
    signer = Webhook(SECRET)
    now = datetime.now(UTC)
    template: dict[str, Any]
    first_id: int | None = None
    if phase == "inbound-canonical":
        template = reservation_event()
    else:
        template = orjson.loads(SHOPIFY_ORDER.read_bytes())
        # Each phase its own range of order ids, so no phase repeats another's messages.
        first_id = int(template["id"]) + int(uuid.uuid4().hex[:12], 16) * 1000
    with path.open("wb") as out:
        for n in range(count):
            # A unique id per request: canonical ids are strings, Shopify's 64-bit numbers.
            unique: str | int = f"{tag}-{n}" if first_id is None else first_id + n
            body = orjson.dumps({**template, "id": unique})
            out.write(_sign(body, f"{tag}-{n}", signer, now) + b"\n")
    return path


def _digest(summary: dict[str, Any]) -> dict[str, Any]:
    seconds = summary["duration_us"] / 1e6
    statuses = {str(k): int(v) for k, v in summary["statuses"].items()}
    accepted = statuses.get("202", 0)
    return {
        "seconds": round(seconds, 3),
        "requests_per_s": round(accepted / seconds, 1) if seconds else 0.0,
        "accepted_202": accepted,
        "other_statuses": {k: v for k, v in statuses.items() if k != "202"},
        "sent": summary["sent"],
        "responses": summary["requests"],
        "exhausted": summary.get("exhausted", 0),
        "socket_errors": summary["errors"],
        "latency_ms": {k: round(v / 1000.0, 2) for k, v in summary["latency_us"].items()},
    }


def _connections(base_url: str) -> None:
    """The two webhook connections the inbound phases push to."""
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as client:
        for body in (
            {"name": "bench-peer", "connector": "webhook", "config": {"verify_secret": SECRET}},
            {
                "name": "bench-shop",
                "connector": "webhook",
                "config": {"verify_secret": SECRET, "inbound_kind": "shopify.order"},
                "mappings": {"shopify.order": "shopify-orders-create"},
            },
        ):
            response = client.post("/v1/connections", json=body)
            if response.status_code != 201:
                raise BenchmarkError(f"creating {body['name']} failed: {response.text}")


def _check_one(base_url: str, workdir: Path) -> None:
    """One request of each inbound kind must be accepted before any load is measured."""
    for phase, connection in (
        ("inbound-canonical", "bench-peer"),
        ("inbound-mapped", "bench-shop"),
    ):
        path = build_requests(phase, f"probe-{phase}", 1, workdir / f"probe-{phase}.txt")
        webhook_id, stamp, signature, body = path.read_bytes().rstrip(b"\n").split(b"\n")
        response = httpx.post(
            f"{base_url}/v1/connections/{connection}/inbound",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": webhook_id.decode(),
                "webhook-timestamp": stamp.decode(),
                "webhook-signature": signature.decode(),
            },
        )
        answer = response.json()
        if response.status_code != 202 or answer.get("accepted") != 1:
            raise BenchmarkError(f"{phase}: the probe was not accepted: {response.text}")


def _phase(
    phase: str, base_url: str, workdir: Path, duration: float, connections: int, rate: float
) -> dict[str, Any]:
    tag = f"{phase}-{uuid.uuid4().hex[:6]}"
    out = workdir / f"wrk-{tag}.json"
    if phase == "messages":
        prefix, suffix = event_template()
        template = workdir / "template.json"
        template.write_bytes(prefix + b"@@ID@@" + suffix)
        summary = wrk(
            f"{base_url}/v1/messages",
            LUA,
            [str(template), tag, str(out), ADMIN_KEY],
            out,
            duration,
            connections,
        )
    else:
        connection = "bench-peer" if phase == "inbound-canonical" else "bench-shop"
        count = min(MAX_POOL, max(2_000, math.ceil(2 * rate * duration)))
        requests = build_requests(phase, tag, count, workdir / f"{tag}.txt")
        summary = wrk(
            f"{base_url}/v1/connections/{connection}/inbound",
            REPLAY,
            [str(requests), str(out)],
            out,
            duration,
            connections,
        )
        requests.unlink()
    result = {"phase": phase, **_digest(summary)}
    result["pool"] = None if phase == "messages" else count
    return result


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "hub-sqlite":
        yield sqlite_url(workdir)
    else:
        with postgres_database() as url:
            yield url


def measure(kind: str, options: Options) -> list[dict[str, Any]]:
    """The three phases against one hub; verified against the database afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as tmp:
        workdir = Path(tmp)
        with _database(kind, workdir) as database_url:
            results: list[dict[str, Any]] = []
            with hub_server(database_url, workdir) as server:
                _connections(server.base_url)
                _check_one(server.base_url, workdir)
                accepted = 2  # the probes
                for phase in PHASES:
                    warm = _phase(
                        phase,
                        server.base_url,
                        workdir,
                        options.warmup,
                        options.connections,
                        rate=6_000,
                    )
                    main = _phase(
                        phase,
                        server.base_url,
                        workdir,
                        options.duration,
                        options.connections,
                        rate=max(warm["requests_per_s"], 500.0),
                    )
                    main["warmup_requests_per_s"] = warm["requests_per_s"]
                    accepted += warm["accepted_202"] + main["accepted_202"]
                    results.append({"target": kind, **main})
                    time.sleep(0.5)
            # The hub has stopped and committed what it had: count.
            stored = stored_count(database_url)
            in_flight = sum(r["sent"] - r["responses"] for r in results)
            ok = (
                accepted <= stored <= accepted + in_flight + 3 * 64
                and all(not r["other_statuses"] for r in results)
                and all(not r["exhausted"] for r in results)
            )
            for result in results:
                result["verification"] = {
                    "accepted_202_all_phases": accepted,
                    "stored": stored,
                    "ok": ok,
                }
            return results


def run(options: Options) -> dict[str, Any]:
    wrk_binary()
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    kinds = ["hub-sqlite"]
    notes: list[str] = []
    pg_settings = add_postgres(NAME, options, kinds, "hub-postgresql", notes)
    runs: list[dict[str, Any]] = []
    for round_no in range(1, options.rounds + 1):
        for kind in kinds:
            print(f"[{NAME}] round {round_no}/{options.rounds}: {kind} …", flush=True)
            for result in measure(kind, options):
                result["round"] = round_no
                runs.append(result)
                print(
                    f"[{NAME}]   {result['phase']:<18} {result['requests_per_s']:>8,.0f} req/s"
                    f"  p99 {result['latency_ms']['p99']:.1f} ms"
                    f"  verified: {result['verification']['ok']}",
                    flush=True,
                )
    payload = summarise(options, kinds, runs, background, pg_settings, notes)
    write_result(NAME, payload)
    return payload


def summarise(
    options: Options,
    kinds: list[str],
    runs: list[dict[str, Any]],
    background: float,
    pg_settings: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    table: list[dict[str, str]] = []
    labels = {
        "messages": "`POST /v1/messages`, canonical reservation (baseline)",
        "inbound-canonical": "inbound webhook, canonical reservation (signed)",
        "inbound-mapped": "inbound webhook, Shopify order mapped to a reservation",
    }
    backend = {"hub-sqlite": "SQLite", "hub-postgresql": "PostgreSQL"}
    for kind in kinds:
        baseline = {
            r["round"]: r["requests_per_s"]
            for r in runs
            if r["target"] == kind and r["phase"] == "messages"
        }
        for phase in PHASES:
            rows = [r for r in runs if r["target"] == kind and r["phase"] == phase]
            entry = {
                "requests_per_s": round(median([r["requests_per_s"] for r in rows]), 1),
                "p99_ms": round(median([r["latency_ms"]["p99"] for r in rows]), 2),
                "ratio_to_messages": round(
                    median([ratio(r["requests_per_s"], baseline[r["round"]]) for r in rows]), 3
                ),
            }
            results[f"{kind}/{phase}"] = entry
            base = results[f"{kind}/messages"]
            table.append(
                {
                    "case": f"{labels[phase]}, {backend[kind]}",
                    "measured": f"{entry['requests_per_s']:,.0f} req/s",
                    "baseline": ""
                    if phase == "messages"
                    else f"{base['requests_per_s']:,.0f} req/s",
                    "ratio": f"{entry['ratio_to_messages']:.2f}",
                    "p99": f"{entry['p99_ms']:.1f} ms",
                    "target": "none (reported)",
                    "met": "",
                }
            )
    verified = all(r["verification"]["ok"] for r in runs)
    return {
        "benchmark": NAME,
        "date": today(),
        "verification": (
            f"Verification {'passed' if verified else '**FAILED**'}: every 202 of every phase "
            "is a stored message (counted after the hub stopped); no request repeated."
        ),
        "headline": (
            f"Signed Standard Webhooks pushed to `POST /v1/connections/{{id}}/inbound` vs "
            f"`POST /v1/messages` in the same hub, wrk -t1 -c{options.connections}, "
            f"{options.duration:g} s after {options.warmup:g} s warm-up per phase, median of "
            f"{options.rounds} round(s)."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "postgresql": pg_settings,
        "config": {
            "load_generator": f"wrk -t1 -c{options.connections}, pre-signed requests",
            "warmup_s": options.warmup,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "messages": "reservation 1.0, 5 lines; Shopify order with 5 line items (5.4 KB)",
            "hub_settings": "defaults (SQLite synchronous=FULL, WAL)",
        },
        "results": results,
        "targets": [],
        "verified": verified,
        "notes": notes,
        "runs": runs,
    }
