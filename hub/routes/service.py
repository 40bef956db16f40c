"""Creating, changing, pausing and deleting routes."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.connections.models import Connection
from hub.deliveries.models import Delivery
from hub.deliveries.policy import RetryPolicy
from hub.errors import AlreadyExists, InUse, InvalidParameters, NotFound
from hub.mappings import MappingRegistry
from hub.routes.matching import InvalidExpression, compile_expression
from hub.routes.models import Route
from hub.routes.policy import retry_of
from hub.routes.schemas import TYPE_PATTERN, RouteCreate, RouteUpdate
from hub.routes.versions import VersionConverter, parse_pin, receives
from hub.store.identifiers import new_id
from hub.store.named import find, page_by_name
from hub.timestamps import utcnow

_TYPE = re.compile(TYPE_PATTERN)


def _invalid(pointer: str, rule: str, message: str) -> InvalidParameters:
    return InvalidParameters(
        f"{pointer}: {message}",
        extensions={"violations": [{"pointer": pointer, "rule": rule, "message": message}]},
    )


def _check_types(types: list[str]) -> str:
    for index, pattern in enumerate(types):
        if not _TYPE.match(pattern):
            raise _invalid(
                f"/types/{index}",
                "type-pattern",
                f"{pattern!r} is not `family.event`, `family.*` or `*`",
            )
    return orjson.dumps(types).decode()


def _check_expression(pointer: str, expression: str) -> str:
    try:
        compile_expression(expression)
    except InvalidExpression as exc:
        raise _invalid(pointer, "jmespath", f"not a JMESPath expression: {exc}") from None
    return expression


def pins_of(route: Route) -> dict[str, str]:
    """The route's contract version pins, ``{family: pin}`` (empty when it has none)."""
    pins: dict[str, str] = orjson.loads(route.contract_versions) if route.contract_versions else {}
    return pins


def _apply_retry(route: Route, policy: RetryPolicy) -> None:
    route.max_attempts = policy.max_attempts
    route.initial_delay = policy.initial_delay
    route.multiplier = policy.multiplier
    route.max_delay = policy.max_delay
    route.jitter = policy.jitter
    route.max_age_seconds = policy.max_age


def view(route: Route, connection_name: str) -> dict[str, Any]:
    return {
        "id": route.id,
        "name": route.name,
        "connection_id": route.connection_id,
        "connection": connection_name,
        "types": orjson.loads(route.types),
        "filter": route.filter,
        "ordering_key": route.ordering_key,
        "retry": retry_of(route).model_dump(),
        "on_dead_letter": route.on_dead_letter,
        "mapping": route.mapping,
        "contract_versions": pins_of(route),
        "paused": route.paused,
        "created_at": route.created_at,
        "updated_at": route.updated_at,
    }


class RouteService:
    """Routes CRUD. Methods take the caller's session; the caller commits."""

    def __init__(
        self, retry_defaults: RetryPolicy, mappings: MappingRegistry, versions: VersionConverter
    ) -> None:
        self.retry_defaults = retry_defaults
        self.mappings = mappings
        self.versions = versions

    def _mapping(self, name: str) -> str:
        if name not in self.mappings.names:
            raise _invalid("/mapping", "mapping-exists", f"no mapping named {name!r} in mappings/")
        return name

    def _implied_pins(
        self, pins: dict[str, str], mapping: str | None, types: list[str]
    ) -> dict[str, str]:
        """``pins``, plus the major version the route's mapping reads, unless pinned already.

        A mapping is written against one contract version: a message of another major would
        fail it, so the route gets that major converted to (the pin is shown on the route).
        """
        if mapping is None:
            return pins
        source = self.mappings.get(mapping).source
        family, version = source.get("contract"), source.get("version")
        if not family or not version or family in pins or not receives(types, family):
            return pins
        return {**pins, family: str(version).partition(".")[0]}

    def _pins(self, pins: dict[str, str], types: list[str]) -> str | None:
        """Check version pins against the contracts and the version mappings; the column
        value (``None`` without pins). Every problem is one violation."""
        if not pins:
            return None
        violations: list[dict[str, str]] = []

        def refuse(family: str, rule: str, message: str) -> None:
            pointer = f"/contract_versions/{family}"
            violations.append({"pointer": pointer, "rule": rule, "message": message})

        for family, text in sorted(pins.items()):
            known = self.versions.registry.families.get(family)
            if known is None:
                names = ", ".join(self.versions.registry.families)
                refuse(family, "contract-family", f"no contract family {family!r}; known: {names}")
                continue
            if not receives(types, family):
                refuse(
                    family,
                    "family-routed",
                    f"the route's types ({', '.join(types)}) match no {family} message",
                )
                continue
            pin = parse_pin(text)
            if not self.versions.targets(family, pin):
                accepting = ", ".join(
                    v.version for v in known.versions.values() if v.accepts_messages
                )
                refuse(
                    family,
                    "version-exists",
                    f"{family} has no version {pin} that accepts messages; "
                    f"versions that do: {accepting or 'none'}",
                )
                continue
            for missing in self.versions.unreachable(family, pin):
                refuse(family, "version-reachable", missing.message)
        if violations:
            shown = "; ".join(v["message"] for v in violations)
            raise InvalidParameters(
                f"/contract_versions: {shown}", extensions={"violations": violations}
            )
        return orjson.dumps(dict(sorted(pins.items()))).decode()

    def _connection(self, session: Session, id_or_name: str) -> Connection:
        connection = find(session, Connection, id_or_name)
        if connection is None:
            raise _invalid("/connection", "connection-exists", f"no connection {id_or_name!r}")
        return connection

    def view(self, session: Session, route: Route) -> dict[str, Any]:
        name = session.scalar(select(Connection.name).where(Connection.id == route.connection_id))
        return view(route, name or "")

    def create(self, session: Session, actor: Actor, body: RouteCreate) -> Route:
        connection = self._connection(session, body.connection)
        if session.scalar(select(Route.id).where(Route.name == body.name)):
            raise AlreadyExists(f"a route named {body.name!r} already exists")
        now = utcnow()
        route = Route(
            id=new_id("rte"),
            name=body.name,
            connection_id=connection.id,
            types=_check_types(body.types),
            filter=_check_expression("/filter", body.filter) if body.filter else None,
            ordering_key=_check_expression("/ordering_key", body.ordering_key),
            on_dead_letter=body.on_dead_letter,
            mapping=self._mapping(body.mapping) if body.mapping else None,
            contract_versions=self._pins(
                self._implied_pins(body.contract_versions, body.mapping or None, body.types),
                body.types,
            ),
            paused=body.paused,
            created_at=now,
            updated_at=now,
        )
        _apply_retry(route, body.retry or self.retry_defaults)
        session.add(route)
        session.flush()
        record(
            session, actor, "route.create", "route", route.id, after=view(route, connection.name)
        )
        return route

    def get(self, session: Session, id_or_name: str) -> Route:
        route = find(session, Route, id_or_name)
        if route is None:
            raise NotFound(f"no route {id_or_name!r}")
        return route

    def list(self, session: Session, after: str | None, limit: int) -> list[Route]:
        return page_by_name(session, Route, after, limit)

    def update(self, session: Session, actor: Actor, id_or_name: str, body: RouteUpdate) -> Route:
        route = self.get(session, id_or_name)
        before = self.view(session, route)
        if body.types is not None:
            route.types = _check_types(body.types)
        if body.filter is not None:
            route.filter = _check_expression("/filter", body.filter) if body.filter else None
        if body.ordering_key is not None:
            route.ordering_key = _check_expression("/ordering_key", body.ordering_key)
        if body.retry is not None:
            _apply_retry(route, body.retry)
        if body.on_dead_letter is not None:
            route.on_dead_letter = body.on_dead_letter
        if body.mapping is not None:
            route.mapping = self._mapping(body.mapping) if body.mapping else None
        if (
            body.contract_versions is not None
            or body.mapping is not None
            or (body.types is not None and route.contract_versions)
        ):
            # New types may no longer receive a pinned family, a new mapping may read another
            # version: pins are worked out and checked again.
            pins = pins_of(route) if body.contract_versions is None else body.contract_versions
            types = orjson.loads(route.types)
            route.contract_versions = self._pins(
                self._implied_pins(pins, route.mapping, types), types
            )
        route.updated_at = utcnow()
        record(
            session,
            actor,
            "route.update",
            "route",
            route.id,
            before=before,
            after=self.view(session, route),
        )
        return route

    def set_paused(self, session: Session, actor: Actor, id_or_name: str, paused: bool) -> Route:
        route = self.get(session, id_or_name)
        if route.paused != paused:
            route.paused = paused
            route.updated_at = utcnow()
            record(
                session,
                actor,
                "route.pause" if paused else "route.resume",
                "route",
                route.id,
                before={"paused": not paused},
                after={"paused": paused},
            )
        return route

    def delete(self, session: Session, actor: Actor, id_or_name: str) -> None:
        """Delete a route with nothing left to deliver; pending deliveries must drain first."""
        route = self.get(session, id_or_name)
        waiting = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.route_id == route.id, Delivery.status.in_(("pending", "in_flight")))
        )
        if waiting:
            raise InUse(
                f"route {route.name!r} still has {waiting} deliveries to make; pause it and let "
                "them drain, or discard them, before deleting it"
            )
        record(session, actor, "route.delete", "route", route.id, before=self.view(session, route))
        session.delete(route)
