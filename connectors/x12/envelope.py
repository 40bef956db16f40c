"""The X12 envelope: interchange (ISA/IEA), functional groups (GS/GE), transaction sets (ST/SE).

:func:`parse_interchange` reads one interchange and checks its structure: ISA fixed fields,
every header matched by its trailer, the counts (SE01 segments, GE01 sets, IEA01 groups)
and control numbers (SE02 = ST02, GE02 = GS06, IEA02 = ISA13). It does not stop at the
first problem. Each problem is kept where it belongs, in the terms the acknowledgements
use to report it back to the sender:

- interchange problems (:class:`EnvelopeProblem`, with the TA1 note code): nothing in the
  interchange can be trusted;
- group problems (AK905 codes): the group's sets are rejected, other groups are fine;
- set problems (AK502 codes, and :class:`SetProblem` for the segment and element at
  fault): only that set is rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from connectors.x12.segments import Segment, Separators, X12SyntaxError, tokenize

_DIGITS = re.compile(r"^[0-9]+$")
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
# TA105 note codes for an ISA element of the wrong form, by element number.
_ISA_CODES = {
    1: "010",
    2: "011",
    3: "012",
    4: "013",
    5: "005",
    6: "006",
    7: "007",
    8: "008",
    9: "014",
    10: "015",
    11: "016",
    12: "017",
    13: "018",
    14: "019",
    15: "020",
    16: "027",
}


@dataclass(frozen=True)
class EnvelopeProblem:
    """Something wrong with the interchange envelope, reported with a TA1 note code."""

    message: str
    code: str
    position: int | None = None

    def __str__(self) -> str:
        where = f"segment {self.position}: " if self.position else ""
        return f"{where}{self.message} (TA1 code {self.code})"


@dataclass(frozen=True)
class SetProblem:
    """A syntax problem inside a transaction set: what a 997 reports in AK3 and AK4.

    ``position`` counts segments from ST = 1. ``segment_code`` is AK304 (``"3"`` mandatory
    segment missing, ``"8"`` segment has data element errors, ...); ``element`` and
    ``element_code`` are AK401 and AK403 (``"1"`` mandatory element missing, ``"6"``
    invalid character, ``"7"`` invalid code value, ``"8"`` invalid date, ...).
    """

    message: str
    segment_id: str | None = None
    position: int | None = None
    segment_code: str = "8"
    element: int | None = None
    element_code: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.segment_id:
            where = f"{self.segment_id}"
            if self.element is not None:
                where += f"{self.element:02d}"
            if self.position is not None:
                where += f" (segment {self.position} of the set)"
            where += ": "
        return where + self.message


@dataclass
class TransactionSet:
    """One ST..SE transaction set. ``segments`` includes ST and (when present) SE."""

    set_id: str
    control: str
    segments: list[Segment]
    position: int
    """Position of ST in the interchange (ISA = 1)."""
    implementation: str | None = None
    codes: list[str] = field(default_factory=list)
    """AK502 codes: 2 SE missing, 3 control numbers differ, 4 wrong count, 5 segments in
    error, 6 bad ST01, 7 bad ST02, 23 ST02 not unique in the group."""
    problems: list[SetProblem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.codes and not self.problems

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        end = -1 if self.segments and self.segments[-1][0] == "SE" else len(self.segments)
        return self.segments[1:end]

    def reject(self, problem: SetProblem) -> None:
        self.problems.append(problem)
        if "5" not in self.codes:
            self.codes.append("5")


@dataclass
class FunctionalGroup:
    """One GS..GE functional group."""

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control: str
    agency: str
    version: str
    position: int
    sets: list[TransactionSet] = field(default_factory=list)
    declared_sets: int | None = None
    codes: list[str] = field(default_factory=list)
    """AK905 codes: 3 GE missing, 4 control numbers differ, 5 wrong set count, 6 bad GS06."""
    segments: list[Segment] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.codes


@dataclass
class Interchange:
    """One ISA..IEA interchange as read, with every problem found in it."""

    separators: Separators
    segments: list[Segment]
    isa: Segment
    groups: list[FunctionalGroup] = field(default_factory=list)
    ta1: list[Segment] = field(default_factory=list)
    """TA1 interchange acknowledgements the sender included (about our interchanges)."""
    problems: list[EnvelopeProblem] = field(default_factory=list)

    def element(self, number: int) -> str:
        return self.isa[number].strip() if number < len(self.isa) else ""

    @property
    def sender_qualifier(self) -> str:
        return self.element(5)

    @property
    def sender_id(self) -> str:
        return self.element(6)

    @property
    def receiver_qualifier(self) -> str:
        return self.element(7)

    @property
    def receiver_id(self) -> str:
        return self.element(8)

    @property
    def version(self) -> str:
        """ISA12, the interchange control version (``00401``, ``00501``)."""
        return self.element(12)

    @property
    def control(self) -> str:
        """ISA13, the interchange control number, as written (nine digits)."""
        return self.element(13)

    @property
    def ack_requested(self) -> bool:
        """ISA14: does the sender ask for a TA1?"""
        return self.element(14) == "1"

    @property
    def usage(self) -> str:
        return self.element(15)

    @property
    def accepted(self) -> bool:
        return not self.problems

    def text_of(self, segments: list[Segment]) -> str:
        """Segments written back as X12 text with this interchange's separators."""
        seps = self.separators
        return "".join(seps.element.join(segment) + seps.segment for segment in segments)


def parse_interchange(text: str, separators: Separators) -> Interchange:
    """Read one interchange (ISA to IEA) and check its envelope. Never raises for what is
    inside it: every problem is recorded on the interchange, group or set it belongs to."""
    segments = tokenize(text, separators)
    if not segments or segments[0][0] != "ISA":
        raise X12SyntaxError("an interchange must start with an ISA segment", position=1)
    interchange = Interchange(separators, segments, segments[0])
    _check_isa(interchange)
    _Walker(interchange).walk()
    return interchange


def _check_isa(interchange: Interchange) -> None:
    isa = interchange.isa
    problems = interchange.problems
    if len(isa) != 17:
        problems.append(
            EnvelopeProblem(f"ISA has {len(isa) - 1} elements, it must have 16", "022", 1)
        )
        return
    for number, width in enumerate(ISA_WIDTHS, start=1):
        if len(isa[number]) != width:
            problems.append(
                EnvelopeProblem(
                    f"ISA{number:02d} is {len(isa[number])} characters long, "
                    f"it must be exactly {width}",
                    _ISA_CODES[number],
                    1,
                )
            )
    for number in (9, 10, 13):
        if not _DIGITS.match(isa[number]):
            problems.append(
                EnvelopeProblem(
                    f"ISA{number:02d} {isa[number]!r} is not digits", _ISA_CODES[number], 1
                )
            )
    if isa[14] not in ("0", "1"):
        problems.append(EnvelopeProblem(f"ISA14 {isa[14]!r} is not 0 or 1", "019", 1))
    if isa[15] not in ("P", "T", "I"):
        problems.append(EnvelopeProblem(f"ISA15 {isa[15]!r} is not P, T or I", "020", 1))


class _Walker:
    """One pass over the segments after ISA, matching headers with trailers."""

    def __init__(self, interchange: Interchange) -> None:
        self.interchange = interchange
        self.group: FunctionalGroup | None = None
        self.set: TransactionSet | None = None
        self.trailer_seen = False

    def problem(self, message: str, code: str, position: int) -> None:
        self.interchange.problems.append(EnvelopeProblem(message, code, position))

    def walk(self) -> None:
        for index, segment in enumerate(self.interchange.segments[1:], start=2):
            tag = segment[0]
            if self.trailer_seen:
                self.problem(f"{tag} after the IEA trailer", "024", index)
                break
            if self.group is not None and tag != "GS":
                self.group.segments.append(segment)
            if tag == "ST":
                self.start_set(segment, index)
            elif tag == "SE":
                self.end_set(segment, index)
            elif tag == "GS":
                self.start_group(segment, index)
            elif tag == "GE":
                self.end_group(segment, index)
            elif tag == "IEA":
                self.end_interchange(segment, index)
            elif self.set is not None:
                self.set.segments.append(segment)
            elif tag == "TA1" and self.group is None:
                self.interchange.ta1.append(segment)
            elif tag == "ISA":
                self.problem("an ISA inside an interchange", "024", index)
            else:
                where = "a functional group" if self.group is not None else "the interchange"
                self.problem(f"{tag} is outside any transaction set, in {where}", "024", index)
        if not self.trailer_seen:
            self.close_group(missing_trailer=True)
            self.interchange.problems.append(
                EnvelopeProblem("the interchange has no IEA trailer: the file is cut off", "023")
            )

    # -- transaction sets -------------------------------------------------------------------

    def start_set(self, segment: Segment, index: int) -> None:
        self.close_set(missing_trailer=True)
        if self.group is None:
            # Read it anyway, so that its segments are not each reported as stray.
            self.problem("ST outside a functional group", "024", index)
            self.set = TransactionSet(_el(segment, 1), _el(segment, 2), [segment], index)
            return
        set_id, control = _el(segment, 1), _el(segment, 2)
        current = TransactionSet(
            set_id, control, [segment], index, implementation=_el(segment, 3) or None
        )
        if not re.match(r"^[0-9]{3}$", set_id):
            current.codes.append("6")
        if not 4 <= len(control) <= 9:
            current.codes.append("7")
        elif any(s.control == control for s in self.group.sets):
            current.codes.append("23")
        self.group.sets.append(current)
        self.set = current

    def end_set(self, segment: Segment, index: int) -> None:
        current = self.set
        if current is None:
            self.problem("SE without a matching ST", "024", index)
            return
        current.segments.append(segment)
        count = _el(segment, 1)
        if count != str(len(current.segments)):
            current.codes.append("4")
        if _el(segment, 2) != current.control:
            current.codes.append("3")
        self.set = None

    def close_set(self, *, missing_trailer: bool) -> None:
        if self.set is not None and missing_trailer:
            self.set.codes.append("2")
        self.set = None

    # -- functional groups ------------------------------------------------------------------

    def start_group(self, segment: Segment, index: int) -> None:
        self.close_group(missing_trailer=True)
        group = FunctionalGroup(
            functional_id=_el(segment, 1),
            sender=_el(segment, 2),
            receiver=_el(segment, 3),
            date=_el(segment, 4),
            time=_el(segment, 5),
            control=_el(segment, 6),
            agency=_el(segment, 7),
            version=_el(segment, 8),
            position=index,
            segments=[segment],
        )
        if not re.match(r"^[0-9]{1,9}$", group.control):
            group.codes.append("6")
        if len(segment) < 9 or not group.functional_id or not group.version:
            self.problem("GS must have GS01 to GS08", "024", index)
        self.interchange.groups.append(group)
        self.group = group

    def end_group(self, segment: Segment, index: int) -> None:
        group = self.group
        if group is None:
            self.problem("GE without a matching GS", "024", index)
            return
        self.close_set(missing_trailer=True)
        count = _el(segment, 1)
        group.declared_sets = int(count) if count.isdigit() else None
        if count != str(len(group.sets)):
            group.codes.append("5")
        if _el(segment, 2) != group.control:
            group.codes.append("4")
        self.group = None

    def close_group(self, *, missing_trailer: bool) -> None:
        self.close_set(missing_trailer=True)
        if self.group is not None and missing_trailer:
            self.group.codes.append("3")
        self.group = None

    # -- the interchange --------------------------------------------------------------------

    def end_interchange(self, segment: Segment, index: int) -> None:
        self.close_group(missing_trailer=True)
        self.trailer_seen = True
        groups = len(self.interchange.groups)
        if _el(segment, 1) != str(groups):
            self.problem(
                f"IEA01 says {_el(segment, 1)!r} functional groups, the interchange has {groups}",
                "021",
                index,
            )
        if _el(segment, 2) != self.interchange.control:
            self.problem(
                f"IEA02 {_el(segment, 2)!r} differs from ISA13 {self.interchange.control!r}",
                "001",
                index,
            )


def _el(segment: Segment, number: int) -> str:
    return segment[number] if number < len(segment) else ""
