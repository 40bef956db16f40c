"""One mapping file → a compiled :class:`Mapping` (or the list of what is wrong with it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from hub.mappings.compiler import compile_fields
from hub.mappings.errors import SpecError
from hub.mappings.files import FileError, as_json, read_document, read_yaml
from hub.mappings.spec import FieldSpec, SpecReader
from hub.mappings.tables import Table, load_table
from hub.mappings.transforms import BuildContext
from hub.mappings.vectors import TestVector

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
_TOP_LEVEL = ("name", "description", "source", "target", "tables", "fields", "tests")
_ENDPOINTS = (("connector", "kind"), ("contract", "version"))
_VECTOR_KEYS = frozenset({"name", "input", "input_file", "expect", "expect_file", "error"})

TableCache = dict[Path, "Table | FileError"]


class Mapping:
    """A compiled mapping: ``apply`` turns one input document into the output document."""

    __slots__ = (
        "_function",
        "code",
        "description",
        "fields",
        "files",
        "name",
        "path",
        "source",
        "target",
        "tests",
    )

    def __init__(
        self,
        *,
        name: str,
        description: str,
        path: Path,
        source: dict[str, str],
        target: dict[str, str],
        fields: tuple[FieldSpec, ...],
        tests: list[TestVector],
        files: tuple[Path, ...],
    ) -> None:
        self.name = name
        self.description = description
        self.path = path
        self.source = source
        self.target = target
        self.fields = fields
        self.tests = tests
        self.files = files  # every file it was made from: itself, its tables and vectors
        function, code = compile_fields(name, fields)
        self._function: Callable[[Any], dict[str, Any]] = function
        self.code = code  # the generated Python, for the curious and for debugging

    def apply(self, document: Any) -> dict[str, Any]:
        """Map one parsed document; raises :class:`~hub.mappings.MappingError`.

        Parse input with orjson (``apply_json``) so 64-bit integers stay exact.
        """
        return self._function(document)

    def apply_json(self, raw: bytes | str) -> dict[str, Any]:
        """Parse ``raw`` with orjson, then :meth:`apply`."""
        return self._function(orjson.loads(raw))

    def __repr__(self) -> str:
        return f"<Mapping {self.name} {self.path}>"


def describe_endpoint(endpoint: dict[str, str]) -> str:
    """``{connector: shopify, kind: orders/create}`` → ``shopify orders/create``."""
    return " ".join(endpoint.values())


def load_mapping(path: Path, tables: TableCache) -> tuple[Mapping | None, list[str]]:
    """Read and compile one file; ``(mapping, [])`` or ``(None, problems)``.

    Every problem starts with the file's path. ``tables`` caches table files across the
    mappings of one load, so a shared table is read once.
    """
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(f"{path}: {message}")

    try:
        document = read_yaml(path)
    except FileError as exc:
        return None, [str(exc)]
    if not isinstance(document, dict):
        return None, [f"{path}: a mapping file is a YAML mapping with {', '.join(_TOP_LEVEL)}"]
    unknown = [str(key) for key in document if key not in _TOP_LEVEL]
    if unknown:
        problem(f"unknown key(s) {', '.join(unknown)}; a mapping has {', '.join(_TOP_LEVEL)}")
    name = document.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problem(f"`name` is lower-case letters, digits, '.', '_' and '-', not {name!r}")
    description = document.get("description", "")
    if not isinstance(description, str):
        problem("`description` is text")
    source = _endpoint(document.get("source"), "source", problem)
    target = _endpoint(document.get("target"), "target", problem)
    files: list[Path] = [path.resolve()]
    context = BuildContext(_tables(path, document.get("tables", {}), tables, files, problem))
    reader = SpecReader(context)
    fields = reader.fields(document.get("fields"))
    problems.extend(f"{path}: {message}" for message in reader.problems)
    tests = _vectors(path, document.get("tests"), files, problem)
    if problems or not isinstance(name, str) or source is None or target is None:
        return None, problems
    mapping = Mapping(
        name=name,
        description=description if isinstance(description, str) else "",
        path=path,
        source=source,
        target=target,
        fields=fields,
        tests=tests,
        files=tuple(files),
    )
    return mapping, []


def _endpoint(raw: Any, key: str, problem: Callable[[str], None]) -> dict[str, str] | None:
    forms = " or ".join(f"{{{a}: …, {b}: …}}" for a, b in _ENDPOINTS)
    order = next((e for e in _ENDPOINTS if isinstance(raw, dict) and set(e) == set(raw)), None)
    if order is None:
        problem(f"`{key}` is {forms}, not {raw!r}")
        return None
    if not all(isinstance(v, str) and v for v in raw.values()):
        problem(f'`{key}`: each value is a non-empty string (quote versions: "1.0"), not {raw!r}')
        return None
    return {k: raw[k] for k in order}


def _tables(
    path: Path,
    raw: Any,
    cache: TableCache,
    files: list[Path],
    problem: Callable[[str], None],
) -> dict[str, Table]:
    if not isinstance(raw, dict):
        problem("`tables` maps a table name to a file path (relative to this file)")
        return {}
    tables: dict[str, Table] = {}
    for name, relative in raw.items():
        if not isinstance(relative, str):
            problem(f"tables.{name}: a file path, not {relative!r}")
            continue
        table_path = (path.parent / relative).resolve()
        files.append(table_path)
        if table_path not in cache:
            try:
                cache[table_path] = load_table(table_path)
            except FileError as exc:
                cache[table_path] = exc
        loaded = cache[table_path]
        if isinstance(loaded, FileError):
            problem(f"tables.{name}: {loaded}")
        else:
            tables[str(name)] = loaded
    return tables


def _vectors(
    path: Path, raw: Any, files: list[Path], problem: Callable[[str], None]
) -> list[TestVector]:
    if not isinstance(raw, list) or not raw:
        problem("`tests` is a list of test vectors; a mapping needs at least one")
        return []
    vectors: list[TestVector] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw):
        label = f"tests[{number}]"
        try:
            vector = _vector(path, entry, files, label)
        except SpecError as exc:
            problem(f"{label}: {exc}")
            continue
        if vector.name in seen:
            problem(f"{label}: another vector is also named {vector.name!r}")
        seen.add(vector.name)
        vectors.append(vector)
    return vectors


def _vector(path: Path, entry: Any, files: list[Path], label: str) -> TestVector:
    if not isinstance(entry, dict):
        raise SpecError("a vector is a mapping with name, input and expect (or error)")
    unknown = [str(key) for key in entry if key not in _VECTOR_KEYS]
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("every vector has a `name`")
    document = _inline_or_file(path, entry, "input", files, label)
    outcomes = [key for key in ("expect", "expect_file", "error") if key in entry]
    if len(outcomes) != 1:
        raise SpecError(f"{name!r}: give exactly one of expect, expect_file or error")
    if outcomes[0] == "error":
        error = entry["error"]
        if not isinstance(error, str) or not error:
            raise SpecError(f"{name!r}: `error` is a substring of the expected error message")
        return TestVector(name, document, None, error)
    return TestVector(name, document, _inline_or_file(path, entry, "expect", files, label))


def _inline_or_file(
    path: Path, entry: dict[str, Any], key: str, files: list[Path], label: str
) -> Any:
    file_key = f"{key}_file"
    if (key in entry) == (file_key in entry):
        raise SpecError(f"give exactly one of {key} or {file_key}")
    try:
        if key in entry:
            return as_json(entry[key], f"{label}.{key}")
        relative = entry[file_key]
        if not isinstance(relative, str):
            raise SpecError(f"{file_key} is a file path, not {relative!r}")
        document_path = (path.parent / relative).resolve()
        files.append(document_path)
        return read_document(document_path)
    except FileError as exc:
        raise SpecError(str(exc)) from None
