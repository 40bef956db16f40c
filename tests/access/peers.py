"""Peers on loopback for the access tests, and helpers to set up clients and connections.

:class:`Peer` is a real HTTP server that records every request and answers as told: a
status with a body that may echo what it received (a careless system that quotes the
token it was sent back in its error), or a redirect elsewhere.
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

import httpx

from tests.sinks import SECRET as SIGNING_SECRET

__all__ = ["SIGNING_SECRET", "Peer", "Request", "create_client", "wait_until", "webhook_connection"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Peer:
    """``answer(request) -> (status, headers, body)``; default 200 with ``{}``."""

    host: str = "127.0.0.1"
    answer: Callable[[Request], tuple[int, dict[str, str], bytes]] = lambda r: (200, {}, b"{}")
    received: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/hook"

    def __enter__(self) -> Peer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with peer._lock:
                    peer.received.append(request)
                status, headers, body = peer.answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_OPTIONS = _any  # noqa: N815 (http.server names)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
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

    def requests(self) -> list[Request]:
        with self._lock:
            return list(self.received)


def echo(status: int) -> Callable[[Request], tuple[int, dict[str, str], bytes]]:
    """An answer that quotes every header and the body it received, with ``status``."""

    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(
            {"error": "refused", "you_sent": request.headers, "body": request.body.decode()}
        ).encode()
        return status, {"content-type": "application/json"}, body

    return answer


def redirect_to(url: str) -> Callable[[Request], tuple[int, dict[str, str], bytes]]:
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        return 307, {"location": url}, b""

    return answer


def create_client(admin: httpx.Client, name: str, *scopes: str, **extra: Any) -> str:
    """A new client through the API; its key."""
    response = admin.post("/v1/clients", json={"name": name, "scopes": list(scopes), **extra})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def webhook_connection(
    admin: httpx.Client, name: str, url: str | None = None, **config: Any
) -> httpx.Response:
    """Create a webhook connection (outbound to ``url`` if given)."""
    if url is not None:
        config = {"url": url, "signing_secret": SIGNING_SECRET, **config}
    return admin.post(
        "/v1/connections",
        json={
            "name": name,
            "connector": "webhook",
            "config": config,
            "breaker_threshold": 50,
        },
    )


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
