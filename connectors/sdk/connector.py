"""The connector base class, its manifest and its config model."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

import httpx
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, SecretStr

from connectors.sdk.inbound import (
    CheckResult,
    InboundRequest,
    NativeRecord,
    NotSupported,
    PollResult,
    RecordFate,
    VerificationFailed,
    Verified,
)
from connectors.sdk.network import AddressGuard, guarded_client
from connectors.sdk.outbound import OutboundMessage, SendOutcome
from connectors.sdk.redaction import scrub, scrub_exception
from connectors.sdk.state import ConnectorState, MemoryState

SystemKind = Literal["erp", "wms", "tms", "supplier", "ecommerce", "generic"]


class Manifest(BaseModel):
    """What a connector is and what it can do; published by ``GET /v1/connectors``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$", description="Stable identifier.")
    name: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?([.-][0-9A-Za-z.-]+)?$")
    kinds: tuple[SystemKind, ...] = Field(
        min_length=1, description="The kinds of system it serves."
    )
    sends: tuple[str, ...] = Field(
        default=(), description="Canonical message type patterns it can send (`receipt.*`)."
    )
    receives: tuple[str, ...] = Field(
        default=(), description="Canonical message types its inbound records map to."
    )
    polls: bool = Field(default=False, description="Whether it pulls records with `poll`.")
    mappings: Mapping[str, str] = Field(
        default_factory=dict,
        description="Default mapping (a name in `mappings/`) per native record kind; a "
        "connection can override each one.",
    )
    description: str = ""


class ConnectorConfig(BaseModel):
    """Base of every connector's config. Fields typed ``SecretStr`` are secrets.

    Secrets are stored encrypted, never returned by the API and never logged; in the
    published JSON Schema they carry ``"writeOnly": true``.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return frozenset(
            name
            for name, info in cls.model_fields.items()
            if info.annotation in (SecretStr, SecretStr | None)
        )

    def public_dict(self) -> dict[str, Any]:
        """The config without its secrets, as JSON-ready values."""
        return self.model_dump(mode="json", exclude=set(self.secret_fields()))

    def secret_dict(self) -> dict[str, str]:
        return {
            name: value.get_secret_value()
            for name in self.secret_fields()
            if isinstance(value := getattr(self, name), SecretStr)
        }

    def outbound_urls(self) -> list[str]:
        """The URLs this config makes the connector send to, for the hub to check against
        its outbound address policy when the connection is created or changed.

        Default: every URL-typed field (``HttpUrl``, ``AnyUrl``). Override it when the
        destination is built from other fields. The check when a request is actually made
        does not depend on it: every connection of :attr:`Connector.http` is checked.
        """
        return [
            str(value)
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), AnyUrl)
        ]


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)
R = TypeVar("R")


def _scrubbing(
    method: Callable[..., Awaitable[R]], clean: Callable[[Any, R], R]
) -> Callable[..., Awaitable[R]]:
    """``method`` with the connection's secrets scrubbed from its result and its exceptions."""

    @functools.wraps(method)
    async def scrubbed(self: Connector[Any], *args: Any, **kwargs: Any) -> R:
        try:
            result = await method(self, *args, **kwargs)
        except Exception as exc:
            scrub_exception(exc, self.secret_values())
            raise
        return clean(self, result)

    scrubbed.__scrubbed__ = True  # type: ignore[attr-defined]
    return scrubbed


def _clean_outcome(connector: Connector[Any], outcome: SendOutcome) -> SendOutcome:
    return outcome.scrubbed(connector.secret_values())


def _clean_check(connector: Connector[Any], result: CheckResult) -> CheckResult:
    detail = scrub(result.detail, connector.secret_values())
    if detail == result.detail:
        return result
    return CheckResult(ok=result.ok, detail=detail, latency_ms=result.latency_ms, info=result.info)


def _same(_connector: Connector[Any], result: R) -> R:
    return result


_SCRUBBED_METHODS: dict[str, Callable[[Any, Any], Any]] = {
    "send": _clean_outcome,
    "check": _clean_check,
    "poll": _same,
}


class Connector(ABC, Generic[ConfigT]):
    """One instance serves one connection (a configured connector for one real system).

    Override what the manifest promises:

    - :meth:`check` always: can the system be reached with this config?
    - :meth:`send` when ``manifest.sends`` is not empty: one delivery, one outcome. Never
      retry inside; the hub owns the retry schedule.
    - :meth:`verify` and :meth:`parse` when ``manifest.receives`` is not empty: the hub calls
      them for each request pushed to ``POST /v1/connections/{id}/inbound``.
    - :meth:`poll` when ``manifest.polls``: one page of records after a cursor.

    Keep secrets out of exceptions and log records; the hub logs exception messages. As a
    safety net, the values of the config's secret fields are scrubbed from what ``send``,
    ``check`` and ``poll`` return or raise (see :mod:`connectors.sdk.redaction`).

    Make every HTTP request through :attr:`http`: when the hub runs the connector, that
    client only connects to addresses the hub's outbound address policy allows.
    """

    manifest: ClassVar[Manifest]
    config_model: ClassVar[type[ConnectorConfig]]
    harness: ClassVar[str | None] = None
    """Where the conformance harness lives (``"package.module:Class"``), for
    ``crossdock connectors test SLUG``."""
    address_guard: AddressGuard | None = None
    """Set by the hub before first use: judges every address :attr:`http` connects to."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, clean in _SCRUBBED_METHODS.items():
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__scrubbed__", False):
                setattr(cls, name, _scrubbing(method, clean))

    def __init__(
        self, config: ConfigT, *, timeout: float = 10.0, state: ConnectorState | None = None
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.state: ConnectorState = state if state is not None else MemoryState()
        """Durable state of this connection (kept in the hub's database when run by the hub)."""
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.manifest.slug} {self.config.public_dict()!r}>"

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """The config model as JSON Schema; secret fields are ``writeOnly``."""
        return cls.config_model.model_json_schema()

    @classmethod
    def problems(cls) -> list[str]:
        """What is inconsistent between the manifest and the methods; empty when sound."""
        found: list[str] = []
        for promised, method in (
            (bool(cls.manifest.sends), "send"),
            (bool(cls.manifest.receives), "verify"),
            (bool(cls.manifest.receives), "parse"),
            (cls.manifest.polls, "poll"),
        ):
            overridden = getattr(cls, method) is not getattr(Connector, method)
            if promised and not overridden:
                found.append(f"the manifest promises {method}() but the class does not define it")
            if overridden and not promised:
                found.append(f"{method}() is defined but the manifest does not declare it")
        if not issubclass(cls.config_model, ConnectorConfig):
            found.append("config_model must subclass ConnectorConfig")
        return found

    @property
    def http(self) -> httpx.AsyncClient:
        """A pooled HTTP client for this connection, created on first use.

        Under the hub, it refuses destinations the outbound address policy refuses, redirect
        targets included (:class:`~connectors.sdk.network.OutboundAddressRefused`).
        """
        if self._http is None:
            self._http = guarded_client(self.address_guard, timeout=self.timeout)
        return self._http

    def secret_values(self) -> tuple[str, ...]:
        """The values of this connection's secrets (what must never be shown or logged)."""
        # Asked after every send: computed once (a connector's config does not change).
        values: tuple[str, ...] | None = self.__dict__.get("_secret_values")
        if values is None:
            values = tuple(self.config.secret_dict().values())
            self.__dict__["_secret_values"] = values
        return values

    @abstractmethod
    async def check(self) -> CheckResult:
        """Reach the system with this config and report; do not raise for a failure."""

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Send one delivery and say what happened. Do not raise for expected failures."""
        return SendOutcome.rejected(f"the {self.manifest.slug} connector does not send")

    def verify(self, request: InboundRequest) -> Verified:
        """Check that ``request`` is authentic; raise :class:`VerificationFailed` if not."""
        raise VerificationFailed(f"the {self.manifest.slug} connector does not receive")

    async def parse(self, request: InboundRequest) -> Sequence[NativeRecord]:
        """Turn a verified request into native records. Raise anything if it cannot.

        It may read ``self.state`` (to drop an update older than one already seen, say) but
        must not write it: the records are not stored yet. Write in :meth:`committed`. Leaving
        a record out is how a connector ignores it.
        """
        raise NotSupported(f"the {self.manifest.slug} connector does not receive")

    async def receive(self, request: InboundRequest) -> tuple[Verified, Sequence[NativeRecord]]:
        """Verify, then parse: what the hub does with a pushed request."""
        verified = self.verify(request)
        return verified, await self.parse(request)

    async def poll(self, cursor: str | None) -> PollResult:
        """Read the records after ``cursor`` (``None``: from the start) and the next cursor."""
        raise NotSupported(f"the {self.manifest.slug} connector does not poll")

    async def committed(
        self, records: Sequence[NativeRecord], fates: Sequence[RecordFate], context: Any
    ) -> None:
        """Called once the hub has stored records: their messages and dead letters (and, for
        a polled page, the next cursor), in one transaction.

        ``fates`` has one entry per record: ``accepted``, ``duplicate`` (stored before) or
        ``dead_lettered`` (kept by the hub as an inbound dead letter). ``context`` is the
        polled page's ``PollResult.context``, or the :class:`InboundRequest` of a push. Now
        is the time for what must follow a safe landing and never precede it: moving a file
        to ``processed/`` or ``failed/``, writing an acknowledgement, remembering the
        newest version seen in ``self.state``. If this raises, the records stay stored; the
        hub logs the error. Default: nothing.
        """

    async def aclose(self) -> None:
        """Release what the connector holds; the base closes its HTTP client."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
