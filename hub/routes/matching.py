"""Routes compiled for the hot path: type patterns, JMESPath filter and ordering key."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser
import orjson

from hub.routes.models import Route


class InvalidExpression(ValueError):
    pass


@lru_cache(maxsize=1024)
def compile_expression(expression: str) -> jmespath.parser.ParsedResult:
    """A JMESPath expression, parsed once; raises :class:`InvalidExpression`."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise InvalidExpression(str(exc)) from exc


@lru_cache(maxsize=1024)
def _types_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


@dataclass(frozen=True)
class CompiledRoute:
    id: str
    connection_id: str
    types: re.Pattern[str]
    filter: jmespath.parser.ParsedResult | None
    ordering_key: jmespath.parser.ParsedResult

    @classmethod
    def of(cls, route: Route) -> CompiledRoute:
        return cls(
            id=route.id,
            connection_id=route.connection_id,
            types=_types_regex(tuple(orjson.loads(route.types))),
            filter=compile_expression(route.filter) if route.filter else None,
            ordering_key=compile_expression(route.ordering_key),
        )

    def matches(self, event: dict[str, Any]) -> bool:
        if not self.types.fullmatch(event.get("type", "")):
            return False
        if self.filter is None:
            return True
        try:
            return bool(self.filter.search(event))
        except jmespath.exceptions.JMESPathError:
            return False

    def key_of(self, event: dict[str, Any], fallback: str) -> str:
        """The ordering key; a message without one gets its own key (no ordering constraint)."""
        try:
            value = self.ordering_key.search(event)
        except jmespath.exceptions.JMESPathError:
            value = None
        if value is None or value == "":
            return fallback
        return (value if isinstance(value, str) else orjson.dumps(value).decode())[:256]
