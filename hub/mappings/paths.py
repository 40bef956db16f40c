"""Source paths: JMESPath expressions, with the common ones turned into direct access.

Most paths in a mapping are plain (``name``, ``customer.id``, ``line_items[0].sku``, ``@``).
Those are read from the parsed JMESPath tree into *steps* (keys and list indexes) that the
compiled mapping follows with ``dict.get`` and list indexing, which is many times faster than
the JMESPath interpreter. Anything else (functions, filters, projections, ``||``) is evaluated
by the compiled JMESPath expression. Both give the same answers: a missing key, a key on
something that is not an object, or an index out of range is ``None``, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_exceptions
from jmespath.parser import ParsedResult

from hub.mappings.errors import SpecError

PathStep = str | int


@dataclass(frozen=True)
class CompiledPath:
    """One JMESPath expression: direct ``steps``, or ``None`` when JMESPath must evaluate it."""

    expression: str
    steps: tuple[PathStep, ...] | None
    parsed: ParsedResult

    def search(self, value: Any) -> Any:
        """The expression's value in ``value`` (the compiled mapping inlines this)."""
        if self.steps is None:
            return self.parsed.search(value)
        return walk(value, self.steps)


def compile_path(expression: Any) -> CompiledPath:
    """Parse ``expression``; raises :class:`SpecError` when it is not valid JMESPath."""
    if not isinstance(expression, str) or not expression.strip():
        raise SpecError(f"a path is a JMESPath expression (a non-empty string), not {expression!r}")
    try:
        parsed = jmespath.compile(expression)
    except jmespath_exceptions.JMESPathError as exc:
        detail = " ".join(str(exc).split())
        raise SpecError(f"{expression!r} is not valid JMESPath: {detail}") from None
    return CompiledPath(expression, direct_steps(parsed.parsed), parsed)


def direct_steps(node: Mapping[str, Any]) -> tuple[PathStep, ...] | None:
    """The keys and indexes a plain path follows; ``None`` if it is not plain.

    ``a.b[0].c`` parses to ``subexpression(field a, index_expression(field b, index 0),
    field c)`` and becomes ``("a", "b", 0, "c")``; ``@`` becomes ``()``.
    """
    kind = node["type"]
    if kind == "field":
        return (node["value"],)
    if kind in ("current", "identity"):
        return ()
    if kind == "subexpression":
        steps: list[PathStep] = []
        for child in node["children"]:
            child_steps = direct_steps(child)
            if child_steps is None:
                return None
            steps.extend(child_steps)
        return tuple(steps)
    if kind == "index_expression":
        left, *indexes = node["children"]
        base = direct_steps(left)
        if base is None or any(index["type"] != "index" for index in indexes):
            return None
        return base + tuple(int(index["value"]) for index in indexes)
    return None


def index(value: Any, position: int) -> Any:
    """``value[position]`` the JMESPath way: ``None`` unless a list long enough."""
    if isinstance(value, list) and -len(value) <= position < len(value):
        return value[position]
    return None


def walk(value: Any, steps: tuple[PathStep, ...]) -> Any:
    """Follow ``steps`` from ``value``; ``None`` as soon as one does not apply."""
    for step in steps:
        if isinstance(step, int):
            value = index(value, step)
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
        if value is None:
            return None
    return value
