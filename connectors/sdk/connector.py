"""The connector base class, its manifest and its config model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.sdk.outbound import OutboundMessage, SendOutcome

SystemKind = Literal["erp", "wms", "tms", "supplier", "ecommerce", "generic"]


class Manifest(BaseModel):
    """What a connector is and what it can do; published by ``GET /v1/connectors``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$", description="Stable identifier.")
    name: str
    version: str
    kinds: tuple[SystemKind, ...] = Field(min_length=1)
    sends: tuple[str, ...] = Field(default=(), description="Message type patterns it can send.")
    receives: tuple[str, ...] = Field(default=(), description="Message types it can produce.")
    polls: bool = False
    description: str = ""


class ConnectorConfig(BaseModel):
    """Base of every connector's config. Fields typed ``SecretStr`` are secrets."""

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


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """One instance serves one connection. Override :meth:`send`; keep it free of retries."""

    manifest: ClassVar[Manifest]
    config_model: ClassVar[type[ConnectorConfig]]

    def __init__(self, config: ConfigT, *, timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """A pooled HTTP client for this connection, created on first use."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._http

    @abstractmethod
    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Send one delivery and say what happened. Do not raise for expected failures."""

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
