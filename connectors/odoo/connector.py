"""The ``odoo`` connector: an Odoo ERP through its external JSON-RPC API.

Polls purchase orders, stock reservations and backorders (see :mod:`connectors.odoo.polling`);
books received quantities on purchase orders' incoming transfers (see
:mod:`connectors.odoo.receipts`), customer reservations as deliveries (see
:mod:`connectors.odoo.deliveries`) and a warehouse's shipments of them (see
:mod:`connectors.odoo.shipments`). Speaks ``POST /jsonrpc`` with ``common.login`` and
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
from decimal import Decimal
from typing import Annotated, Any

import httpx
from pydantic import Field, TypeAdapter, ValidationError

from connectors.odoo.booking import TransferRefused
from connectors.odoo.config import OdooConfig
from connectors.odoo.deliveries import DeliveryBooker, DeliveryPayload, DeliveryRefused, order_key
from connectors.odoo.polling import STREAMS, Cursor, fingerprint, odoo_datetime, read_page
from connectors.odoo.receipts import ReceiptBooker, ReceiptPayload
from connectors.odoo.records import RelatedRecords
from connectors.odoo.rpc import (
    OdooClient,
    OdooFault,
    OdooHTTPError,
    OdooLoginRefused,
    OdooProtocolError,
)
from connectors.odoo.shipments import ShipmentBooker, ShipmentPayload
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

DELIVERY_PAYLOAD: TypeAdapter[DeliveryPayload | ShipmentPayload] = TypeAdapter(
    Annotated[DeliveryPayload | ShipmentPayload, Field(discriminator="action")]
)
"""A payload of kind ``odoo/delivery``: a reservation to deliver or cancel, or a shipment."""


@dataclass(frozen=True)
class Seen:
    """What :meth:`OdooConnector.committed` remembers of one polled record."""

    key: str
    digest: str
    write_date: str


class OdooConnector(Connector[OdooConfig]):
    """Odoo: purchase orders, reservations and backorders out; receipts, reservations and
    shipments in."""

    manifest = Manifest(
        slug="odoo",
        name="Odoo",
        version="1.2.0",
        kinds=("erp",),
        sends=(
            "receipt.received",
            "reservation.requested",
            "reservation.cancelled",
            "transfer.shipped",
        ),
        polls=True,
        mappings={
            "odoo/purchase.order": "odoo-purchase-order",
            "odoo/stock.reservation": "odoo-reservation",
            "odoo/stock.backorder": "odoo-backorder",
        },
        description="Odoo ERP over JSON-RPC: polls confirmed purchase orders "
        "(po_release.released, po_release.changed), reserved and cancelled deliveries "
        "(reservation.confirmed, reservation.cancelled) and backorders (backorder.created, "
        "backorder.updated, backorder.filled, backorder.cancelled); books receipt.received "
        "on the purchase order's receipt and validates it; books reservation.requested as a "
        "customer delivery, reserved as stock allows, and reservation.cancelled by "
        "cancelling it; books a warehouse's transfer.shipped of a reservation on its "
        "delivery and validates it, the rest backordered.",
    )
    config_model = OdooConfig
    harness = "connectors.odoo.testing:OdooHarness"

    def __init__(
        self, config: OdooConfig, *, timeout: float = 10.0, state: ConnectorState | None = None
    ) -> None:
        super().__init__(config, timeout=timeout, state=state)
        self._client: OdooClient | None = None
        self._booker: ReceiptBooker | None = None
        self._deliveries: DeliveryBooker | None = None
        self._shipments: ShipmentBooker | None = None

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
        self._deliveries = None
        self._shipments = None
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
        """Book the route's payload in Odoo: a receipt (``odoo/receipt``, from the
        ``odoo-receipt`` mapping), or a reservation or its shipment (``odoo/delivery``, from
        ``odoo-delivery`` and ``odoo-shipment``: the payloads with an ``action``)."""
        if message.payload is None:
            return SendOutcome.mapping_error(
                "the odoo connector needs the route to map messages to its payload "
                "(mapping odoo-receipt, odoo-delivery or odoo-shipment)"
            )
        delivery = isinstance(message.payload, dict) and "action" in message.payload
        try:
            if delivery:
                payload: ReceiptPayload | DeliveryPayload | ShipmentPayload = (
                    DELIVERY_PAYLOAD.validate_python(message.payload)
                )
            else:
                payload = ReceiptPayload.model_validate(message.payload)
        except ValidationError as exc:
            what = "delivery" if delivery else "receipt"
            return SendOutcome.mapping_error(f"not an odoo {what} payload: {_first(exc)}")
        try:
            if isinstance(payload, DeliveryPayload):
                await self._delivery_booker().book(payload)
            elif isinstance(payload, ShipmentPayload):
                await self._shipment_booker().book(payload, message.message_key)
            else:
                await self._receipt_booker().book(payload, message.message_key)
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
        except (OdooLoginRefused, TransferRefused, DeliveryRefused) as exc:
            return SendOutcome.rejected(str(exc))
        except OdooFault as fault:
            return outcome_of_fault(fault)
        return SendOutcome.ok()

    def _receipt_booker(self) -> ReceiptBooker:
        if self._booker is None:
            tolerance = self.config.receipt_tolerance_percent
            self._booker = ReceiptBooker(
                self.client,
                self.state,
                backorders=self.config.create_backorders,
                tolerance_percent=None if tolerance is None else Decimal(repr(tolerance)),
            )
        return self._booker

    def _delivery_booker(self) -> DeliveryBooker:
        if self._deliveries is None:
            self._deliveries = DeliveryBooker(self.client, self.state)
        return self._deliveries

    def _shipment_booker(self) -> ShipmentBooker:
        if self._shipments is None:
            # With the reservations' booker: its notes and its per-order locks.
            self._shipments = ShipmentBooker(self.client, self.state, self._delivery_booker())
        return self._shipments

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
                passed_on = await self.state.get(key)
                if stream.pickings:
                    data["crossdock_reservation_id"] = await self._requested_as(data)
                    if (
                        stream.name == "reservations"
                        and data["state"] == "cancel"
                        and data["crossdock_reservation_id"] is None
                        and passed_on is None
                    ):
                        continue  # a delivery no message spoke of: its end is no news
                digest = fingerprint(stream, data)
                if isinstance(passed_on, dict) and passed_on.get("digest") == digest:
                    continue  # written again, but nothing a mapping reads changed
                event = "changed" if passed_on is not None else "new"
                records.append(
                    NativeRecord(
                        stream.kind,
                        {"event": event, **data},
                        # One picking version can be a reservation and a backorder: the
                        # kind, not the model, keeps their ids (and messages) apart.
                        f"{stream.record_name}:{data['id']}@{data['write_date']}",
                    )
                )
                remembered.append(Seen(key, digest, data["write_date"]))
        return PollResult(records, position.dump(), more, context=remembered)

    async def _requested_as(self, picking: dict[str, Any]) -> str | None:
        """The ``reservation_id`` this connector delivered the picking's order for, if any.

        Every delivery of an order (backorders too) has the order as its ``origin``.
        """
        origin = picking.get("origin")
        kind = picking.get("picking_type_id") or {}
        if not origin or kind.get("code") != "outgoing":
            return None
        key = order_key(origin)
        note = await self.state.get(key) if key else None
        found = note.get("reservation_id") if isinstance(note, dict) else None
        return found if isinstance(found, str) else None

    async def _settled_before(self) -> str:
        """The write_date a poll reads records written before, by Odoo's clock.

        Always a whole second that is over, even without a settle delay: Odoo answers
        write_date to the second, so a record written again later in a second the cursor
        has read would come back with the same write_date and be missed.
        """
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
