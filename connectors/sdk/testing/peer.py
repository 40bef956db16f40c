"""A fake HTTP system on loopback for connector tests: records requests, answers as scripted."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson


@dataclass(frozen=True)
class PeerRequest:
    """One request the peer received. ``headers`` has lower-case names."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True)
class PeerResponse:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[PeerRequest], PeerResponse]


class FakeHTTPPeer:
    """A threaded HTTP server on 127.0.0.1 that plays an external system.

    Answers come, in order, from :meth:`script` (one-shot responses), then from the
    ``handler`` (a function of the request), else ``200 {}``. Use it as a context manager.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.requests: list[PeerRequest] = []
        self._scripted: deque[PeerResponse] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("the peer is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *responses: PeerResponse) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._scripted.extend(responses)

    def _answer(self, request: PeerRequest) -> PeerResponse:
        with self._lock:
            self.requests.append(request)
            if self._scripted:
                return self._scripted.popleft()
        if self.handler is not None:
            return self.handler(request)
        return PeerResponse(200, {})

    def start(self) -> FakeHTTPPeer:
        peer = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                parts = urlsplit(self.path)
                request = PeerRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                response = peer._answer(request)
                body = b"" if response.body is None else orjson.dumps(response.body)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if body:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            # http.server dispatches on these names.
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), RequestHandler)
        server = self._server
        threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHTTPPeer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (a port just bound and released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
