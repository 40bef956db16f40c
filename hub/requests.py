"""Requests: body size limit, content type and JSON, each failure its own problem type; no
NUL in the URL."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import MalformedJSON, MalformedRequest, PayloadTooLarge, UnsupportedMediaType


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` before reading them whole.

    A declared ``Content-Length`` over the limit is refused at once; a chunked body is
    counted as it streams in.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    receive = _refuse(self.max_bytes)
                break
        else:
            receive = _counting(receive, self.max_bytes)
        await self.app(scope, receive, send)


def _refuse(max_bytes: int) -> Receive:
    async def receive() -> Message:
        raise PayloadTooLarge(f"the body is larger than the limit of {max_bytes} bytes")

    return receive


def _counting(inner: Receive, max_bytes: int) -> Receive:
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await inner()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise PayloadTooLarge(f"the body is larger than the limit of {max_bytes} bytes")
        return message

    return receive


def check_media_type(content_type: str | None, accepted_types: tuple[str, ...]) -> None:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in accepted_types:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(accepted_types)}; got {kind or 'no content type'}",
            extensions={"accepted": list(accepted_types)},
        )


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(f"the body is not valid JSON: {exc}") from None


async def read_json(request: Request, accepted_types: tuple[str, ...]) -> Any:
    """The parsed body, if its content type is one of ``accepted_types`` and it is JSON."""
    check_media_type(request.headers.get("content-type"), accepted_types)
    return parse_json(await request.body())


async def refuse_nul(request: Request) -> None:
    """Refuse a NUL character anywhere in the path or the query (400).

    PostgreSQL text cannot hold NUL: a filter or an id carrying one would otherwise fail in
    the database, as a 500, instead of being the client's mistake. Every operation declares
    this (the app's global dependencies); ``async`` so that it runs on the event loop, not
    in a worker thread per request."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise MalformedRequest("the path or query holds a NUL character (%00)")
