"""vs-procrastinate's other side: the same webhook deliveries as procrastinate jobs.

``python -m benchmarks.procrastinate_worker defer DSN COUNT`` applies procrastinate's schema
to the (empty) database and defers ``COUNT`` jobs of the task ``deliver`` in one batch, each
job's arguments being what the hub stores for a delivery: the message key, a delivery id and
the CloudEvent (the same 5-line reservations, ids and subjects as the hub's backlog).

``python -m benchmarks.procrastinate_worker work DSN SINK_URL CONCURRENCY`` runs one
procrastinate worker (``run_worker_async(concurrency=…)``, LISTEN/NOTIFY on, the default
psycopg pool) until SIGINT. Each job does what the hub's webhook connector does for one
delivery: serialise the event with orjson, sign it with Standard Webhooks, POST it with the
same headers through one shared ``httpx.AsyncClient`` configured like the connector's
(``timeout=10``, httpx's default pool limits) and fail on a non-2xx answer, which
procrastinate retries (``RetryStrategy(max_attempts=10, exponential_wait=2)``).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import procrastinate
from standardwebhooks.webhooks import Webhook

from benchmarks.delivery import SECRET, keyed_events

READY = "procrastinate worker ready"  # printed once the app is open


class _Target:
    url = ""
    client: httpx.AsyncClient | None = None
    signer = Webhook(SECRET)


def make_app(dsn: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))

    @app.task(
        name="deliver",
        retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2),
    )
    async def deliver(key: str, delivery: int, event: dict[str, Any]) -> None:
        if _Target.client is None:
            _Target.client = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        body = orjson.dumps(event).decode()
        webhook_id = f"dlv_{delivery}"
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/cloudevents+json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": _Target.signer.sign(webhook_id, now, body),
            "crossdock-message-key": key,
            "crossdock-delivery-id": str(delivery),
            "crossdock-attempt": "1",
        }
        response = await _Target.client.post(_Target.url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"HTTP {response.status_code}")

    return app


async def defer(dsn: str, count: int) -> None:
    app = make_app(dsn)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        jobs = [
            {"key": f"job_{n:026d}", "delivery": n, "event": orjson.loads(body)}
            for n, body in enumerate(keyed_events("p", count), start=1)
        ]
        for start in range(0, len(jobs), 5000):
            await app.tasks["deliver"].batch_defer_async(*jobs[start : start + 5000])


async def work(dsn: str, sink_url: str, concurrency: int) -> None:
    _Target.url = sink_url
    app = make_app(dsn)
    async with app.open_async():
        print(READY, flush=True)
        await app.run_worker_async(concurrency=concurrency, wait=True)
    if _Target.client is not None:
        await _Target.client.aclose()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "defer":
        asyncio.run(defer(argv[1], int(argv[2])))
    elif len(argv) == 4 and argv[0] == "work":
        asyncio.run(work(argv[1], argv[2], int(argv[3])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
