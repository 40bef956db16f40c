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
        "paused": route.paused,
        "created_at": route.created_at,
        "updated_at": route.updated_at,
    }


class RouteService:
    """Routes CRUD. Methods take the caller's session; the caller commits."""

    def __init__(self, retry_defaults: RetryPolicy, mappings: MappingRegistry) -> None:
        self.retry_defaults = retry_defaults
        self.mappings = mappings

    def _mapping(self, name: str) -> str:
        if name not in self.mappings.names:
            raise _invalid("/mapping", "mapping-exists", f"no mapping named {name!r} in mappings/")
        return name

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
