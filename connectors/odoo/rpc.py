"""Odoo's external JSON-RPC API: ``POST /jsonrpc``, the ``common`` and ``object`` services.

Every call is one JSON-RPC 2.0 request::

    {"jsonrpc": "2.0", "method": "call", "id": 7,
     "params": {"service": "object", "method": "execute_kw",
                "args": [db, uid, password, model, method, args, kwargs]}}

Odoo answers ``{"result": ...}`` or ``{"error": {"code": 200, "message": "Odoo Server Error",
"data": {"name": "odoo.exceptions.AccessDenied", "message": ...}}}`` with HTTP 200 either
way; an HTTP status other than 200 comes from Odoo's HTTP layer or a proxy in front of it.
``common.login`` answers ``false`` (not an error) for a wrong login or password.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

ACCESS_DENIED = "odoo.exceptions.AccessDenied"


class OdooFault(Exception):
    """An exception Odoo raised and reported through JSON-RPC.

    ``name`` is the exception's dotted class name (``odoo.exceptions.UserError``),
    ``message`` what Odoo says about it. Never carries the request, so never a password.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name
        self.message = message


class OdooHTTPError(Exception):
    """Odoo (or a proxy in front of it) answered with an HTTP status other than 200."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"Odoo answered HTTP {response.status_code} {response.reason_phrase}")
        self.response = response


class OdooProtocolError(Exception):
    """The answer was not JSON-RPC: a proxy's error page, a truncated body."""

    def __init__(self, detail: str, response: httpx.Response) -> None:
        super().__init__(detail)
        self.response = response


class OdooLoginRefused(Exception):
    """``common.login`` answered ``false``: wrong database, login, password or API key."""


class OdooClient:
    """A JSON-RPC client of one Odoo database as one user.

    The user id from ``common.login`` is kept for the life of the client (one connector
    instance). When Odoo answers ``AccessDenied`` to a call, the client logs in again and
    repeats the call once: a user re-created under a new id keeps working, a wrong
    password fails fast.
    """

    def __init__(
        self, http: httpx.AsyncClient, url: str, database: str, login: str, password: str
    ) -> None:
        self._http = http
        self._endpoint = url.rstrip("/") + "/jsonrpc"
        self.database = database
        self.login_name = login
        self._password = password
        self._uid: int | None = None
        self._login_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self.server_time: datetime | None = None
        """Odoo's clock at its last answer (the HTTP ``Date`` header), to the second."""

    def __repr__(self) -> str:
        return f"<OdooClient {self._endpoint} db={self.database!r} login={self.login_name!r}>"

    async def call(self, service: str, method: str, *args: Any) -> Any:
        """One JSON-RPC call; its ``result``, or :class:`OdooFault` and friends."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": next(self._ids),
        }
        response = await self._http.post(
            self._endpoint,
            content=orjson.dumps(body),
            headers={"content-type": "application/json", "accept": "application/json"},
        )
        if response.status_code != 200:
            raise OdooHTTPError(response)
        self.server_time = _date_header(response) or self.server_time
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise OdooProtocolError("Odoo's answer is not JSON", response) from None
        if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
            raise OdooProtocolError("Odoo's answer is not a JSON-RPC response", response)
        if "error" in answer:
            raise _fault(answer["error"])
        return answer["result"]

    async def version(self) -> dict[str, Any]:
        """``common.version``: the server version; needs no login."""
        found = await self.call("common", "version")
        if not isinstance(found, dict):
            raise OdooFault("crossdock.ProtocolError", "common.version did not answer an object")
        return found

    async def uid(self) -> int:
        """The user id, logging in on first use."""
        if self._uid is not None:
            return self._uid
        async with self._login_lock:
            if self._uid is None:
                found = await self.call(
                    "common", "login", self.database, self.login_name, self._password
                )
                if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
                    raise OdooLoginRefused(
                        f"Odoo refused the login {self.login_name!r} on database "
                        f"{self.database!r}: wrong login, password or API key"
                    )
                self._uid = found
            return self._uid

    async def execute(self, model: str, method: str, args: list[Any], **kwargs: Any) -> Any:
        """``object.execute_kw`` of ``model.method(*args, **kwargs)`` as the logged-in user."""
        for attempt in (1, 2):
            uid = await self.uid()
            try:
                return await self.call(
                    "object",
                    "execute_kw",
                    self.database,
                    uid,
                    self._password,
                    model,
                    method,
                    args,
                    kwargs,
                )
            except OdooFault as fault:
                if fault.name != ACCESS_DENIED or attempt == 2:
                    raise
                self._uid = None  # the user may have a new id: log in again, once
        raise AssertionError("unreachable")  # pragma: no cover

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        order: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": fields}
        if order is not None:
            kwargs["order"] = order
        if limit is not None:
            kwargs["limit"] = limit
        rows = await self.execute(model, "search_read", [domain], **kwargs)
        return _rows(rows, model, "search_read")

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        rows = await self.execute(model, "read", [ids], fields=fields)
        return _rows(rows, model, "read")


def _rows(found: Any, model: str, method: str) -> list[dict[str, Any]]:
    if not isinstance(found, list) or not all(isinstance(row, dict) for row in found):
        raise OdooFault("crossdock.ProtocolError", f"{model}.{method} did not answer a list")
    return found


def _fault(error: Any) -> OdooFault:
    if not isinstance(error, dict):
        return OdooFault("crossdock.ProtocolError", "a JSON-RPC error that is not an object")
    data = error.get("data")
    if isinstance(data, dict):
        name = str(data.get("name") or error.get("message") or "unknown")
        message = str(data.get("message") or "")
    else:
        name, message = str(error.get("message") or "unknown"), ""
    return OdooFault(name, message[:500])


def _date_header(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
