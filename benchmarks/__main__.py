"""``python -m benchmarks [NAME ...]``: run the benchmarks, write results, update the README.

Exit status: 0 when every benchmark ran and verified its results (every accepted message
stored, no errors); 1 when one failed; 2 when a tool is missing (wrk). ``--strict`` also
fails on a missed target.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import (
    bulk_replay,
    delivery_latency,
    delivery_throughput,
    inbound,
    ingest_batch,
    ingest_single,
    mapping,
    report,
    two_workers,
    validation,
    vs_procrastinate,
    x12,
)
from benchmarks.common import BenchmarkError, Options

BENCHMARKS: dict[str, Callable[[Options], dict[str, Any]]] = {
    ingest_single.NAME: ingest_single.run,
    ingest_batch.NAME: ingest_batch.run,
    validation.NAME: validation.run,
    mapping.NAME: mapping.run,
    inbound.NAME: inbound.run,
    delivery_throughput.NAME: delivery_throughput.run,
    delivery_latency.NAME: delivery_latency.run,
    two_workers.NAME: two_workers.run,
    bulk_replay.NAME: bulk_replay.run,
    vs_procrastinate.NAME: vs_procrastinate.run,
    x12.NAME: x12.run,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Crossdock benchmarks. Results: benchmarks/results/<name>.json and the "
        "table in benchmarks/README.md.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"which to run (default: all): {', '.join(BENCHMARKS)}",
    )
    defaults = Options()
    parser.add_argument(
        "--duration", type=float, default=defaults.duration, help="measured seconds per run"
    )
    parser.add_argument(
        "--warmup", type=float, default=defaults.warmup, help="warm-up seconds per run"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=defaults.rounds,
        help="repeat the targets this often, interleaved; report medians",
    )
    parser.add_argument(
        "--connections", type=int, default=defaults.connections, help="wrk connections"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=defaults.concurrency,
        help="concurrent batch clients (ingest-batch)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="messages per batch"
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=defaults.backlog,
        help="messages pre-loaded for a drain (delivery benchmarks)",
    )
    parser.add_argument(
        "--delivery-concurrency",
        type=int,
        default=defaults.delivery_concurrency,
        help="deliveries in flight: worker, connection, bare loop, procrastinate",
    )
    parser.add_argument(
        "--dead-letters",
        type=int,
        default=defaults.dead_letters,
        help="dead letters to replay (bulk-replay)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL runs")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also sample the hub with py-spy (an extra, unmeasured run): ingest-single, "
        "ingest-batch, delivery-throughput",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--no-readme", action="store_true", help="do not rewrite the README's results table"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        for name, function in BENCHMARKS.items():
            module = sys.modules[function.__module__]
            print(f"{name:20} {(module.__doc__ or '').strip().splitlines()[0]}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        rounds=max(1, args.rounds),
        connections=args.connections,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        postgres=not args.no_postgres,
        profile=args.profile,
        backlog=args.backlog,
        delivery_concurrency=args.delivery_concurrency,
        dead_letters=args.dead_letters,
    )
    status = 0
    for name in args.names or list(BENCHMARKS):
        started = time.monotonic()
        try:
            payload = BENCHMARKS[name](options)
        except BenchmarkError as exc:
            print(f"[{name}] FAILED: {exc}", file=sys.stderr)
            status = max(status, 2 if ingest_single.INSTALL_WRK in str(exc) else 1)
            continue
        print(report.console(payload))
        print(f"[{name}] took {time.monotonic() - started:.0f} s\n")
        if not payload.get("verified", True):
            print(f"[{name}] FAILED verification: see benchmarks/results/{name}.json")
            status = max(status, 1)
        if args.strict and not all(t["met"] for t in payload.get("targets", [])):
            status = max(status, 1)
    if not args.no_readme:
        report.update_readme()
    return status


if __name__ == "__main__":
    sys.exit(main())
