"""A real HTTP receiver on loopback that plays a downstream system for delivery tests.

It verifies Standard Webhooks signatures, records every request, and answers as its
``behaviour`` says (a status per request, a delay, an outage window), so tests can stage
outages, permanent failures and slow targets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    at: float
    status: int


@dataclass
class Sink:
    """``behaviour(request_number, body) -> (status, headers)``; default: 200."""

    behaviour: Callable[[int, dict[str, Any]], tuple[int, dict[str, str]]] = lambda n, b: (200, {})
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight_per_delivery: int = 0
    bad_signatures: int = 0
    truncated: int = 0

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._verifier = Webhook(SECRET)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> Sink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if len(raw) < length:
                    # The sender gave up mid-body (its attempt timed out under load): not
                    # a forged request, and nothing to verify.
                    with sink.lock:
                        sink.truncated += 1
                    return
                status, extra = sink.handle(headers, raw)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 resets bursts of connections

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def handle(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str]]:
        try:
            self._verifier.verify(raw, headers)
        except Exception:
            with self.lock:
                self.bad_signatures += 1
            return 401, {}
        delivery = headers.get("crossdock-delivery-id", "?")
        with self.lock:
            self.in_flight[delivery] = self.in_flight.get(delivery, 0) + 1
            self.max_in_flight_per_delivery = max(
                self.max_in_flight_per_delivery, self.in_flight[delivery]
            )
            number = len(self.received)
        try:
            if self.delay:
                time.sleep(self.delay)
            body = json.loads(raw)
            status, extra = self.behaviour(number, body)
        finally:
            with self.lock:
                self.in_flight[delivery] -= 1
        with self.lock:
            self.received.append(Received(headers, body, time.monotonic(), status))
        return status, extra

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.delivered()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.delivered())} of {count} deliveries arrived")
