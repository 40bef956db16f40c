"""The fast lane for ``POST /v1/messages``: the hottest operation, served in plain ASGI.

Single-message ingest is what producers call most. Under FastAPI it paid for routing over
every route, dependency resolution, ``Request`` objects and the middleware stack: several
times the cost of the work itself (see ``benchmarks/README.md``). This middleware answers
exactly ``POST /v1/messages`` itself, before any of that, through the same functions the
documented FastAPI operation in :mod:`hub.messages.endpoints` uses (authentication, content
type, JSON, :class:`~hub.messages.service.Ingestor`), so both answer identically; every other
request passes through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.clients.bindings import check_source
from hub.clients.scopes import Scope as ApiScope
from hub.clients.security import authenticate
from hub.contracts.lifecycle import Deprecation, header_pairs
from hub.errors import PROBLEM_MEDIA_TYPE, MalformedRequest, PayloadTooLarge, ProblemError
from hub.messages.store import Outcome
from hub.requests import check_media_type, parse_json
from hub.state import HubState
from hub.usage.models import ActorKind, Role

logger = logging.getLogger(__name__)
PATH = "/v1/messages"
EVENT_TYPES = ("application/cloudevents+json", "application/json")
_JSON = b"application/json"


def _unexpected(exc: Exception) -> ProblemError:
    logger.exception("unexpected error", exc_info=exc)
    return ProblemError("an unexpected error occurred; it has been logged")


def acceptance(
    outcome: Outcome, deprecation: Deprecation | None = None
) -> tuple[int, dict[str, Any]]:
    duplicate = outcome.status == "duplicate"
    body: dict[str, Any] = {
        "key": outcome.key,
        "accepted_at": outcome.accepted_at,
        "duplicate": duplicate,
    }
    if deprecation is not None:
        body["warnings"] = [deprecation.warning()]
    return (200 if duplicate else 202), body


class IngestFastLane:
    def __init__(self, app: ASGIApp, state: Callable[[], HubState | None]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state() if scope["type"] == "http" else None
        if state is None or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization = content_type = None
        declared_length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                declared_length = int(value)
        try:
            status, body, headers = await self._accept(
                state, authorization, content_type, declared_length, receive
            )
        except Exception as exc:
            error = exc if isinstance(exc, ProblemError) else _unexpected(exc)
            status, body = error.status, error.to_problem(instance=PATH)
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            media = PROBLEM_MEDIA_TYPE.encode()
        else:
            media = _JSON
        payload = orjson.dumps(body, option=orjson.OPT_UTC_Z)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(payload)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _accept(
        self,
        state: HubState,
        authorization: str | None,
        content_type: str | None,
        declared_length: int,
        receive: Receive,
    ) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        key = None
        if authorization and authorization[:7].lower() == "bearer ":
            key = authorization[7:].strip()
        principal = authenticate(state.keys, key, ApiScope.MESSAGES_WRITE, binding_aware=True)
        check_media_type(content_type, EVENT_TYPES)
        limit = state.settings.max_request_bytes
        if declared_length > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                raise MalformedRequest("the request ended before its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        event = parse_json(b"".join(chunks))
        check_source(principal, event)
        outcome = await state.ingestor.ingest(event, principal.client_id)
        deprecation = state.usage.record_dataschema(
            event["dataschema"], Role.PRODUCER, ActorKind.CLIENT, principal.client_id
        )
        status, body = acceptance(outcome, deprecation)
        headers = [(b"location", f"{PATH}/{outcome.key}".encode())]
        if deprecation is not None:
            headers += header_pairs([deprecation])
        return status, body, headers
