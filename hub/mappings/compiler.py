"""Compiling a mapping's fields into one Python function, once, when the file loads.

The whole mapping becomes the source of a single function (see :attr:`Mapping.code` for a
loaded one) that builds the output with plain statements: plain paths are chains of
``dict.get`` inside ``try/except AttributeError`` (a missing key, or a key on something
that is not an object, gives ``None``), transforms are calls of the functions built when the
file loaded, literals are constants, and ``each`` is a ``for`` loop. Only paths JMESPath
must interpret call it. ``root:`` sources inside ``each`` do not depend on the item, so they
are evaluated once per document, before the loop.

Each field's work sits in a ``try`` block (free when nothing is raised) whose handler turns
any exception into a :class:`MappingError` with the field's JSON pointer.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jmespath import visitor

from hub.mappings.decimals import to_json_number, type_name
from hub.mappings.errors import MappingError, TransformError
from hub.mappings.paths import CompiledPath, index
from hub.mappings.spec import (
    ConcatSource,
    EachSource,
    FieldSpec,
    IndexSource,
    PathSource,
    ValueSource,
)
from hub.mappings.transforms import format_string

MapFunction = Callable[[Any], dict[str, Any]]

_JSON_TYPES = (str, int, float, bool, list, dict)
_COMPILED = itertools.count(1)


def _fail(pointer: str, source_path: str | None, error: Exception) -> MappingError:
    if isinstance(error, TransformError):
        message = str(error)
    else:  # a JMESPath function on the wrong type, or a transform's own bug: still reported
        message = f"{type(error).__name__}: {error}"
    return MappingError(pointer, source_path, message)


def _not_a_list(value: Any) -> TransformError:
    return TransformError(f"each: expected an array, got {type_name(value)}")


_RUNTIME: dict[str, Any] = {
    "_fail": _fail,
    "_not_a_list": _not_a_list,
    "_index": index,
    "_str": format_string,
    "_number": to_json_number,
    "_Decimal": Decimal,
    "_MappingError": MappingError,
}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Text:
    """A string built at run time: constant parts and loop variables (``str(_i1)``)."""

    parts: tuple[tuple[bool, str], ...] = ()  # (is_variable, text)

    def plus(self, text: str) -> _Text:
        return _Text((*self.parts, (False, text)))

    def plus_var(self, name: str) -> _Text:
        return _Text((*self.parts, (True, name)))

    def plus_text(self, other: _Text) -> _Text:
        return _Text((*self.parts, *other.parts))

    def code(self) -> str:
        merged: list[tuple[bool, str]] = []
        for is_var, text in self.parts:
            if merged and not is_var and not merged[-1][0]:
                merged[-1] = (False, merged[-1][1] + text)
            else:
                merged.append((is_var, text))
        if not merged:
            return "''"
        return " + ".join(f"str({text})" if is_var else repr(text) for is_var, text in merged)


@dataclass
class _Loop:
    """The ``each`` the code being written is inside of."""

    item: str  # variable holding the current item
    index: str  # variable holding its position (0-based)
    source: _Text  # how the item is described in errors: line_items[2]
    hoisted: dict[int, str] = field(default_factory=dict)  # id(FieldSpec) → variable


class _Writer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = dict(_RUNTIME)
        self.count = 0
        self.interpreter = visitor.TreeInterpreter()

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, prefix: str, value: Any) -> str:
        name = self.fresh(prefix)
        self.namespace[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    # --- objects and fields -----------------------------------------------------------

    def object(
        self,
        fields: tuple[FieldSpec, ...],
        target: str,
        depth: int,
        pointer: _Text,
        loop: _Loop | None,
        level: int = 0,
    ) -> None:
        """Fill the dict in variable ``target`` with ``fields`` (targets from ``level`` on)."""
        groups: dict[str, list[FieldSpec]] = {}
        for spec in fields:
            groups.setdefault(spec.target[level], []).append(spec)
        for key, members in groups.items():
            inner = pointer.plus("/" + _escape(key))
            if len(members) == 1 and len(members[0].target) == level + 1:
                self.field(members[0], target, key, depth, inner, loop)
                continue
            child = self.fresh("_o")
            self.emit(depth, f"{child} = {{}}")
            self.object(tuple(members), child, depth, inner, loop, level + 1)
            self.emit(depth, f"if {child}:")
            self.emit(depth + 1, f"{target}[{key!r}] = {child}")

    def field(
        self, spec: FieldSpec, target: str, key: str, depth: int, pointer: _Text, loop: _Loop | None
    ) -> None:
        source = spec.source
        if isinstance(source, ValueSource):
            if source.value is not None:  # transforms were applied when the file loaded
                self.emit(depth, f"{target}[{key!r}] = {self.literal(source.value)}")
            return
        hoisted = loop.hoisted.get(id(spec)) if loop else None
        if hoisted is not None:
            self.emit(depth, f"if {hoisted} is not None:")
            self.emit(depth + 1, f"{target}[{key!r}] = {hoisted}")
            return
        self.value(spec, "_v", depth, pointer, loop)
        self.emit(depth, "if _v is not None:")
        self.emit(depth + 1, f"{target}[{key!r}] = _v")

    def value(
        self, spec: FieldSpec, out: str, depth: int, pointer: _Text, loop: _Loop | None
    ) -> None:
        """Statements leaving the field's final value (or ``None``) in variable ``out``."""
        self.emit(depth, "try:")
        self.source(spec, depth + 1, pointer, loop)
        self.steps(spec, depth + 1)
        if spec.exact:
            self.emit(depth + 1, "if _v.__class__ is _Decimal:")
            self.emit(depth + 2, "_v = _number(_v)")
        if isinstance(spec.source, EachSource):
            self.emit(depth, "except _MappingError:")
            self.emit(depth + 1, "raise")
        self.emit(depth, "except Exception as _e:")
        described = self.describe(spec, loop)
        origin = described.code() if described else "None"
        self.emit(depth + 1, f"raise _fail({pointer.code()}, {origin}, _e) from _e")
        if out != "_v":
            self.emit(depth, f"{out} = _v")

    def steps(self, spec: FieldSpec, depth: int) -> None:
        for transform, step in spec.steps:
            name = self.constant(f"_{transform.name}_", step)
            self.emit(depth, f"if not ({transform.skip}):")
            self.emit(depth + 1, f"_v = {name}(_v)")

    # --- sources ----------------------------------------------------------------------

    def source(self, spec: FieldSpec, depth: int, pointer: _Text, loop: _Loop | None) -> None:
        """Statements leaving the raw source value in ``_v``."""
        source = spec.source
        if isinstance(source, ValueSource):
            self.emit(depth, f"_v = {self.literal(source.value)}")
        elif isinstance(source, PathSource):
            base = loop.item if loop and not source.from_root else "_doc"
            self.path(source.path, base, depth)
        elif isinstance(source, IndexSource):
            if loop is None:  # the reader refuses this; kept for the type checker
                raise AssertionError("index outside each")
            self.emit(depth, f"_v = {loop.index} + {source.start}")
        elif isinstance(source, ConcatSource):
            self.concat(source, depth, pointer, loop)
        else:
            self.each(source, depth, pointer, loop)

    def path(self, path: CompiledPath, base: str, depth: int) -> None:
        if path.steps is None:
            search = self.constant("_jmespath_", path.parsed.parsed)
            self.namespace.setdefault("_visit", self.interpreter.visit)
            self.emit(depth, f"_v = _visit({search}, {base})")
            return
        if not path.steps:
            self.emit(depth, f"_v = {base}")
            return
        current = base
        chain: list[str] = []

        def flush() -> None:
            nonlocal current
            if not chain:
                return
            gets = "".join(f".get({key!r})" for key in chain)
            self.emit(depth, "try:")
            self.emit(depth + 1, f"_v = {current}{gets}")
            self.emit(depth, "except AttributeError:")
            self.emit(depth + 1, "_v = None")
            chain.clear()
            current = "_v"

        for step in path.steps:
            if isinstance(step, int):
                flush()
                self.emit(depth, f"_v = _index({current}, {step})")
                current = "_v"
            else:
                chain.append(step)
        flush()

    def concat(self, source: ConcatSource, depth: int, pointer: _Text, loop: _Loop | None) -> None:
        texts: list[str] = []  # a Python expression per part: a constant or _str(variable)
        variables: list[str] = []
        for part in source.parts:
            if isinstance(part.source, ValueSource):
                value = part.source.value
                texts.append("None" if value is None else repr(format_string(value)))
                continue
            self.source(part, depth, pointer, loop)
            self.steps(part, depth)
            variable = self.fresh("_p")
            self.emit(depth, f"{variable} = _v")
            variables.append(variable)
            texts.append(variable)
        joiner = repr(source.sep)
        if source.skip_null:
            self.emit(depth, f"_v = [_str(_x) for _x in ({', '.join(texts)},) if _x is not None]")
            self.emit(depth, f"_v = {joiner}.join(_v) if _v else None")
        elif "None" in texts:
            self.emit(depth, "_v = None")  # a literal part is missing: so is the whole
        else:
            joined = ", ".join(f"_str({t})" if t in variables else t for t in texts)
            missing = " or ".join(f"{v} is None" for v in variables) or "False"
            self.emit(depth, f"_v = None if {missing} else {joiner}.join(({joined},))")

    def each(self, source: EachSource, depth: int, pointer: _Text, loop: _Loop | None) -> None:
        self.path(source.path, loop.item if loop else "_doc", depth)
        items, result = self.fresh("_s"), self.fresh("_l")
        index_var, item_var = self.fresh("_i"), self.fresh("_e")
        described = (
            _join(loop.source, source.path) if loop else _Text().plus(source.path.expression)
        )
        inner = _Loop(item_var, index_var, described.plus("[").plus_var(index_var).plus("]"))
        self.emit(depth, "if _v is not None:")
        depth += 1
        self.emit(depth, "if _v.__class__ is not list:")
        self.emit(depth + 1, "raise _not_a_list(_v)")
        self.emit(depth, f"{items} = _v")
        self.emit(depth, f"{result} = []")
        self.hoist(source.fields, items, depth, pointer, inner)
        self.emit(depth, f"for {index_var}, {item_var} in enumerate({items}):")
        item_object = self.fresh("_o")
        self.emit(depth + 1, f"{item_object} = {{}}")
        item_pointer = pointer.plus("/").plus_var(index_var)
        self.object(source.fields, item_object, depth + 1, item_pointer, inner)
        self.emit(depth + 1, f"{result}.append({item_object})")
        self.emit(depth, f"_v = {result}")

    def hoist(
        self, fields: tuple[FieldSpec, ...], items: str, depth: int, pointer: _Text, loop: _Loop
    ) -> None:
        """Evaluate the ``root:`` fields of an ``each`` once, before its loop.

        A failure is reported at the first item, where the loop would have met it.
        """
        hoistable = [
            spec for spec in fields if isinstance(spec.source, PathSource) and spec.source.from_root
        ]
        if not hoistable:
            return
        first = _Loop("None", "0", loop.source, {})
        self.emit(depth, f"if {items}:")
        for spec in hoistable:
            variable = self.fresh("_h")
            at = pointer.plus("/0" + "".join("/" + _escape(k) for k in spec.target))
            self.value(spec, variable, depth + 1, at, first)
            loop.hoisted[id(spec)] = variable

    # --- helpers ----------------------------------------------------------------------

    def literal(self, value: Any) -> str:
        # repr of JSON values is a Python display: a fresh list or dict on every call
        if value is None or isinstance(value, _JSON_TYPES):
            return repr(value)
        return self.constant("_c", value)

    def describe(self, spec: FieldSpec, loop: _Loop | None) -> _Text | None:
        """Where the value came from, for the error: ``line_items[2].barcode``."""
        source = spec.source
        if isinstance(source, PathSource | EachSource):
            if loop is None or (isinstance(source, PathSource) and source.from_root):
                return _Text().plus(source.path.expression)
            return _join(loop.source, source.path)
        if isinstance(source, ConcatSource):
            described = [d for d in (self.describe(p, loop) for p in source.parts) if d]
            if not described:
                return None
            text = _Text().plus("concat(").plus_text(described[0])
            for part in described[1:]:
                text = text.plus(", ").plus_text(part)
            return text.plus(")")
        return None

    def compile(self, fields: tuple[FieldSpec, ...]) -> tuple[MapFunction, str]:
        self.emit(0, "def _map(_doc):")
        self.emit(1, "_out = {}")
        self.object(fields, "_out", 1, _Text(), None)
        self.emit(1, "return _out")
        code = "\n".join(self.lines) + "\n"
        filename = f"<mapping {self.name} #{next(_COMPILED)}>"  # one per compilation
        # Tracebacks through the generated function show its lines.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), self.namespace)
        function: MapFunction = self.namespace["_map"]
        return function, code


def _join(prefix: _Text, path: CompiledPath) -> _Text:
    """``line_items[2]`` and ``sku`` → ``line_items[2].sku``; other paths with ``|``."""
    steps = path.steps
    if steps == ():
        return prefix
    if steps is not None:
        return prefix.plus(("." if isinstance(steps[0], str) else "") + path.expression)
    return prefix.plus(" | " + path.expression)


def compile_fields(name: str, fields: tuple[FieldSpec, ...]) -> tuple[MapFunction, str]:
    """The function mapping one document, and its Python source."""
    return _Writer(name).compile(fields)
