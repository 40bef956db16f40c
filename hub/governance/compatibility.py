"""Compatibility of two versions of a contract: a structural diff of two JSON Schema 2020-12
documents, one explained change at a time.

Each :class:`Change` names where it is (an RFC 6901 pointer into the schema), what changed
(:class:`ChangeKind`) and whom it breaks (:class:`Breaks`):

- it **breaks producers** when a message valid under the old schema, sent by a producer that
  has not upgraded, is invalid under the new one: the new schema cannot read old data.
  ``BACKWARD`` compatibility forbids that.
- it **breaks consumers** when a message valid under the new schema, sent by an upgraded
  producer, is invalid under the old one: a consumer still validating with the old schema
  rejects it. ``FORWARD`` compatibility forbids that.

The rules are set inclusion (which values each schema accepts), with one convention: in an
*open* content model (no ``additionalProperties``, or ``true``), undeclared properties are
unspecified and nobody may rely on them, so declaring a new optional property there, or
dropping one, breaks nobody. A closed model (``additionalProperties: false``) is exact: an
old consumer rejects a property it does not know. ``docs/governance.md`` explains each rule.

What the diff does not analyse (``not``, ``if``/``then``/``else``, ``contains``,
``propertyNames``, ``dependentSchemas``, ``patternProperties`` keys, ``unevaluatedItems``)
is compared as a whole and reported as ``keyword-changed``, breaking both sides: the gate
would rather ask for a review than let a break through.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

import jsonschema

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# How deep the data a schema describes may nest, and how many pairs of subschemas one
# comparison may visit: a candidate posted to the API must not cost unbounded time.
MAX_DEPTH = 64
MAX_PAIRS = 20_000
# Data paths listed per change; a definition used in many places lists the first ones.
MAX_DATA_PATHS = 20

_ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
_NUMERIC = frozenset({"number", "integer"})

# Keywords that only annotate: a change to them changes no verdict.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$comment",
        "$defs",
        "definitions",
        "$vocabulary",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
# Where subschemas sit, by the shape of the keyword's value.
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)
_SCHEMA_LISTS = ("prefixItems", "allOf", "anyOf", "oneOf")
# Compared as a whole: a change is reported, not analysed.
_OPAQUE = (
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedItems",
    "$dynamicRef",
)
_COUNTS_MIN = {
    "string": ("minLength",),
    "array": ("minItems", "minContains"),
    "object": ("minProperties",),
}
_COUNTS_MAX = {
    "string": ("maxLength",),
    "array": ("maxItems", "maxContains"),
    "object": ("maxProperties",),
}


class CompatibilityMode(StrEnum):
    """What a new version of a family must not break, and against which earlier versions.

    ``BACKWARD``: the new schema reads data written with the previous one (nothing breaks
    producers). ``FORWARD``: the previous schema reads data written with the new one
    (nothing breaks consumers). ``FULL``: both. ``*_TRANSITIVE``: against every earlier
    version of the same major, not only the latest. ``NONE``: no check.
    """

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def forbids(self) -> frozenset[Breaks]:
        """The kinds of breakage this mode refuses."""
        base = self.value.removesuffix("_TRANSITIVE")
        producers = base in ("BACKWARD", "FULL")
        consumers = base in ("FORWARD", "FULL")
        forbidden = set()
        if producers:
            forbidden |= {Breaks.PRODUCERS, Breaks.BOTH}
        if consumers:
            forbidden |= {Breaks.CONSUMERS, Breaks.BOTH}
        return frozenset(forbidden)


class Breaks(StrEnum):
    """Who a change breaks (see the module docstring for the two directions)."""

    NONE = "none"
    PRODUCERS = "producers"
    CONSUMERS = "consumers"
    BOTH = "both"


class ChangeKind(StrEnum):
    """What changed. ``docs/governance.md`` has the table of kinds and whom each breaks."""

    PROPERTY_ADDED = "property-added"
    PROPERTY_REMOVED = "property-removed"
    CLOSED_MODEL_PROPERTY_ADDED = "closed-model-property-added"
    CLOSED_MODEL_PROPERTY_REMOVED = "closed-model-property-removed"
    CONTENT_MODEL_OPENED = "content-model-opened"
    CONTENT_MODEL_CLOSED = "content-model-closed"
    REQUIRED_ADDED = "required-added"
    REQUIRED_REMOVED = "required-removed"
    DEPENDENCY_ADDED = "dependency-added"
    DEPENDENCY_REMOVED = "dependency-removed"
    TYPE_NARROWED = "type-narrowed"
    TYPE_WIDENED = "type-widened"
    TYPE_CHANGED = "type-changed"
    ENUM_VALUE_ADDED = "enum-value-added"
    ENUM_VALUE_REMOVED = "enum-value-removed"
    CONSTRAINT_TIGHTENED = "constraint-tightened"
    CONSTRAINT_LOOSENED = "constraint-loosened"
    CONSTRAINT_CHANGED = "constraint-changed"
    ALTERNATIVE_ADDED = "alternative-added"
    ALTERNATIVE_REMOVED = "alternative-removed"
    EVENT_ADDED = "event-added"
    EVENT_REMOVED = "event-removed"
    FORMAT_CHANGED = "format-changed"
    KEYWORD_CHANGED = "keyword-changed"


@dataclass(frozen=True)
class Change:
    """One difference between two schemas.

    ``pointer`` locates it in the new schema, or in the old one for what the new one no
    longer has. ``data_paths`` are the places in a message it concerns (``*`` stands for
    any array index or property name; ``""`` is the document itself).
    """

    pointer: str
    kind: ChangeKind
    breaks: Breaks
    message: str
    data_paths: tuple[str, ...] = ()

    def breaks_under(self, mode: CompatibilityMode) -> bool:
        return self.breaks in mode.forbids


@dataclass(frozen=True)
class SchemaProblem:
    """Why a schema cannot be compared: ``pointer`` into the schema, the ``rule`` it breaks."""

    pointer: str
    rule: str
    message: str


class SchemaError(Exception):
    """A schema the gate cannot compare: not JSON Schema 2020-12, a ``$ref`` that does not
    resolve inside the document, or too deep or too large to compare."""

    def __init__(self, problems: Sequence[SchemaProblem]) -> None:
        super().__init__("; ".join(f"{p.pointer or '/'}: {p.message}" for p in problems))
        self.problems = tuple(problems)


def escape(token: str) -> str:
    """One RFC 6901 reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def subschemas(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """The direct subschemas of a schema node, with their pointers."""
    if not isinstance(node, dict):
        return
    for keyword in _SCHEMA_MAPS:
        value = node.get(keyword)
        if isinstance(value, dict):
            for name, child in value.items():
                yield f"{pointer}/{keyword}/{escape(str(name))}", child
    for keyword in _SCHEMA_VALUES:
        if keyword in node:
            yield f"{pointer}/{keyword}", node[keyword]
    for keyword in _SCHEMA_LISTS:
        value = node.get(keyword)
        if isinstance(value, list):
            for index, child in enumerate(value):
                yield f"{pointer}/{keyword}/{index}", child


def check_schema_document(schema: Any) -> list[SchemaProblem]:
    """Every reason ``schema`` cannot be compared; empty when it can.

    It must be a JSON Schema 2020-12 document (meta-validated by ``jsonschema``), every
    ``$ref`` must point inside it, and it must nest at most ``MAX_DEPTH`` levels.
    """
    if not isinstance(schema, dict):
        return [SchemaProblem("", "schema-object", "a contract schema is a JSON object")]
    problems: list[SchemaProblem] = []
    declared = schema.get("$schema", DRAFT_2020_12)
    if declared not in (DRAFT_2020_12, DRAFT_2020_12 + "#"):
        problems.append(
            SchemaProblem("/$schema", "schema-dialect", f"$schema must be {DRAFT_2020_12!r}")
        )
    meta = jsonschema.Draft202012Validator(
        jsonschema.Draft202012Validator.META_SCHEMA,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    try:
        for error in meta.iter_errors(schema):
            problems.append(
                SchemaProblem(
                    "".join(f"/{escape(str(p))}" for p in error.absolute_path),
                    f"meta-schema:{error.validator}",
                    error.message[:300],
                )
            )
    except RecursionError:
        return [SchemaProblem("", "schema-depth", "the schema nests too deeply")]
    if problems:
        return problems
    document = _Document(schema)
    stack: list[tuple[str, Any, int]] = [("", schema, 0)]
    while stack:
        pointer, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [SchemaProblem(pointer, "schema-depth", "the schema nests too deeply")]
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                document.target(node["$ref"])
            except SchemaError as exc:
                problems.extend(
                    SchemaProblem(f"{pointer}/$ref", p.rule, p.message) for p in exc.problems
                )
        stack.extend((p, child, depth + 1) for p, child in subschemas(node, pointer))
    return problems


class _Document:
    """One schema document: its nodes by pointer, its anchors, its local references."""

    def __init__(self, root: Any) -> None:
        self.root = root
        base = root.get("$id") if isinstance(root, dict) else None
        self.base = base.split("#", 1)[0] if isinstance(base, str) else None
        self._anchors: dict[str, str] | None = None

    def node(self, pointer: str) -> Any:
        node = self.root
        for token in pointer.split("/")[1:] if pointer else []:
            key = _unescape(token)
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise SchemaError(
                    [SchemaProblem(pointer, "ref-resolves", f"nothing at {pointer!r}")]
                )
        return node

    def target(self, ref: str) -> str:
        """The pointer a ``$ref`` names; only references inside this document resolve."""
        resource, hashmark, fragment = ref.partition("#")
        if resource and resource != self.base:
            raise SchemaError(
                [
                    SchemaProblem(
                        "",
                        "ref-local",
                        f"$ref {ref!r} leaves the document: contracts are self-contained",
                    )
                ]
            )
        fragment = unquote(fragment) if hashmark else ""
        if fragment and not fragment.startswith("/"):
            pointer = self.anchors().get(fragment)
            if pointer is None:
                raise SchemaError(
                    [SchemaProblem("", "ref-resolves", f"$ref {ref!r}: no $anchor {fragment!r}")]
                )
            return pointer
        self.node(fragment)
        return fragment

    def anchors(self) -> dict[str, str]:
        if self._anchors is None:
            found: dict[str, str] = {}
            stack: list[tuple[str, Any]] = [("", self.root)]
            while stack:
                pointer, node = stack.pop()
                if isinstance(node, dict) and isinstance(node.get("$anchor"), str):
                    found.setdefault(node["$anchor"], pointer)
                stack.extend(subschemas(node, pointer))
            self._anchors = found
        return self._anchors


@dataclass(frozen=True)
class _Conjunct:
    pointer: str
    schema: dict[str, Any] | bool


def _canon(value: Any) -> Hashable:
    """A hashable form of a JSON value in which equal JSON values are equal (1 == 1.0)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        number = _decimal(value)
        return ("number", number) if number is not None else ("number", repr(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((str(k), _canon(v)) for k, v in value.items())))
    return ("other", repr(value))


def _decimal(value: Any) -> Decimal | None:
    """A JSON number as an exact decimal (floats through their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_allows(types: frozenset[str], value: Any) -> bool:
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


class _View:
    """What a list of subschemas that all apply to one value (conjuncts) allows together."""

    def __init__(self, conjuncts: list[_Conjunct]) -> None:
        self.conjuncts = conjuncts
        self.dicts = [(c.pointer, c.schema) for c in conjuncts if isinstance(c.schema, dict)]
        self.nothing = any(c.schema is False for c in conjuncts)

    def unconstrained(self) -> bool:
        """Whether any value passes (no conjunct, or only ``true`` and annotations)."""
        return not self.nothing and all(
            all(k in _ANNOTATIONS or k.startswith("x-") or k in ("$ref", "allOf") for k in schema)
            for _, schema in self.dicts
        )

    @property
    def location(self) -> str | None:
        return self.conjuncts[0].pointer if self.conjuncts else None

    def where(self, keyword: str) -> str | None:
        """The pointer of the first conjunct carrying ``keyword``."""
        for pointer, schema in self.dicts:
            if keyword in schema:
                return pointer
        return None

    def values(self, keyword: str) -> list[Any]:
        return [schema[keyword] for _, schema in self.dicts if keyword in schema]

    def types(self) -> frozenset[str] | None:
        result: frozenset[str] | None = None
        for value in self.values("type"):
            declared = frozenset([value] if isinstance(value, str) else value)
            if "number" in declared:
                declared |= {"integer"}
            result = declared if result is None else result & declared
        return result

    def enum(self) -> dict[Hashable, Any] | None:
        """The allowed values (``enum`` and ``const`` together), keyed by canonical form."""
        result: dict[Hashable, Any] | None = None
        for _, schema in self.dicts:
            for keyword in ("enum", "const"):
                if keyword not in schema:
                    continue
                listed = schema[keyword] if keyword == "enum" else [schema[keyword]]
                values = {_canon(v): v for v in listed}
                result = values if result is None else {k: result[k] for k in result if k in values}
        return result

    def counts(self, keyword: str, smallest: bool) -> Decimal | None:
        numbers = [d for v in self.values(keyword) if (d := _decimal(v)) is not None]
        if not numbers:
            return None
        return max(numbers) if not smallest else min(numbers)

    def bound(self, lower: bool) -> tuple[Decimal, bool, str] | None:
        """The tightest lower (or upper) bound: value, whether exclusive, its keyword."""
        inclusive, exclusive = (
            ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
        )
        best: tuple[Decimal, bool, str] | None = None
        for keyword, is_exclusive in ((inclusive, False), (exclusive, True)):
            for value in self.values(keyword):
                number = _decimal(value)
                if number is None:
                    continue
                candidate = (number, is_exclusive, keyword)
                if best is None or _tighter(candidate, best, lower):
                    best = candidate
        return best

    def string_set(self, keyword: str) -> frozenset[str]:
        return frozenset(v for v in self.values(keyword) if isinstance(v, str))

    def multiples(self) -> frozenset[Decimal]:
        return frozenset(d for v in self.values("multipleOf") if (d := _decimal(v)) is not None)

    def unique_items(self) -> bool:
        return any(v is True for v in self.values("uniqueItems"))

    def required(self) -> dict[str, str]:
        """Required property names, each with the pointer of the ``required`` naming it."""
        found: dict[str, str] = {}
        for pointer, schema in self.dicts:
            names = schema.get("required")
            if isinstance(names, list):
                for name in names:
                    if isinstance(name, str):
                        found.setdefault(name, f"{pointer}/required")
        return found

    def dependencies(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for pointer, schema in self.dicts:
            table = schema.get("dependentRequired")
            if isinstance(table, dict):
                for key, names in table.items():
                    entry = found.setdefault(key, {})
                    for name in names if isinstance(names, list) else []:
                        entry.setdefault(name, f"{pointer}/dependentRequired/{escape(key)}")
        return found

    def declared(self) -> dict[str, str]:
        """Declared property names, each with the pointer of its first declaration."""
        found: dict[str, str] = {}
        for pointer, schema in self.dicts:
            properties = schema.get("properties")
            if isinstance(properties, dict):
                for name in properties:
                    found.setdefault(name, f"{pointer}/properties/{escape(name)}")
        return found

    def slot(self, name: str) -> tuple[str, ...]:
        """The subschemas a property ``name`` must match (none: anything goes)."""
        declared = name in self.declared()
        found: list[str] = []
        additional_somewhere = False
        for pointer, schema in self.dicts:
            properties = schema.get("properties")
            if isinstance(properties, dict) and name in properties:
                found.append(f"{pointer}/properties/{escape(name)}")
                continue
            matched = False
            patterns = schema.get("patternProperties")
            if isinstance(patterns, dict):
                for pattern in patterns:
                    if _matches(pattern, name):
                        found.append(f"{pointer}/patternProperties/{escape(pattern)}")
                        matched = True
            if "additionalProperties" in schema:
                additional_somewhere = True
                if not matched:
                    found.append(f"{pointer}/additionalProperties")
        if not declared and not additional_somewhere:
            found += [
                f"{pointer}/unevaluatedProperties"
                for pointer, schema in self.dicts
                if "unevaluatedProperties" in schema
            ]
        return tuple(found)

    def extras(self) -> tuple[str, ...]:
        """The subschemas an undeclared property must match (none: anything goes)."""
        additional = tuple(
            f"{pointer}/additionalProperties"
            for pointer, schema in self.dicts
            if "additionalProperties" in schema
        )
        if additional:
            return additional
        return tuple(
            f"{pointer}/unevaluatedProperties"
            for pointer, schema in self.dicts
            if "unevaluatedProperties" in schema
        )

    def items(self) -> tuple[str, ...]:
        return tuple(f"{pointer}/items" for pointer, schema in self.dicts if "items" in schema)

    def alternatives(self, keyword: str) -> list[tuple[str, list[Any]]]:
        return [
            (f"{pointer}/{keyword}", schema[keyword])
            for pointer, schema in self.dicts
            if isinstance(schema.get(keyword), list)
        ]


def _tighter(a: tuple[Decimal, bool, str], b: tuple[Decimal, bool, str], lower: bool) -> bool:
    if a[0] != b[0]:
        return a[0] > b[0] if lower else a[0] < b[0]
    return a[1] and not b[1]


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def _describe_bound(bound: tuple[Decimal, bool, str] | None, lower: bool) -> str:
    if bound is None:
        return "no bound"
    sign = (">" if bound[1] else "≥") if lower else ("<" if bound[1] else "≤")
    return f"{sign} {bound[0]}"


@dataclass
class _Relative:
    """A change found comparing two subschemas; data paths relative to them."""

    pointer: str
    kind: ChangeKind
    breaks: Breaks
    message: str
    paths: list[str] = field(default_factory=lambda: [""])


class _Comparer:
    def __init__(self, old: Any, new: Any) -> None:
        self.old = _Document(old)
        self.new = _Document(new)
        self.memo: dict[tuple[tuple[str, ...], tuple[str, ...]], list[_Relative]] = {}
        self.stack: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
        self.pairs = 0

    def conjuncts(self, document: _Document, pointers: Sequence[str]) -> list[_Conjunct]:
        """The subschemas that apply together: each one, what it ``$ref``s and its ``allOf``."""
        found: list[_Conjunct] = []
        seen: set[str] = set()
        pending = list(reversed(pointers))
        while pending:
            pointer = pending.pop()
            if pointer in seen:
                continue
            seen.add(pointer)
            node = document.node(pointer)
            if isinstance(node, bool):
                found.append(_Conjunct(pointer, node))
                continue
            if not isinstance(node, dict):
                raise SchemaError([SchemaProblem(pointer, "schema-object", "not a schema")])
            found.append(_Conjunct(pointer, node))
            more: list[str] = []
            if isinstance(node.get("$ref"), str):
                more.append(document.target(node["$ref"]))
            if isinstance(node.get("allOf"), list):
                more += [f"{pointer}/allOf/{i}" for i in range(len(node["allOf"]))]
            pending.extend(reversed(more))
        return found

    def compare(self, old: Sequence[str], new: Sequence[str]) -> list[_Relative]:
        key = (tuple(old), tuple(new))
        if key in self.memo:
            return self.memo[key]
        if key in self.stack:
            # A recursive schema met itself: its changes are reported where it started.
            return []
        if len(self.stack) >= MAX_DEPTH:
            raise SchemaError(
                [SchemaProblem(new[0] if new else "", "schema-depth", "nested too deeply")]
            )
        self.pairs += 1
        if self.pairs > MAX_PAIRS:
            raise SchemaError([SchemaProblem("", "schema-size", "too large to compare")])
        self.stack.add(key)
        try:
            found = self._views(
                _View(self.conjuncts(self.old, old)), _View(self.conjuncts(self.new, new))
            )
        finally:
            self.stack.discard(key)
        self.memo[key] = found
        return found

    def _view(self, document: _Document, pointers: Sequence[str]) -> _View:
        return _View(self.conjuncts(document, pointers))

    def _views(self, old: _View, new: _View) -> list[_Relative]:
        out: list[_Relative] = []
        here = new.location or old.location or ""
        if old.nothing or new.nothing:
            if old.nothing and not new.nothing:
                out.append(
                    _Relative(
                        here,
                        ChangeKind.TYPE_WIDENED,
                        Breaks.CONSUMERS,
                        "a value is now allowed where none was",
                    )
                )
            elif new.nothing and not old.nothing:
                out.append(
                    _Relative(
                        here,
                        ChangeKind.TYPE_NARROWED,
                        Breaks.PRODUCERS,
                        "no value is allowed here any more",
                    )
                )
            return out
        old_types, new_types = old.types(), new.types()
        old_all, new_all = old_types or _ALL_TYPES, new_types or _ALL_TYPES
        old_enum, new_enum = old.enum(), new.enum()
        pointer_of = _Pointers(old, new, here)
        if old_enum is not None and new_enum is not None:
            # The listed values decide; other constraints on them are secondary.
            self._enum(old_enum, new_enum, old_all, new_all, pointer_of, out)
            self._format(old, new, pointer_of, out)
            return out
        if old_types is not None or new_types is not None:
            self._types(old_all, new_all, pointer_of("type"), out)
        if new_enum is not None:
            shown = ", ".join(_shown(v) for v in new_enum.values())
            out.append(
                _Relative(
                    pointer_of("enum", "const"),
                    ChangeKind.CONSTRAINT_TIGHTENED,
                    Breaks.PRODUCERS,
                    f"values are now limited to {shown}",
                )
            )
        elif old_enum is not None:
            out.append(
                _Relative(
                    pointer_of("enum", "const"),
                    ChangeKind.CONSTRAINT_LOOSENED,
                    Breaks.CONSUMERS,
                    "values are no longer limited to a list",
                )
            )
        both = old_all & new_all
        if "string" in both:
            self._counts("string", old, new, pointer_of, out)
            self._patterns(old, new, pointer_of, out)
        if both & _NUMERIC:
            self._bounds(old, new, pointer_of, out)
            self._multiples(old, new, pointer_of, out)
        self._format(old, new, pointer_of, out)
        if "object" in both:
            self._counts("object", old, new, pointer_of, out)
            self._object(old, new, pointer_of, out)
        if "array" in both:
            self._counts("array", old, new, pointer_of, out)
            self._array(old, new, pointer_of, out)
        for keyword in ("anyOf", "oneOf"):
            self._alternatives(keyword, old, new, pointer_of, out)
        for keyword in _OPAQUE:
            self._opaque(keyword, old, new, pointer_of, out)
        return out

    # -- scalars -----------------------------------------------------------------------

    def _types(
        self, old: frozenset[str], new: frozenset[str], pointer: str, out: list[_Relative]
    ) -> None:
        lost = sorted(old - new)
        gained = sorted(new - old)
        if not lost and not gained:
            return
        before, after = _type_names(old), _type_names(new)
        if lost and gained:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.TYPE_CHANGED,
                    Breaks.BOTH,
                    f"type {before} became {after}: each side sends what the other refuses",
                )
            )
        elif lost:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.TYPE_NARROWED,
                    Breaks.PRODUCERS,
                    f"type {before} narrowed to {after}: "
                    f"{_values_of(lost)} from old producers are refused",
                )
            )
        else:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.TYPE_WIDENED,
                    Breaks.CONSUMERS,
                    f"type {before} widened to {after}: old consumers refuse {_values_of(gained)}",
                )
            )

    def _enum(
        self,
        old: dict[Hashable, Any],
        new: dict[Hashable, Any],
        old_types: frozenset[str],
        new_types: frozenset[str],
        pointer_of: _Pointers,
        out: list[_Relative],
    ) -> None:
        old_valid = {k: v for k, v in old.items() if _type_allows(old_types, v)}
        new_valid = {k: v for k, v in new.items() if _type_allows(new_types, v)}
        pointer = pointer_of("enum", "const")
        for key, value in new_valid.items():
            if key not in old_valid:
                out.append(
                    _Relative(
                        pointer,
                        ChangeKind.ENUM_VALUE_ADDED,
                        Breaks.CONSUMERS,
                        f"value {_shown(value)} added: old consumers refuse it",
                    )
                )
        for key, value in old_valid.items():
            if key not in new_valid:
                out.append(
                    _Relative(
                        pointer,
                        ChangeKind.ENUM_VALUE_REMOVED,
                        Breaks.PRODUCERS,
                        f"value {_shown(value)} removed: old producers still send it",
                    )
                )

    def _counts(
        self, family: str, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        for keyword in _COUNTS_MIN[family]:
            before, after = old.counts(keyword, smallest=False), new.counts(keyword, False)
            _compare_limit(
                keyword, before or Decimal(0), after or Decimal(0), True, pointer_of(keyword), out
            )
        for keyword in _COUNTS_MAX[family]:
            before, after = old.counts(keyword, smallest=True), new.counts(keyword, True)
            _compare_limit(keyword, before, after, False, pointer_of(keyword), out)

    def _patterns(
        self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        before, after = old.string_set("pattern"), new.string_set("pattern")
        added, removed = sorted(after - before), sorted(before - after)
        pointer = pointer_of("pattern")
        if added and removed:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONSTRAINT_CHANGED,
                    Breaks.BOTH,
                    f"pattern {_shown(removed[0])} became {_shown(added[0])}: "
                    "neither includes the other as far as the gate can tell",
                )
            )
            return
        for pattern in added:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONSTRAINT_TIGHTENED,
                    Breaks.PRODUCERS,
                    f"pattern {_shown(pattern)} added",
                )
            )
        for pattern in removed:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONSTRAINT_LOOSENED,
                    Breaks.CONSUMERS,
                    f"pattern {_shown(pattern)} removed",
                )
            )

    def _bounds(self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]) -> None:
        for lower in (True, False):
            before, after = old.bound(lower), new.bound(lower)
            if before == after or (
                before is not None and after is not None and before[:2] == after[:2]
            ):
                continue
            keyword = (after or before or (Decimal(0), False, "minimum"))[2]
            pointer = pointer_of(keyword)
            text = (
                f"{'lower' if lower else 'upper'} bound {_describe_bound(before, lower)} "
                f"became {_describe_bound(after, lower)}"
            )
            if before is None or (after is not None and _tighter(after, before, lower)):
                out.append(
                    _Relative(pointer, ChangeKind.CONSTRAINT_TIGHTENED, Breaks.PRODUCERS, text)
                )
            else:
                out.append(
                    _Relative(pointer, ChangeKind.CONSTRAINT_LOOSENED, Breaks.CONSUMERS, text)
                )

    def _multiples(
        self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        before, after = old.multiples(), new.multiples()
        if before == after:
            return
        pointer = pointer_of("multipleOf")
        text = f"multipleOf {_listed(before)} became {_listed(after)}"
        if not before:
            kind, breaks = ChangeKind.CONSTRAINT_TIGHTENED, Breaks.PRODUCERS
        elif not after:
            kind, breaks = ChangeKind.CONSTRAINT_LOOSENED, Breaks.CONSUMERS
        elif len(before) == 1 and len(after) == 1:
            (a,) = before
            (b,) = after
            if _divides(a, b):
                kind, breaks = ChangeKind.CONSTRAINT_TIGHTENED, Breaks.PRODUCERS
            elif _divides(b, a):
                kind, breaks = ChangeKind.CONSTRAINT_LOOSENED, Breaks.CONSUMERS
            else:
                kind, breaks = ChangeKind.CONSTRAINT_CHANGED, Breaks.BOTH
        else:
            kind, breaks = ChangeKind.CONSTRAINT_CHANGED, Breaks.BOTH
        out.append(_Relative(pointer, kind, breaks, text))

    def _format(self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]) -> None:
        before, after = old.string_set("format"), new.string_set("format")
        if before != after:
            out.append(
                _Relative(
                    pointer_of("format"),
                    ChangeKind.FORMAT_CHANGED,
                    Breaks.NONE,
                    f"format {_listed(before)} became {_listed(after)}; formats are "
                    "annotations the hub does not assert",
                )
            )

    # -- objects -----------------------------------------------------------------------

    def _object(self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]) -> None:
        old_declared, new_declared = old.declared(), new.declared()
        for name in dict.fromkeys([*old_declared, *new_declared]):
            path = f"/{escape(name)}"
            before, after = old.slot(name), new.slot(name)
            if name in old_declared and name in new_declared:
                self._child(before, after, path, out)
                continue
            if name in new_declared:
                if self._view(self.old, before).nothing:
                    out.append(
                        _Relative(
                            new_declared[name],
                            ChangeKind.CLOSED_MODEL_PROPERTY_ADDED,
                            Breaks.CONSUMERS,
                            f"property {name!r} added to a closed object: old consumers "
                            "refuse messages that carry it",
                            [path],
                        )
                    )
                    continue
                out.append(
                    _Relative(
                        new_declared[name],
                        ChangeKind.PROPERTY_ADDED,
                        Breaks.NONE,
                        f"property {name!r} added to an open object",
                        [path],
                    )
                )
                # Undeclared properties were unspecified: nothing to compare the new one with.
                # Had the old extras a schema of their own, the new property must agree with it.
                if not self._view(self.old, before).unconstrained():
                    self._child(before, after, path, out)
            else:
                if self._view(self.new, after).nothing:
                    out.append(
                        _Relative(
                            old_declared[name],
                            ChangeKind.CLOSED_MODEL_PROPERTY_REMOVED,
                            Breaks.PRODUCERS,
                            f"property {name!r} removed from a closed object: messages "
                            "of old producers that carry it are refused",
                            [path],
                        )
                    )
                    continue
                out.append(
                    _Relative(
                        old_declared[name],
                        ChangeKind.PROPERTY_REMOVED,
                        Breaks.NONE,
                        f"property {name!r} removed from an open object",
                        [path],
                    )
                )
                if not self._view(self.new, after).unconstrained():
                    self._child(before, after, path, out)
        self._required(old, new, out)
        self._dependencies(old, new, out)
        self._content_model(old, new, pointer_of, out)

    def _required(self, old: _View, new: _View, out: list[_Relative]) -> None:
        before, after = old.required(), new.required()
        for name, pointer in after.items():
            if name not in before:
                out.append(
                    _Relative(
                        pointer,
                        ChangeKind.REQUIRED_ADDED,
                        Breaks.PRODUCERS,
                        f"property {name!r} is now required: old producers may leave it out",
                        [f"/{escape(name)}"],
                    )
                )
        for name, pointer in before.items():
            if name not in after:
                out.append(
                    _Relative(
                        pointer,
                        ChangeKind.REQUIRED_REMOVED,
                        Breaks.CONSUMERS,
                        f"property {name!r} is no longer required: old consumers need it",
                        [f"/{escape(name)}"],
                    )
                )

    def _dependencies(self, old: _View, new: _View, out: list[_Relative]) -> None:
        before, after = old.dependencies(), new.dependencies()
        for key in dict.fromkeys([*before, *after]):
            was, now = before.get(key, {}), after.get(key, {})
            for name, pointer in now.items():
                if name not in was:
                    out.append(
                        _Relative(
                            pointer,
                            ChangeKind.DEPENDENCY_ADDED,
                            Breaks.PRODUCERS,
                            f"{key!r} now needs {name!r} beside it",
                            [f"/{escape(key)}"],
                        )
                    )
            for name, pointer in was.items():
                if name not in now:
                    out.append(
                        _Relative(
                            pointer,
                            ChangeKind.DEPENDENCY_REMOVED,
                            Breaks.CONSUMERS,
                            f"{key!r} no longer needs {name!r} beside it",
                            [f"/{escape(key)}"],
                        )
                    )

    def _content_model(
        self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        before, after = old.extras(), new.extras()
        old_extras, new_extras = self._view(self.old, before), self._view(self.new, after)
        pointer = pointer_of("additionalProperties", "unevaluatedProperties")
        if old_extras.nothing and not new_extras.nothing:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONTENT_MODEL_OPENED,
                    Breaks.CONSUMERS,
                    "the object now takes undeclared properties: old consumers refuse them",
                )
            )
        elif new_extras.nothing and not old_extras.nothing:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONTENT_MODEL_CLOSED,
                    Breaks.PRODUCERS,
                    "the object no longer takes undeclared properties: old producers may send some",
                )
            )
        elif not old_extras.nothing and not (
            old_extras.unconstrained() and new_extras.unconstrained()
        ):
            self._child(before, after, "/*", out)

    # -- arrays and alternatives --------------------------------------------------------

    def _array(self, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]) -> None:
        before, after = old.items(), new.items()
        if before or after:
            self._child(before, after, "/*", out)
        was, now = old.unique_items(), new.unique_items()
        if was != now:
            out.append(
                _Relative(
                    pointer_of("uniqueItems"),
                    ChangeKind.CONSTRAINT_TIGHTENED if now else ChangeKind.CONSTRAINT_LOOSENED,
                    Breaks.PRODUCERS if now else Breaks.CONSUMERS,
                    "items must now be unique" if now else "items may now repeat",
                )
            )
        old_prefix, new_prefix = old.alternatives("prefixItems"), new.alternatives("prefixItems")
        if len(old_prefix) == 1 and len(new_prefix) == 1:
            (old_at, old_list), (new_at, new_list) = old_prefix[0], new_prefix[0]
            if len(old_list) == len(new_list):
                for index in range(len(old_list)):
                    self._child((f"{old_at}/{index}",), (f"{new_at}/{index}",), f"/{index}", out)
                return
        self._opaque("prefixItems", old, new, pointer_of, out)

    def _alternatives(
        self, keyword: str, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        before, after = old.alternatives(keyword), new.alternatives(keyword)
        if not before and not after:
            return
        pointer = pointer_of(keyword)
        if not before or not after:
            out.append(
                _Relative(
                    pointer,
                    ChangeKind.CONSTRAINT_TIGHTENED if after else ChangeKind.CONSTRAINT_LOOSENED,
                    Breaks.PRODUCERS if after else Breaks.CONSUMERS,
                    f"{keyword} {'introduced' if after else 'removed'}",
                )
            )
            return
        if len(before) > 1 or len(after) > 1:
            self._opaque(keyword, old, new, pointer_of, out)
            return
        (old_at, old_list), (new_at, new_list) = before[0], after[0]
        old_branches = [(f"{old_at}/{i}",) for i in range(len(old_list))]
        new_branches = [(f"{new_at}/{j}",) for j in range(len(new_list))]
        # Pair each old branch with an unchanged new one, wherever it moved to.
        unmatched_new = list(range(len(new_branches)))
        unmatched_old: list[int] = []
        for i, branch in enumerate(old_branches):
            same = next(
                (j for j in unmatched_new if not self.compare(branch, new_branches[j])), None
            )
            if same is None:
                unmatched_old.append(i)
            else:
                unmatched_new.remove(same)
        if len(unmatched_old) == len(unmatched_new):
            # As many branches changed as remain: compare them in order, as edits of each other.
            for i, j in zip(unmatched_old, unmatched_new, strict=True):
                self._child(old_branches[i], new_branches[j], "", out)
            return
        exclusive = keyword == "oneOf"
        for j in unmatched_new:
            out.append(
                _Relative(
                    f"{new_at}/{j}",
                    ChangeKind.ALTERNATIVE_ADDED,
                    Breaks.BOTH if exclusive else Breaks.CONSUMERS,
                    f"{keyword} alternative added"
                    + (": values matching two alternatives now fail" if exclusive else ""),
                )
            )
        for i in unmatched_old:
            out.append(
                _Relative(
                    f"{old_at}/{i}",
                    ChangeKind.ALTERNATIVE_REMOVED,
                    Breaks.BOTH if exclusive else Breaks.PRODUCERS,
                    f"{keyword} alternative removed"
                    + (": values that matched two alternatives now pass" if exclusive else ""),
                )
            )

    def _opaque(
        self, keyword: str, old: _View, new: _View, pointer_of: _Pointers, out: list[_Relative]
    ) -> None:
        before = [self._expanded(self.old, f"{p}/{keyword}") for p, s in old.dicts if keyword in s]
        after = [self._expanded(self.new, f"{p}/{keyword}") for p, s in new.dicts if keyword in s]
        if before != after:
            out.append(
                _Relative(
                    pointer_of(keyword),
                    ChangeKind.KEYWORD_CHANGED,
                    Breaks.BOTH,
                    f"{keyword} changed; the gate does not analyse it, so it counts as "
                    "breaking both sides: review it by hand",
                )
            )

    def _expanded(self, document: _Document, pointer: str) -> Hashable:
        """A canonical form of a subschema with its references inlined and annotations left
        out, so that two schemas compare equal when they accept the same way."""
        budget = [50_000]

        def expand(node: Any, depth: int, trail: tuple[str, ...]) -> Hashable:
            budget[0] -= 1
            if budget[0] < 0 or depth > 32:
                raise SchemaError([SchemaProblem(pointer, "schema-size", "too large to compare")])
            if not isinstance(node, dict):
                return _canon(node)
            items: list[tuple[str, Hashable]] = []
            for key, value in node.items():
                if key in _ANNOTATIONS or key.startswith("x-"):
                    continue
                if key == "$ref" and isinstance(value, str):
                    target = document.target(value)
                    if target in trail:
                        items.append((key, ("cycle", target)))
                    else:
                        items.append(
                            (key, expand(document.node(target), depth + 1, (*trail, target)))
                        )
                elif key in _SCHEMA_MAPS and isinstance(value, dict):
                    items.append(
                        (
                            key,
                            tuple(
                                sorted((k, expand(v, depth + 1, trail)) for k, v in value.items())
                            ),
                        )
                    )
                elif key in _SCHEMA_VALUES:
                    items.append((key, expand(value, depth + 1, trail)))
                elif key in _SCHEMA_LISTS and isinstance(value, list):
                    items.append((key, tuple(expand(v, depth + 1, trail) for v in value)))
                else:
                    items.append((key, _canon(value)))
            return ("schema", tuple(sorted(items)))

        return expand(document.node(pointer), 0, (pointer,))

    def _child(
        self, old: Sequence[str], new: Sequence[str], path: str, out: list[_Relative]
    ) -> None:
        for change in self.compare(old, new):
            out.append(
                _Relative(
                    change.pointer,
                    change.kind,
                    change.breaks,
                    change.message,
                    [path + p for p in change.paths][:MAX_DATA_PATHS],
                )
            )


class _Pointers:
    """Where a keyword's change is: in the new schema if it has the keyword, else in the old."""

    def __init__(self, old: _View, new: _View, here: str) -> None:
        self.old, self.new, self.here = old, new, here

    def __call__(self, *keywords: str) -> str:
        for view in (self.new, self.old):
            for keyword in keywords:
                pointer = view.where(keyword)
                if pointer is not None:
                    return f"{pointer}/{keyword}"
        return f"{self.here}/{keywords[0]}"


def _compare_limit(
    keyword: str,
    before: Decimal | None,
    after: Decimal | None,
    is_minimum: bool,
    pointer: str,
    out: list[_Relative],
) -> None:
    if before == after:
        return
    text = f"{keyword} {before if before is not None else 'none'} became " + (
        f"{after}" if after is not None else "none"
    )
    if is_minimum:
        tighter = after is not None and (before is None or after > before)
    else:
        tighter = after is not None and (before is None or after < before)
    out.append(
        _Relative(
            pointer,
            ChangeKind.CONSTRAINT_TIGHTENED if tighter else ChangeKind.CONSTRAINT_LOOSENED,
            Breaks.PRODUCERS if tighter else Breaks.CONSUMERS,
            text,
        )
    )


def _divides(a: Decimal, b: Decimal) -> bool:
    """Whether every multiple of ``b`` is a multiple of ``a`` (``b`` is a multiple of ``a``)."""
    try:
        quotient = b / a
        return quotient == quotient.to_integral_value()
    except DecimalException:
        return False


def _listed(values: frozenset[Any]) -> str:
    return ", ".join(sorted(str(v) for v in values)) or "none"


def _type_names(types: frozenset[str]) -> str:
    shown = sorted(t for t in types if not (t == "integer" and "number" in types))
    return "any" if types == _ALL_TYPES else ("/".join(shown) or "nothing")


def _values_of(types: list[str]) -> str:
    names = [t for t in types if not (t == "integer" and "number" in types)]
    return "/".join(f"{t} values" if t != "number" else "non-integer numbers" for t in names) or (
        "values"
    )


def _events(schema: Any) -> list[str] | None:
    meta = schema.get("x-crossdock") if isinstance(schema, dict) else None
    events = meta.get("events") if isinstance(meta, dict) else None
    if isinstance(events, list) and all(isinstance(e, str) for e in events):
        return events
    return None


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, in schema order; one per pointer and kind.

    Raises :class:`SchemaError` when either cannot be compared (see
    :func:`check_schema_document`; call it first on schemas you did not load yourself).
    """
    comparer = _Comparer(dict(old), dict(new))
    found = comparer.compare(("",), ("",))
    changes: dict[tuple[str, ChangeKind, str], _Relative] = {}
    for change in found:
        key = (change.pointer, change.kind, change.message)
        if key in changes:
            merged = changes[key].paths
            merged.extend(p for p in change.paths if p not in merged)
            del merged[MAX_DATA_PATHS:]
        else:
            changes[key] = _Relative(
                change.pointer, change.kind, change.breaks, change.message, list(change.paths)
            )
    result = [
        Change(c.pointer, c.kind, c.breaks, c.message, tuple(sorted(c.paths, key=_shallow_first)))
        for c in changes.values()
    ]
    result += _event_changes(old, new)
    return result


def _shallow_first(path: str) -> tuple[int, str]:
    return path.count("/"), path


def _event_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    before, after = _events(old), _events(new)
    if before is None or after is None:
        return []
    pointer = "/x-crossdock/events"
    changes = [
        Change(
            pointer,
            ChangeKind.EVENT_ADDED,
            Breaks.CONSUMERS,
            f"event {event!r} added: consumers of the family's types do not know it",
        )
        for event in after
        if event not in before
    ]
    changes += [
        Change(
            pointer,
            ChangeKind.EVENT_REMOVED,
            Breaks.PRODUCERS,
            f"event {event!r} removed: old producers still send it",
        )
        for event in before
        if event not in after
    ]
    return changes


def verdicts(changes: Sequence[Change]) -> dict[CompatibilityMode, bool]:
    """Whether one comparison passes under each mode (transitivity aside)."""
    return {mode: not any(c.breaks_under(mode) for c in changes) for mode in CompatibilityMode}
