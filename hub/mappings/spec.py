"""The ``fields`` of a mapping file, checked and read into a tree the compiler turns into code.

Every field is ``target: {<source>, via: [transforms…]}`` with exactly one source:

=========  =================================================================================
``path``   JMESPath over the current document (inside ``each``: over the current item)
``root``   JMESPath over the whole input document, also inside ``each``
``value``  a literal (any JSON value)
``index``  inside ``each``: the item's position, counting from the given number (``1``)
``concat`` a list of sources joined as text (``sep``, default ``""``); missing if any part
           is missing, unless ``skip_null: true`` (then only present parts are joined)
``each``   JMESPath giving a list; the nested ``fields`` map every item to one object
=========  =================================================================================

Targets are dotted paths in the output (``data.lines``); objects are made as needed. Problems
are collected, not raised, so one load reports all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.mappings.decimals import to_json_number
from hub.mappings.errors import SpecError, TransformError
from hub.mappings.files import FileError, as_json
from hub.mappings.paths import CompiledPath, compile_path
from hub.mappings.transforms import BuildContext, Step, Transform, build_step

SOURCES = ("path", "root", "value", "index", "concat", "each")
_OPTIONS: dict[str, frozenset[str]] = {
    "path": frozenset({"path", "via"}),
    "root": frozenset({"root", "via"}),
    "value": frozenset({"value", "via"}),
    "index": frozenset({"index", "via"}),
    "concat": frozenset({"concat", "sep", "skip_null", "via"}),
    "each": frozenset({"each", "fields", "via"}),
}


@dataclass(frozen=True)
class PathSource:
    path: CompiledPath
    from_root: bool  # `root:` rather than `path:`


@dataclass(frozen=True)
class ValueSource:
    value: Any  # JSON value; transforms on a literal are applied when the file loads


@dataclass(frozen=True)
class IndexSource:
    start: int


@dataclass(frozen=True)
class ConcatSource:
    parts: tuple[FieldSpec, ...]
    sep: str
    skip_null: bool


@dataclass(frozen=True)
class EachSource:
    path: CompiledPath
    fields: tuple[FieldSpec, ...]


Source = PathSource | ValueSource | IndexSource | ConcatSource | EachSource


@dataclass(frozen=True)
class FieldSpec:
    """One output field: where it goes, where its value comes from, and its pipeline."""

    target: tuple[str, ...]
    source: Source
    steps: tuple[tuple[Transform, Step], ...]
    label: str  # for messages: data.lines[].item.gtin

    @property
    def exact(self) -> bool:
        """Some step may return a Decimal, to be turned into a JSON number at the end."""
        return any(transform.exact for transform, _ in self.steps)


class SpecReader:
    """Reads ``fields`` mappings; every problem goes to ``problems`` as ``field X: why``."""

    def __init__(self, context: BuildContext) -> None:
        self.context = context
        self.problems: list[str] = []

    def fields(self, raw: Any, label: str = "", in_each: bool = False) -> tuple[FieldSpec, ...]:
        where = f"fields of {label}" if label else "fields"
        if not isinstance(raw, dict) or not raw:
            self.problems.append(f"{where}: expected a mapping of target path to source")
            return ()
        specs: list[FieldSpec] = []
        for target, spec in raw.items():
            name = f"{label}[].{target}" if label else str(target)
            segments = tuple(str(target).split("."))
            if not isinstance(target, str) or not all(segments):
                self.problems.append(f"field {name}: a target is a dotted path like data.order_ref")
                continue
            try:
                field = self.field(spec, name, segments, in_each)
            except SpecError as exc:
                self.problems.append(f"field {name}: {exc}")
                continue
            if field is not None:
                specs.append(field)
        self._check_targets(specs, label)
        return tuple(specs)

    def field(
        self, spec: Any, label: str, target: tuple[str, ...], in_each: bool
    ) -> FieldSpec | None:
        """One field, or ``None`` when its nested fields had problems (already recorded)."""
        if not isinstance(spec, dict):
            raise SpecError(
                f"expected a mapping such as {{path: ...}} or {{value: ...}}, got {spec!r}"
            )
        kinds = [key for key in SOURCES if key in spec]
        if len(kinds) != 1:
            given = ", ".join(kinds) or "none"
            raise SpecError(f"give exactly one source of {', '.join(SOURCES)} (given: {given})")
        kind = kinds[0]
        unknown = sorted(str(key) for key in spec if key not in _OPTIONS[kind])
        if unknown:
            allowed = ", ".join(sorted(_OPTIONS[kind]))
            raise SpecError(f"unknown key(s) {', '.join(unknown)} (a {kind} field takes {allowed})")
        steps = self._steps(spec.get("via", []))
        problems_before = len(self.problems)
        source = self._source(kind, spec, label, in_each)
        if len(self.problems) > problems_before:
            return None
        if isinstance(source, ValueSource):
            source, steps = _fold(source, steps)
        return FieldSpec(target, source, steps, label)

    def _source(self, kind: str, spec: dict[str, Any], label: str, in_each: bool) -> Source:
        raw = spec[kind]
        if kind in ("path", "root"):
            return PathSource(compile_path(raw), kind == "root")
        if kind == "value":
            try:
                return ValueSource(as_json(raw, "value"))
            except FileError as exc:
                raise SpecError(str(exc)) from None
        if kind == "index":
            if not in_each:
                raise SpecError("`index` is the position inside `each`; this field is not in one")
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise SpecError(f"`index` is the number to count from (0 or 1), not {raw!r}")
            return IndexSource(raw)
        if kind == "concat":
            return self._concat(spec, label, in_each)
        return EachSource(compile_path(raw), self.fields(spec.get("fields"), label, in_each=True))

    def _concat(self, spec: dict[str, Any], label: str, in_each: bool) -> ConcatSource:
        raw_parts, sep, skip_null = (
            spec["concat"],
            spec.get("sep", ""),
            spec.get("skip_null", False),
        )
        if not isinstance(raw_parts, list) or len(raw_parts) < 2:
            raise SpecError("`concat` is a list of at least two sources")
        if not isinstance(sep, str):
            raise SpecError(f"`sep` is a string, not {sep!r}")
        if not isinstance(skip_null, bool):
            raise SpecError(f"`skip_null` is true or false, not {skip_null!r}")
        parts: list[FieldSpec] = []
        for number, raw in enumerate(raw_parts):
            if isinstance(raw, dict) and "each" in raw:
                raise SpecError(f"concat part {number}: `each` cannot be part of a concat")
            try:
                part = self.field(raw, label, (), in_each)
            except SpecError as exc:
                raise SpecError(f"concat part {number}: {exc}") from None
            if part is not None:
                parts.append(part)
        return ConcatSource(tuple(parts), sep, skip_null)

    def _steps(self, raw: Any) -> tuple[tuple[Transform, Step], ...]:
        if not isinstance(raw, list):
            raise SpecError(f"`via` is a list of transforms, not {raw!r}")
        return tuple(build_step(step, self.context) for step in raw)

    def _check_targets(self, specs: list[FieldSpec], label: str) -> None:
        """A target may not also be an object another target writes into."""
        targets = {spec.target for spec in specs}
        for spec in specs:
            for length in range(1, len(spec.target)):
                if spec.target[:length] in targets:
                    prefix = ".".join(spec.target[:length])
                    where = f"{label}[]." if label else ""
                    self.problems.append(
                        f"field {where}{'.'.join(spec.target)}: {where}{prefix} is a field "
                        "of its own, so it cannot also hold fields"
                    )


def _fold(
    source: ValueSource, steps: tuple[tuple[Transform, Step], ...]
) -> tuple[ValueSource, tuple[tuple[Transform, Step], ...]]:
    """Apply the transforms of a literal now: the result is the same for every document."""
    value = source.value
    try:
        for _transform, step in steps:
            value = step(value)
        if isinstance(value, Decimal):
            value = to_json_number(value)
    except TransformError as exc:
        raise SpecError(f"the literal {source.value!r} fails its transforms: {exc}") from None
    return ValueSource(value), ()
