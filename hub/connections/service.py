"""Creating, changing and reading connections; turning them into live connector instances."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors.sdk import CheckResult, Connector, ConnectorConfig, ConnectorState, MemoryState
from hub.audit.service import Actor, record
from hub.connections.models import Connection, ConnectionStateEntry
from hub.connections.registry import ConnectorRegistry
from hub.connections.schemas import ConnectionCreate, ConnectionUpdate
from hub.connections.secrets import SecretBox
from hub.deliveries.policy import BreakerDefaults
from hub.errors import AlreadyExists, InUse, InvalidParameters, NotFound
from hub.governance.outbound import OutboundAddressPolicy
from hub.mappings import MappingRegistry
from hub.store.identifiers import new_id
from hub.store.named import find, page_by_name
from hub.timestamps import utcnow


def _config_problem(exc: ValidationError, connector: str) -> InvalidParameters:
    violations = [
        {
            "pointer": "/".join(["/config", *(str(p) for p in error["loc"])]),
            "rule": f"config:{error['type']}",
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    return InvalidParameters(
        f"the config does not fit the {connector} connector: "
        + "; ".join(f"{v['pointer']}: {v['message']}" for v in violations),
        extensions={"violations": violations},
    )


def effective_mappings(
    connection: Connection,
    connector: type[Connector] | None,  # type: ignore[type-arg]
) -> dict[str, str]:
    """The connector's default mapping per record kind, overridden by the connection's."""
    defaults = dict(connector.manifest.mappings) if connector is not None else {}
    chosen: dict[str, str] = orjson.loads(connection.mappings or "{}")
    return {**defaults, **chosen}


def view(
    connection: Connection,
    box: SecretBox,
    connector: type[Connector] | None = None,  # type: ignore[type-arg]
) -> dict[str, Any]:
    return {
        "id": connection.id,
        "name": connection.name,
        "connector": connection.connector,
        "config": orjson.loads(connection.config),
        "secrets_set": sorted(box.open(connection.secrets)),
        "concurrency": connection.concurrency,
        "timeout_seconds": connection.timeout_seconds,
        "breaker_threshold": connection.breaker_threshold,
        "breaker_cooldown_seconds": connection.breaker_cooldown_seconds,
        "breaker": {
            "state": connection.breaker_state,
            "consecutive_failures": connection.consecutive_failures,
            "opened_until": connection.opened_until,
        },
        "mappings": effective_mappings(connection, connector),
        "polling": {
            "interval_seconds": connection.poll_interval_seconds,
            "cursor": connection.poll_cursor,
            "next_poll_at": connection.next_poll_at,
            "last_polled_at": connection.last_polled_at,
            "last_error": connection.last_poll_error,
        },
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    }


@dataclass
class ConnectionService:
    """Connections CRUD. Methods take the caller's session; the caller commits."""

    connectors: ConnectorRegistry
    box: SecretBox
    breaker_defaults: BreakerDefaults
    mappings: MappingRegistry
    # Builds each connector's durable state; set once the process's committer exists.
    state_of: Callable[[str], ConnectorState] = field(default=lambda _: MemoryState())
    # Where connectors may connect (governance/hub.yaml); None only outside a hub process.
    outbound: OutboundAddressPolicy | None = None

    def view(self, connection: Connection) -> dict[str, Any]:
        return view(connection, self.box, self.connectors.get(connection.connector))

    def _check_mappings(self, chosen: dict[str, str]) -> None:
        unknown = sorted(name for name in chosen.values() if name not in self.mappings.names)
        if unknown:
            raise InvalidParameters(
                f"no mapping named {', '.join(map(repr, unknown))} in mappings/",
                extensions={
                    "violations": [
                        {
                            "pointer": f"/mappings/{kind}",
                            "rule": "mapping-exists",
                            "message": f"unknown mapping {name!r}",
                        }
                        for kind, name in sorted(chosen.items())
                        if name in unknown
                    ]
                },
            )

    def _check_polling(self, slug: str, interval: float | None) -> None:
        if interval and not self._connector(slug).manifest.polls:
            raise InvalidParameters(
                f"the {slug} connector does not poll; leave out poll_interval_seconds",
                extensions={
                    "violations": [
                        {
                            "pointer": "/poll_interval_seconds",
                            "rule": "connector-polls",
                            "message": f"{slug} does not poll",
                        }
                    ]
                },
            )

    def _connector(self, slug: str) -> type[Connector]:  # type: ignore[type-arg]
        connector = self.connectors.get(slug)
        if connector is None:
            raise InvalidParameters(
                f"no connector {slug!r} is installed; "
                f"installed: {', '.join(self.connectors.connectors)}",
                extensions={
                    "violations": [
                        {
                            "pointer": "/connector",
                            "rule": "connector-installed",
                            "message": f"unknown connector {slug!r}",
                        }
                    ]
                },
            )
        return connector

    def _validated(self, slug: str, values: dict[str, Any]) -> ConnectorConfig:
        try:
            return self._connector(slug).config_model.model_validate(values)
        except ValidationError as exc:
            raise _config_problem(exc, slug) from None

    def create(self, session: Session, actor: Actor, body: ConnectionCreate) -> Connection:
        config = self._validated(body.connector, body.config)
        self._check_mappings(body.mappings)
        self._check_polling(body.connector, body.poll_interval_seconds)
        if session.scalar(select(Connection.id).where(Connection.name == body.name)):
            raise AlreadyExists(f"a connection named {body.name!r} already exists")
        now = utcnow()
        connection = Connection(
            id=new_id("con"),
            name=body.name,
            connector=body.connector,
            config=orjson.dumps(config.public_dict()).decode(),
            secrets=self.box.seal(config.secret_dict()),
            concurrency=body.concurrency,
            timeout_seconds=body.timeout_seconds,
            breaker_threshold=body.breaker_threshold or self.breaker_defaults.threshold,
            breaker_cooldown_seconds=body.breaker_cooldown_seconds
            or self.breaker_defaults.cooldown_seconds,
            breaker_state="closed",
            consecutive_failures=0,
            mappings=orjson.dumps(body.mappings).decode(),
            poll_interval_seconds=body.poll_interval_seconds,
            next_poll_at=now if body.poll_interval_seconds else None,
            created_at=now,
            updated_at=now,
        )
        session.add(connection)
        session.flush()
        record(
            session,
            actor,
            "connection.create",
            "connection",
            connection.id,
            after=self.view(connection),
        )
        return connection

    def get(self, session: Session, id_or_name: str) -> Connection:
        connection = find(session, Connection, id_or_name)
        if connection is None:
            raise NotFound(f"no connection {id_or_name!r}")
        return connection

    def list(self, session: Session, after: str | None, limit: int) -> list[Connection]:
        return page_by_name(session, Connection, after, limit)

    def update(
        self, session: Session, actor: Actor, id_or_name: str, body: ConnectionUpdate
    ) -> Connection:
        connection = self.get(session, id_or_name)
        before = self.view(connection)
        secrets_before = self.box.open(connection.secrets)
        if body.mappings is not None:
            self._check_mappings(body.mappings)
            connection.mappings = orjson.dumps(body.mappings).decode()
        if body.poll_interval_seconds is not None:
            self._check_polling(connection.connector, body.poll_interval_seconds)
            connection.poll_interval_seconds = body.poll_interval_seconds or None
            connection.next_poll_at = utcnow() if body.poll_interval_seconds else None
        if body.config is not None:
            merged = {
                **orjson.loads(connection.config),
                **self.box.open(connection.secrets),
                **body.config,
            }
            config = self._validated(connection.connector, merged)
            connection.config = orjson.dumps(config.public_dict()).decode()
            connection.secrets = self.box.seal(config.secret_dict())
        for name in (
            "concurrency",
            "timeout_seconds",
            "breaker_threshold",
            "breaker_cooldown_seconds",
        ):
            value = getattr(body, name)
            if value is not None:
                setattr(connection, name, value)
        connection.updated_at = utcnow()
        # The views name the secrets set, never their values: a new value for one shows
        # nowhere else, so the entry says which were replaced.
        secrets_after = self.box.open(connection.secrets)
        replaced = sorted(
            name
            for name in secrets_before.keys() | secrets_after.keys()
            if secrets_before.get(name) != secrets_after.get(name)
        )
        record(
            session,
            actor,
            "connection.update",
            "connection",
            connection.id,
            before=before,
            after=self.view(connection),
            detail=f"secrets replaced: {', '.join(replaced)}" if replaced else None,
        )
        return connection

    def delete(self, session: Session, actor: Actor, id_or_name: str) -> None:
        from hub.routes.models import Route

        connection = self.get(session, id_or_name)
        routes = list(
            session.scalars(select(Route.name).where(Route.connection_id == connection.id))
        )
        if routes:
            raise InUse(
                f"connection {connection.name!r} is used by routes {', '.join(routes)}; "
                "delete them first"
            )
        record(
            session,
            actor,
            "connection.delete",
            "connection",
            connection.id,
            before=self.view(connection),
        )
        session.execute(
            delete(ConnectionStateEntry).where(ConnectionStateEntry.connection_id == connection.id)
        )
        session.delete(connection)

    async def check(self, connection: Connection, timeout: float | None = None) -> CheckResult:
        """Run the connector's health check with a fresh instance; never raises."""
        started = time.perf_counter()
        try:
            connector = self.instantiate(connection)
        except Exception as exc:
            return CheckResult(ok=False, detail=f"the stored config does not load: {exc}")
        try:
            return await asyncio.wait_for(connector.check(), timeout or connection.timeout_seconds)
        except TimeoutError:
            elapsed = (time.perf_counter() - started) * 1000
            return CheckResult(ok=False, detail="the check timed out", latency_ms=round(elapsed, 1))
        except Exception as exc:
            return CheckResult(ok=False, detail=f"the check failed: {type(exc).__name__}: {exc}")
        finally:
            await connector.aclose()

    def instantiate(self, connection: Connection) -> Connector:  # type: ignore[type-arg]
        """A live connector for ``connection``, with its secrets decrypted."""
        connector = self._connector(connection.connector)
        values = {**orjson.loads(connection.config), **self.box.open(connection.secrets)}
        config = connector.config_model.model_validate(values)
        instance = connector(
            config, timeout=connection.timeout_seconds, state=self.state_of(connection.id)
        )
        if self.outbound is not None:
            instance.address_guard = self.outbound.refusal
        return instance
