"""X12 tokenizing: the separators an interchange declares in its ISA segment, then segments.

Every X12 interchange starts with a fixed-length ISA segment that names its own separators:

- the **element separator** is the character right after ``ISA`` (the 4th character);
- the **component separator** is ISA16, the last element;
- the **segment terminator** is the character right after ISA16;
- the **repetition separator** is ISA11 from version 00402 on (5010 writes ``^``); before
  that ISA11 is the standards identifier ``U``, a letter, and there is no repetition.

Segments may be followed by line breaks (``~`` then ``\\r\\n``), which are not data. A file
may hold several interchanges, each with its own separators: :func:`split_interchanges`
finds them. A segment is a ``list[str]``: its tag (``"BSN"``) then its elements, so
``segment[1]`` is BSN01, as the X12 documentation numbers them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

Segment = list[str]
"""One segment: ``[tag, element 1, element 2, ...]``."""

ISA_ELEMENTS = 16
LINE_BREAKS = "\r\n"
_BOM = "\ufeff"


class X12SyntaxError(ValueError):
    """Text that is not X12 at the interchange level: no ISA, broken separators.

    ``position`` is the 1-based segment position in the interchange when known, ``code`` the
    TA1 interchange note code (``TA105``) that reports it to the sender, when there is one.
    """

    def __init__(self, message: str, *, position: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.code = code


@dataclass(frozen=True)
class Separators:
    """The delimiters of one interchange."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    def __post_init__(self) -> None:
        chosen = [self.element, self.component, self.segment]
        if self.repetition is not None:
            chosen.append(self.repetition)
        for character in chosen:
            if len(character) != 1:
                raise X12SyntaxError(f"a separator must be one character, not {character!r}")
            if character.isalnum() or character == " ":
                raise X12SyntaxError(
                    f"{character!r} cannot be a separator: it can occur in data", code="026"
                )
        if len(set(chosen)) != len(chosen):
            raise X12SyntaxError(f"the separators {chosen!r} are not all different", code="026")

    @property
    def special(self) -> frozenset[str]:
        """Characters that may not occur inside an element value."""
        found = {self.element, self.component, self.segment}
        if self.repetition is not None:
            found.add(self.repetition)
        return frozenset(found)


def read_separators(text: str, start: int = 0) -> Separators:
    """The separators declared by the ISA segment that begins at ``text[start]``."""
    if not text.startswith("ISA", start):
        found = text[start : start + 20]
        raise X12SyntaxError(
            f"an interchange must start with an ISA segment, found {found!r}", position=1
        )
    element = text[start + 3 : start + 4]
    if not element:
        raise X12SyntaxError("the ISA segment is cut off", position=1, code="023")
    # ISA16 is a single character after the 16th element separator; the terminator follows.
    index = start + 3  # the separator before ISA01; 15 more come before ISA16
    for _ in range(ISA_ELEMENTS - 1):
        index = text.find(element, index + 1)
        if index < 0:
            raise X12SyntaxError(
                f"the ISA segment has fewer than {ISA_ELEMENTS} elements", position=1, code="023"
            )
    component = text[index + 1 : index + 2]
    terminator = text[index + 2 : index + 3]
    if not component or not terminator:
        raise X12SyntaxError("the ISA segment is cut off", position=1, code="023")
    isa = text[start : index + 2].split(element)
    repetition = isa[11] if len(isa) > 11 and len(isa[11]) == 1 else None
    # Before version 00402, ISA11 is the standards identifier "U": a letter, not a separator.
    if repetition is not None and (repetition.isalnum() or repetition == " "):
        repetition = None
    try:
        return Separators(element, component, terminator, repetition)
    except X12SyntaxError as exc:
        raise X12SyntaxError(f"ISA: {exc.message}", position=1, code=exc.code) from None


def tokenize(text: str, separators: Separators) -> list[Segment]:
    """The segments of one interchange's text, line breaks between segments dropped.

    Only line breaks *around* a segment are dropped; everything else is data, kept exactly.
    """
    element = separators.element
    segments: list[Segment] = []
    append = segments.append
    for raw in text.split(separators.segment):
        if raw and (raw[0] in LINE_BREAKS or raw[-1] in LINE_BREAKS):
            raw = raw.strip(LINE_BREAKS)
        if raw:
            append(raw.split(element))
    return segments


def split_interchanges(text: str) -> Iterator[tuple[str, Separators]]:
    """Each interchange in ``text`` with its separators, in order.

    Raises :class:`X12SyntaxError` for text that does not start with an ISA segment (after
    an optional byte-order mark and blank space) or for garbage between interchanges.
    """
    position = _skip_blank(text, 0)
    if position >= len(text):
        raise X12SyntaxError("the file is empty: no ISA segment")
    while position < len(text):
        separators = read_separators(text, position)
        end = _end_of_interchange(text, position, separators)
        yield text[position:end], separators
        position = _skip_blank(text, end)


def _skip_blank(text: str, position: int) -> int:
    while position < len(text) and (text[position].isspace() or text[position] == _BOM):
        position += 1
    return position


def _end_of_interchange(text: str, start: int, separators: Separators) -> int:
    """Where the interchange that starts at ``start`` ends: after its IEA, or at the end."""
    trailer = re.compile(
        re.escape(separators.segment) + r"[\r\n]*IEA" + re.escape(separators.element)
    )
    found = trailer.search(text, start)
    if found is None:
        return len(text)
    close = text.find(separators.segment, found.end())
    return len(text) if close < 0 else close + len(separators.segment)


def components(value: str, separators: Separators) -> list[str]:
    """The components of a composite element (``"EA>1"`` → ``["EA", "1"]``)."""
    return value.split(separators.component)


def repetitions(value: str, separators: Separators) -> list[str]:
    """The repeats of a repeating element (5010 and later); one item when it does not repeat."""
    if separators.repetition is None:
        return [value]
    return value.split(separators.repetition)
