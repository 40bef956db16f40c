"""What goes wrong with mappings: at apply time (:class:`MappingError`) or load time.

Neither is a :class:`hub.errors.ProblemError`: a payload that cannot be mapped is kept as an
inbound dead letter, and a broken mapping file is an operator's problem, so neither reaches
an API client as a problem document directly. Callers catch them and decide.
"""

from __future__ import annotations

from typing import Any


class MappingError(Exception):
    """One document could not be mapped.

    ``pointer`` is the RFC 6901 pointer of the target field in the output document
    (``/data/lines/2/item/gtin``), ``source_path`` the JMESPath the value came from (with the
    position inside an ``each`` list, e.g. ``line_items[2].barcode``), or ``None`` for a
    literal; ``message`` says what was wrong with the value.
    """

    def __init__(self, pointer: str, source_path: str | None, message: str) -> None:
        self.pointer = pointer
        self.source_path = source_path
        self.message = message
        origin = f" (from {source_path})" if source_path else ""
        super().__init__(f"{pointer or '/'}: {message}{origin}")

    def as_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data, e.g. to keep with an inbound dead letter."""
        return {"pointer": self.pointer, "source_path": self.source_path, "message": self.message}


class MappingLoadError(Exception):
    """Mapping files that cannot be loaded; ``problems`` lists every one, each naming its file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in the mappings:\n{listed}")


class TransformError(ValueError):
    """A transform refused a value at apply time; becomes a :class:`MappingError`."""


class SpecError(ValueError):
    """A mapping file says something invalid (a bad argument, an unknown name); load time."""
