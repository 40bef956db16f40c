"""997 Functional Acknowledgment and TA1 Interchange Acknowledgment, both ways.

Writing: one 997 per functional group received, built from what reading found
(:mod:`connectors.x12.envelope` and the set readers): an AK2/AK5 pair per transaction
set, with AK3/AK4 naming the segment and element at fault of a rejected one, and AK9 for
the group (A accepted, P partially accepted, R rejected) with the counts of sets
included, received and accepted. From version 005010 on, AK3/AK4/AK5 are called
IK3/IK4/IK5, and AK1/AK2 carry the version and implementation reference.

A TA1 answers the interchange envelope itself: A (accepted) when the sender asked for it
(ISA14 = 1), R with its note code when the envelope is broken.

Reading a partner's 997 gives the document the connector reconciles its sent
interchanges with::

    {"functional_id": "PO", "group_control": "17", "version": "004010",
     "status": "A", "included": 1, "received": 1, "accepted": 1, "codes": [],
     "sets": [{"set_id": "850", "control": "0017", "status": "A", "codes": [],
               "errors": [{"segment": "PO1", "position": 9, "code": "8",
                           "elements": [{"position": 2, "code": "6", "value": "X"}]}]}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.x12.elements import (
    element,
    integer,
    missing_segment,
    optional,
    required,
)
from connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from connectors.x12.sets.loops import Document, ReadContext
from connectors.x12.writer import BodySegment, OutboundGroup, OutboundSet, X12Writer

SET_ID = "997"
_MAX_CODES = 5  # AK502-AK506 and AK905-AK909 hold five codes each


def _modern(version: str) -> bool:
    return version[:6] >= "005010"


def write(group: FunctionalGroup) -> list[BodySegment]:
    """The body of the 997 that acknowledges ``group``."""
    modern = _modern(group.version)
    body: list[BodySegment] = [
        ["AK1", group.functional_id, group.control, *([group.version] if modern else [])]
    ]
    accepted = 0
    for received in group.sets:
        body.append(
            [
                "AK2",
                received.set_id,
                received.control,
                *([received.implementation or ""] if modern else []),
            ]
        )
        for problem in received.problems:
            body.append(
                [
                    "IK3" if modern else "AK3",
                    problem.segment_id or "",
                    str(problem.position) if problem.position else "",
                    "",
                    problem.segment_code,
                ]
            )
            if problem.element is not None:
                body.append(
                    [
                        "IK4" if modern else "AK4",
                        str(problem.element),
                        "",
                        problem.element_code or "",
                        (problem.value or "")[:99],
                    ]
                )
        if received.accepted:
            accepted += 1
            body.append(["IK5" if modern else "AK5", "A"])
        else:
            body.append(["IK5" if modern else "AK5", "R", *received.codes[:_MAX_CODES]])
    if not group.accepted:
        status, accepted = "R", 0
    elif accepted == len(group.sets):
        status = "A"
    elif accepted == 0:
        status = "R"
    else:
        status = "P"
    included = group.declared_sets if group.declared_sets is not None else len(group.sets)
    body.append(
        [
            "AK9",
            status,
            str(included),
            str(len(group.sets)),
            str(accepted),
            *group.codes[:_MAX_CODES],
        ]
    )
    return body


def ta1(interchange: Interchange, when: datetime) -> list[str]:
    """The TA1 segment answering ``interchange``: A, or R with the first problem's code."""
    status = "A" if interchange.accepted else "R"
    code = "000" if interchange.accepted else interchange.problems[0].code
    return [
        "TA1",
        interchange.control,
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        status,
        code,
    ]


def acknowledgment_interchange(
    writer: X12Writer,
    interchange: Interchange,
    groups: Sequence[FunctionalGroup],
    *,
    ta1_owed: bool,
    control: int,
    group_control: int | None,
    set_controls: Sequence[int],
    when: datetime,
) -> str:
    """Our answer to a received interchange: a TA1 if owed, then one FA group holding a 997
    per group acknowledged, in the version the partner used (ISA12 and GS08)."""
    version = (
        interchange.version
        if len(interchange.version) == 5 and interchange.version.isdigit()
        else None
    )
    fa_groups = []
    if groups:
        if group_control is None:
            raise ValueError("acknowledging groups needs a group control number")
        acks = [
            OutboundSet(SET_ID, number, write(group))
            for number, group in zip(set_controls, groups, strict=True)
        ]
        fa_groups.append(
            OutboundGroup("FA", group_control, acks, version=groups[0].version or None)
        )
    segments = [ta1(interchange, when)] if ta1_owed else []
    return writer.interchange(control, when, fa_groups, ta1=segments, version=version)


def read(transaction: TransactionSet, context: ReadContext) -> Document:
    """A partner's 997 as the document described above."""
    document: Document = {"transaction_set": SET_ID}
    sets: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    began = False
    for position, segment in enumerate(transaction.segments, start=1):
        tag = segment[0]
        if tag == "AK1":
            began = True
            document.update(
                functional_id=required(segment, position, 1, "the functional identifier code"),
                group_control=required(segment, position, 2, "the group control number"),
                version=optional(segment, 3),
            )
        elif tag == "AK2":
            current = {
                "set_id": required(segment, position, 1, "the transaction set identifier"),
                "control": required(segment, position, 2, "the transaction set control number"),
                "codes": [],
                "errors": [],
            }
            sets.append(current)
        elif tag in ("AK3", "IK3") and current is not None:
            error = {
                "segment": element(segment, 1),
                "position": integer(segment, position, 2, "the segment position"),
                "code": element(segment, 4),
                "elements": [],
            }
            current["errors"].append(error)
        elif tag in ("AK4", "IK4") and error is not None:
            error["elements"].append(
                {
                    "position": element(segment, 1),
                    "code": element(segment, 3),
                    "value": element(segment, 4),
                }
            )
        elif tag in ("AK5", "IK5") and current is not None:
            current["status"] = required(segment, position, 1, "the set acknowledgment code")
            current["codes"] = [code for code in segment[2:] if code]
        elif tag == "AK9":
            document.update(
                status=required(segment, position, 1, "the group acknowledgment code"),
                included=integer(segment, position, 2, "the number of sets included"),
                received=integer(segment, position, 3, "the number of sets received"),
                accepted=integer(segment, position, 4, "the number of sets accepted"),
                codes=[code for code in segment[5:] if code],
            )
    if not began:
        raise missing_segment("AK1", 2, "functional group response header")
    if "status" not in document:
        raise missing_segment("AK9", len(transaction.segments), "functional group response trailer")
    document["sets"] = sets
    return document


def read_ta1(segment: list[str]) -> dict[str, Any]:
    """A partner's TA1: ``{"control", "date", "time", "status", "code"}``."""
    return {
        "control": element(segment, 1),
        "date": element(segment, 2),
        "time": element(segment, 3),
        "status": element(segment, 4),
        "code": element(segment, 5),
    }
