"""The ``odoo`` connector: an Odoo ERP through its external JSON-RPC API.

Polls purchase orders, stock reservations and backorders (see :mod:`connectors.odoo.polling`)
and books received quantities on purchase orders' incoming transfers (see
:mod:`connectors.odoo.receipts`). Speaks ``POST /jsonrpc`` with ``common.login`` and
``object.execute_kw`` (:mod:`connectors.odoo.rpc`), as any Odoo 17 or later answers it.

How Odoo's failures reach the hub, when sending:

- no answer, a timeout: ``connection_error`` / ``timeout`` (retried);
- an HTTP status other than 200 (a proxy's 502, a 429 or 503): that status, with its
  ``Retry-After`` (classified by the hub's table);
- a wrong login, password or API key, missing access rights, a business rule that refuses
  the booking (``UserError``, ``ValidationError``), a record gone, an unknown model or
  field: ``rejected`` (dead-lettered at once; retrying cannot help until someone acts);
- a concurrent update or a lock (PostgreSQL serialization failure, deadlock): ``conflict``
  (retried from scratch);
- any other server error Odoo reports through JSON-RPC: HTTP 500, the status Odoo's HTTP
  layer gives an unhandled exception (retried).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import ValidationError

from connectors.odoo.config import OdooConfig
from connectors.odoo.polling import STREAMS, Cursor, fingerprint, odoo_datetime, read_page
from connectors.odoo.receipts import ReceiptBooker, ReceiptPayload, ReceiptRefused
from connectors.odoo.records import RelatedRecords
from connectors.odoo.rpc import (
    OdooClient,
    OdooFault,
    OdooHTTPError,
    OdooLoginRefused,
    OdooProtocolError,
)
from connectors.sdk import (
    CheckResult,
    Connector,
    ConnectorState,
    Manifest,
    NativeRecord,
    OutboundMessage,
    OutcomeKind,
    PollResult,
    RecordFate,
    SendOutcome,
)

PERMANENT_FAULTS = frozenset(
    {
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.AccessError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.RedirectWarning",
        # Odoo's answers to a call it does not know: a model, method or field missing
        # (a module not installed, an older Odoo). No retry brings them.
        "builtins.KeyError",
        "builtins.AttributeError",
        "builtins.ValueError",
        "builtins.TypeError",
    }
)
CONFLICT_FAULTS = (
    "SerializationFailure",
    "TransactionRollbackError",
    "DeadlockDetected",
    "LockNotAvailable",
    "ConcurrencyError",
)


@dataclass(frozen=True)
class Seen:
    """What :meth:`OdooConnector.committed` remembers of one polled record."""

    key: str
    digest: str
    write_date: str


class OdooConnector(Connector[OdooConfig]):
    """Odoo: purchase orders, reservations and backorders out; receipts in."""

    manifest = Manifest(
        slug="odoo",
        name="Odoo",
        version="1.0.0",
        kinds=("erp",),
        sends=("receipt.received",),
        polls=True,
        mappings={
            "odoo/purchase.order": "odoo-purchase-order",
            "odoo/stock.reservation": "odoo-reservation",
            "odoo/stock.backorder": "odoo-backorder",
        },
        description="Odoo ERP over JSON-RPC: polls confirmed purchase orders "
        "(po_release.released, po_release.changed), reserved deliveries "
        "(reservation.confirmed) and backorders (backorder.created, backorder.updated); "
        "books receipt.received on the purchase order's receipt and validates it.",
    )
    config_model = OdooConfig
    harness = "connectors.odoo.testing:OdooHarness"

    def __init__(
        self, config: OdooConfig, *, timeout: float = 10.0, state: ConnectorState | None = None
    ) -> None:
        super().__init__(config, timeout=timeout, state=state)
        self._client: OdooClient | None = None
        self._booker: ReceiptBooker | None = None

    @property
    def client(self) -> OdooClient:
        """The JSON-RPC client of this connection (one login per connector instance)."""
        if self._client is None:
            self._client = OdooClient(
                self.http,
                str(self.config.url),
                self.config.database,
                self.config.login,
                self.config.password.get_secret_value(),
            )
        return self._client

    async def aclose(self) -> None:
        self._client = None
        self._booker = None
        await super().aclose()

    # -- check ----------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        try:
            version = await self.client.version()
            uid = await self.client.uid()
        except httpx.HTTPError as exc:
            return CheckResult(ok=False, detail=f"cannot reach Odoo: {type(exc).__name__}")
        except (OdooHTTPError, OdooProtocolError, OdooLoginRefused, OdooFault) as exc:
            return CheckResult(ok=False, detail=str(exc))
        server = str(version.get("server_version") or "?")
        return CheckResult(
            ok=True,
            detail=f"Odoo {server}: logged in to {self.config.database!r} as "
            f"{self.config.login!r} (uid {uid})",
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            info={"server_version": server, "uid": uid},
        )

    # -- send -----------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Book a ``receipt.received`` (the route's ``odoo/receipt`` payload) in Odoo."""
        if message.payload is None:
            return SendOutcome.mapping_error(
                "the odoo connector needs the route to map receipts to its payload "
                "(mapping odoo-receipt)"
            )
        try:
            receipt = ReceiptPayload.model_validate(message.payload)
        except ValidationError as exc:
            return SendOutcome.mapping_error(f"not an odoo receipt payload: {_first(exc)}")
        if self._booker is None:
            self._booker = ReceiptBooker(
                self.client, self.state, backorders=self.config.create_backorders
            )
        try:
            await self._booker.book(receipt, message.message_key)
        except httpx.HTTPError as exc:
            return SendOutcome.from_exception(exc)
        except OdooHTTPError as exc:
            return SendOutcome.from_response(exc.response)
        except OdooProtocolError as exc:
            return SendOutcome(
                OutcomeKind.HTTP_ERROR,
                status_code=502,
                body_excerpt=exc.response.text[:2048],
                error=f"{exc}: treated as a bad gateway",
            )
        except (OdooLoginRefused, ReceiptRefused) as exc:
            return SendOutcome.rejected(str(exc))
        except OdooFault as fault:
            return outcome_of_fault(fault)
        return SendOutcome.ok()

    # -- poll -----------------------------------------------------------------------------

    async def poll(self, cursor: str | None) -> PollResult:
        """The next page of every watched stream; see :mod:`connectors.odoo.polling`."""
        position = Cursor.parse(cursor, self.config.start_at)
        before = await self._settled_before()
        related = RelatedRecords(self.client)
        records: list[NativeRecord] = []
        remembered: list[Seen] = []
        more = False
        for stream in STREAMS:
            if stream.name not in self.config.watch:
                continue
            page = await read_page(
                self.client,
                related,
                stream,
                self.config,
                position.positions[stream.name],
                before,
            )
            position.positions[stream.name].advance(page.rows)
            more = more or page.full
            for data in page.rows:
                key = f"seen:{stream.name}:{data['id']}"
                digest = fingerprint(stream, data)
                passed_on = await self.state.get(key)
                if isinstance(passed_on, dict) and passed_on.get("digest") == digest:
                    continue  # written again, but nothing a mapping reads changed
                event = "changed" if passed_on is not None else "new"
                records.append(
                    NativeRecord(
                        stream.kind,
                        {"event": event, **data},
                        f"{stream.model}:{data['id']}@{data['write_date']}",
                    )
                )
                remembered.append(Seen(key, digest, data["write_date"]))
        return PollResult(records, position.dump(), more, context=remembered)

    async def _settled_before(self) -> str | None:
        """The newest write_date a poll may read, by Odoo's clock; ``None``: no limit."""
        if self.config.settle_seconds == 0:
            return None
        await self.client.version()  # a cheap call whose answer carries Odoo's clock
        now = self.client.server_time or datetime.now(UTC)
        return odoo_datetime(now - timedelta(seconds=self.config.settle_seconds))

    async def committed(
        self, records: Sequence[NativeRecord], fates: Sequence[RecordFate], context: Any
    ) -> None:
        """Remember the version of each record the hub now holds as a message.

        A dead-lettered record is not remembered: once its next version comes, it is
        passed on as new again (a release, a creation), which is what its target missed.
        """
        if not isinstance(context, PollResult) or not isinstance(context.context, list):
            return
        for seen, fate in zip(context.context, fates, strict=True):
            if isinstance(seen, Seen) and fate in ("accepted", "duplicate"):
                await self.state.put(
                    seen.key, {"digest": seen.digest, "write_date": seen.write_date}
                )


def outcome_of_fault(fault: OdooFault) -> SendOutcome:
    """The outcome of an exception Odoo reported (see the module's docstring)."""
    if fault.name in PERMANENT_FAULTS:
        return SendOutcome.rejected(str(fault))
    if fault.name.endswith(CONFLICT_FAULTS):
        return SendOutcome.conflict(str(fault))
    return SendOutcome(
        OutcomeKind.HTTP_ERROR, status_code=500, error=f"Odoo Server Error: {fault}"[:500]
    )


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return f"{where}: {error['msg']}"
