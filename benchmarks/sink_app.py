"""The delivery benchmarks' receiver: a bare ASGI app that answers fast and counts.

Served by ``python -m uvicorn benchmarks.sink_app:app --loop uvloop --http httptools`` (one
process, no access log), it plays the downstream system. ``POST /hook`` reads the body and
answers the current status (200, or 400 while the bulk-replay benchmark makes dead letters)
and counts the request by its ``crossdock-message-key`` header: distinct keys, duplicates,
the time of the first and last arrival (``time.time()``, comparable with the hub's
timestamps on the same machine) and the first arrival of every key (for end-to-end latency).

The first ``verify`` requests (a control setting) are checked as a receiver would, with the
Standard Webhooks library and the secret in ``BENCH_SINK_SECRET``; the rest are only counted,
so that the sink stays cheap.

``GET /stats`` reports the counters, ``GET /arrivals`` the first arrival of each key,
``POST /control?status=…&verify=…&reset=1`` changes the answer, the number of requests to
verify, and clears the counters. No framework: it must not be what limits a benchmark.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from standardwebhooks.webhooks import Webhook

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

KEY_HEADER = b"crossdock-message-key"


class State:
    def __init__(self) -> None:
        secret = os.environ.get("BENCH_SINK_SECRET")
        self.verifier = Webhook(secret) if secret else None
        self.status = 200
        self.verify_budget = 0
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_status: dict[int, int] = {}
        self.first_arrival: dict[str, float] = {}
        self.duplicates = 0
        self.no_key = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.last_new_at: float | None = None
        self.clients: set[tuple[str, int]] = set()
        self.verified = 0
        self.bad_signatures = 0
        self.bad_signature_error = ""

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "distinct_keys": len(self.first_arrival),
            "duplicates": self.duplicates,
            "no_key": self.no_key,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "last_new_at": self.last_new_at,
            "connections": len(self.clients),
            "verified": self.verified,
            "bad_signatures": self.bad_signatures,
            "bad_signature_error": self.bad_signature_error,
            "status": self.status,
        }


STATE = State()


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _hook(scope: Scope, raw: bytes) -> int:
    now = time.time()
    state = STATE
    key: str | None = None
    for name, value in scope["headers"]:
        if name == KEY_HEADER:
            key = value.decode()
            break
    if state.verify_budget > 0:
        state.verify_budget -= 1
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        try:
            if state.verifier is None:
                raise ValueError("no BENCH_SINK_SECRET")
            state.verifier.verify(raw, headers)
            state.verified += 1
        except Exception as exc:
            state.bad_signatures += 1
            state.bad_signature_error = f"{type(exc).__name__}: {exc}"
            return 401
    status = state.status
    state.requests += 1
    state.by_status[status] = state.by_status.get(status, 0) + 1
    if scope.get("client"):
        state.clients.add(tuple(scope["client"]))
    if state.first_at is None:
        state.first_at = now
    state.last_at = now
    if key is None:
        state.no_key += 1
    elif 200 <= status < 300:
        if key in state.first_arrival:
            state.duplicates += 1
        else:
            state.first_arrival[key] = now
            state.last_new_at = now
    return status


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    raw = await _body(receive)
    if method == "POST" and path == "/hook":
        await _answer(send, _hook(scope, raw), b"{}")
    elif path == "/stats":
        await _answer(send, 200, orjson.dumps(STATE.stats()))
    elif path == "/arrivals":
        await _answer(send, 200, orjson.dumps(STATE.first_arrival))
    elif path == "/control" and method == "POST":
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        if query.get("reset"):
            STATE.reset()
        if "status" in query:
            STATE.status = int(query["status"])
        if "verify" in query:
            STATE.verify_budget = int(query["verify"])
        await _answer(send, 200, orjson.dumps(STATE.stats()))
    elif path == "/health":
        await _answer(send, 200, b'{"status":"ok"}')
    else:
        await _answer(send, 404, b"{}")
