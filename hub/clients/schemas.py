"""API shapes of the clients domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.clients.scopes import Scope

CLIENT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"
RATE_LIMIT_DESCRIPTION = (
    "Requests this client may make, in the notation of the `limits` library: `100/second`, "
    "`6000/minute`. Leave out (or null) for the hub's default (`CROSSDOCK_RATE_LIMIT`)."
)


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=CLIENT_NAME_PATTERN, description="A unique name: the caller.")
    scopes: list[Scope] = Field(min_length=1, description="What the key may do.")
    connection: str | None = Field(
        default=None,
        max_length=128,
        description="Bind the client to this connection (id or name): it may then only post "
        "messages with source `/connections/<name>` and see that connection's messages, "
        "deliveries and dead letters. A bound client cannot hold `admin`.",
    )
    rate_limit: str | None = Field(default=None, max_length=64, description=RATE_LIMIT_DESCRIPTION)


class ClientUpdate(BaseModel):
    """Only the fields given change; `connection: null` unbinds, `rate_limit: null` restores
    the default."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[Scope] | None = Field(default=None, min_length=1)
    connection: str | None = Field(default=None, max_length=128)
    rate_limit: str | None = Field(default=None, max_length=64, description=RATE_LIMIT_DESCRIPTION)


class ClientOut(BaseModel):
    id: str
    name: str
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    scopes: list[str]
    connection: str | None = Field(description="The connection it is bound to, if any.")
    rate_limit: str | None = Field(description="Its own rate limit; null: the hub's default.")
    created_at: datetime
    revoked_at: datetime | None


class ClientIssued(ClientOut):
    key: str = Field(description="The API key. Shown only in this answer: only a hash is kept.")


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None
