"""Writing X12: fixed-width ISA, GS/GE and ST/SE with their counts and control numbers.

A transaction set's content (its *body*, the segments between ST and SE) comes from the
set's codec; this module wraps bodies into groups and an interchange and counts for them:
SE01 counts the set's segments including ST and SE, GE01 the group's sets, IEA01 the
interchange's groups. Control numbers are given, never invented here: the connector draws
them from durable sequences so that they never repeat per partner.

Every element is checked before it is written: a value holding a separator character
would silently change the document's structure, so it is refused (``ValueError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connectors.x12.segments import Separators

Element = str | Sequence[str]
"""An element to write: text, or the components of a composite element."""
BodySegment = Sequence[Element]

FUNCTIONAL_IDS = {
    "214": "QM",
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "861": "RC",
    "870": "RS",
    "940": "OW",
    "943": "AR",
    "944": "RE",
    "945": "SW",
    "997": "FA",
}
"""GS01 functional identifier code of each transaction set the connector knows."""


@dataclass(frozen=True)
class Party:
    """One end of an interchange: ISA qualifier and id, and the GS application code."""

    qualifier: str
    id: str
    application: str


@dataclass(frozen=True)
class EnvelopeSettings:
    """How this connection writes its envelopes."""

    sender: Party
    receiver: Party
    version: str = "004010"
    """GS08 (``004010``, ``005010``, ``004010VICS``); ISA12 is its first five digits."""
    usage: str = "P"
    separators: Separators = field(default_factory=lambda: Separators("*", ">", "~", "^"))
    line_breaks: bool = True
    """A line break after every segment terminator: easier to read, ignored by readers."""
    ta1_requested: bool = False

    @property
    def interchange_version(self) -> str:
        return self.version[:5]


@dataclass(frozen=True)
class OutboundSet:
    """One transaction set to write: its id, control number (ST02) and body."""

    set_id: str
    control: int
    body: Sequence[BodySegment]


@dataclass(frozen=True)
class OutboundGroup:
    """One functional group to write."""

    functional_id: str
    control: int
    sets: Sequence[OutboundSet]
    version: str | None = None
    """GS08 when it differs from the connection's (a 997 answers in the partner's version)."""


class X12Writer:
    """Formats segments with one interchange's separators, checking every value."""

    def __init__(self, settings: EnvelopeSettings) -> None:
        self.settings = settings
        self.separators = settings.separators
        self._special = settings.separators.special
        self._end = settings.separators.segment + ("\n" if settings.line_breaks else "")

    def segment(self, tag: str, *elements: Element) -> str:
        """One segment as text, trailing empty elements left out (as X12 requires)."""
        values = [self._element(tag, number, value) for number, value in enumerate(elements, 1)]
        while values and not values[-1]:
            values.pop()
        return self.separators.element.join([tag, *values]) + self._end

    def _element(self, tag: str, number: int, value: Element) -> str:
        parts = [value] if isinstance(value, str) else list(value)
        for part in parts:
            if not isinstance(part, str):
                raise TypeError(f"{tag}{number:02d}: {part!r} is not text")
            bad = self._special.intersection(part)
            if bad:
                raise ValueError(
                    f"{tag}{number:02d} {part!r} contains {''.join(sorted(bad))!r}, "
                    "a separator of this interchange"
                )
            if "\r" in part or "\n" in part:
                raise ValueError(f"{tag}{number:02d} {part!r} contains a line break")
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return self.separators.component.join(parts)

    def body_segment(self, segment: BodySegment) -> str:
        """A body segment given as ``[tag, element 1, ...]``."""
        tag = segment[0]
        if not isinstance(tag, str):
            raise TypeError(f"a segment starts with its tag, not {tag!r}")
        return self.segment(tag, *segment[1:])

    def isa(self, control: int, when: datetime, version: str | None = None) -> str:
        settings = self.settings
        interchange_version = (version or settings.version)[:5]
        repetition = self.separators.repetition or "^"
        fields = [
            "00",
            " " * 10,
            "00",
            " " * 10,
            settings.sender.qualifier,
            settings.sender.id.ljust(15),
            settings.receiver.qualifier,
            settings.receiver.id.ljust(15),
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            # ISA11 became the repetition separator in 00402; before, it is "U" (U.S. EDI).
            repetition if interchange_version >= "00402" else "U",
            interchange_version,
            _control(control, 9, 9),
            "1" if settings.ta1_requested else "0",
            settings.usage,
            self.separators.component,
        ]
        for number, value in enumerate(fields, start=1):
            if number in (11, 16):
                continue  # the separators themselves
            self._element("ISA", number, value)
        # The ISA is fixed-width: never trim its elements.
        return self.separators.element.join(["ISA", *fields]) + self._end

    def interchange(
        self,
        control: int,
        when: datetime,
        groups: Sequence[OutboundGroup],
        *,
        ta1: Sequence[Sequence[str]] = (),
        version: str | None = None,
    ) -> str:
        """A whole interchange: ISA, any TA1s, each group with its sets, IEA."""
        settings = self.settings
        parts = [self.isa(control, when, version)]
        parts.extend(self.body_segment(segment) for segment in ta1)
        for group in groups:
            parts.append(
                self.segment(
                    "GS",
                    group.functional_id,
                    settings.sender.application,
                    settings.receiver.application,
                    when.strftime("%Y%m%d"),
                    when.strftime("%H%M"),
                    str(group.control),
                    "X",
                    group.version or version or settings.version,
                )
            )
            for outbound in group.sets:
                parts.extend(self.transaction_set(outbound))
            parts.append(self.segment("GE", str(len(group.sets)), str(group.control)))
        parts.append(self.segment("IEA", str(len(groups)), _control(control, 9, 9)))
        return "".join(parts)

    def transaction_set(self, outbound: OutboundSet) -> list[str]:
        """ST, the body, SE with the segment count (ST and SE included)."""
        control = _control(outbound.control, 4, 9)
        lines = [self.segment("ST", outbound.set_id, control)]
        lines.extend(self.body_segment(segment) for segment in outbound.body)
        lines.append(self.segment("SE", str(len(lines) + 1), control))
        return lines


def _control(number: int, width: int, most: int) -> str:
    text = str(number).zfill(width)
    if number < 0 or len(text) > most:
        raise ValueError(f"control number {number} does not fit {most} digits")
    return text
