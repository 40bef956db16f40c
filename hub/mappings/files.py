"""Reading the files a mapping is made of: strict YAML and JSON.

YAML is read the way a JSON document would be, so a mapping means what it looks like:

* dates and times stay strings (``2026-03-14`` is not turned into a ``date``);
* only ``true``/``false`` are booleans (``NO``, ``on``, ``y`` stay strings: country codes,
  answers and units are safe);
* numbers are written as in JSON: ``0777`` is 777 and ``1e3`` is 1000.0, while ``10:30``,
  ``0x1F`` and ``.inf`` stay strings (YAML 1.1 would read octal, hex, base 60 and infinity);
* a key given twice in one mapping is an error, not a silent overwrite.

JSON files are read with orjson, so 64-bit integers stay exact, as they do in real input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import yaml
from yaml.nodes import MappingNode, ScalarNode

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class FileError(Exception):
    """A file cannot be read or parsed; the message names the file."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the JSON-like rules of the module docstring."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    return int(str(loader.construct_scalar(node)))


StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
StrictLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
StrictLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
StrictLoader.add_constructor(_INT, _construct_int)


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`; ``name`` is used in error messages."""
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        raise FileError(f"{name}: not valid YAML: {exc}") from None


def read_yaml(path: Path) -> Any:
    """One YAML file, strictly (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"{path}: cannot read: {exc}") from None
    return parse_yaml(text, str(path))


def read_json(path: Path) -> Any:
    """One JSON file, parsed with orjson (exact 64-bit integers)."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise FileError(f"{path}: cannot read: {exc}") from None
    except orjson.JSONDecodeError as exc:
        raise FileError(f"{path}: not valid JSON: {exc}") from None


def read_document(path: Path) -> Any:
    """A data file by its suffix: ``.json`` with orjson, ``.yaml``/``.yml`` strictly."""
    if path.suffix == ".json":
        return read_json(path)
    if path.suffix in (".yaml", ".yml"):
        return read_yaml(path)
    raise FileError(f"{path}: a data file is .json, .yaml or .yml")


def as_json(value: Any, where: str) -> Any:
    """``value`` as a JSON document would carry it; raises :class:`FileError` if it cannot.

    Round-tripping through orjson makes a YAML-written document the same Python value a
    JSON one parses to, and rejects what JSON has not (NaN, ``.inf``, non-string keys).
    """
    try:
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise FileError(f"{where}: not a JSON value: {exc}") from None
