"""Tokenizing: separators come from the ISA segment, line breaks between segments are not data."""

from __future__ import annotations

import pytest

from connectors.x12.segments import (
    Separators,
    X12SyntaxError,
    components,
    read_separators,
    repetitions,
    split_interchanges,
    tokenize,
)
from tests.connectors.x12.sample_files import sample_text

ISA_4010 = (
    "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*CROSSDOCK      "
    "*260325*2210*U*00401*000004711*0*P*>~"
)


def test_the_separators_are_read_from_the_isa_segment() -> None:
    separators = read_separators(ISA_4010)
    assert separators == Separators("*", ">", "~", None)  # 4010: ISA11 is "U", no repetition


def test_non_default_separators_and_crlf_line_breaks() -> None:
    text = sample_text("856-5010-separators.x12")
    [(interchange, separators)] = list(split_interchanges(text))
    assert separators == Separators("|", ":", "~", "^")  # 5010: ISA11 is the repetition separator
    segments = tokenize(interchange, separators)
    assert [s[0] for s in segments[:4]] == ["ISA", "GS", "ST", "BSN"]
    assert segments[3] == ["BSN", "00", "ACME-ASN-558121", "20260325", "2215", "0004"]
    assert all("\r" not in e and "\n" not in e for s in segments for e in s)
    assert segments[-1] == ["IEA", "1", "000004712"]


def test_a_newline_can_be_the_segment_terminator_and_data_keeps_its_spaces() -> None:
    text = ISA_4010.replace("~", "\n") + "GS*SH*A*B*20260325*2210*1*X*004010\nN1*ST*Atlanta  DC \n"
    separators = read_separators(text)
    assert separators.segment == "\n"
    segments = tokenize(text, separators)
    assert segments[2] == ["N1", "ST", "Atlanta  DC "]
    assert len(segments[0]) == 17
    assert segments[0][6] == "ACMESUPPLY     "  # fixed-width ISA fields are kept as sent


def test_a_file_can_hold_several_interchanges_each_with_its_own_separators() -> None:
    first = sample_text("856-ship-notice.x12")
    second = sample_text("856-5010-separators.x12")
    found = list(split_interchanges("\ufeff\n" + first + "\r\n\r\n" + second))
    assert [separators.element for _, separators in found] == ["*", "|"]
    # An interchange ends with its IEA terminator; the line breaks after it are not part of it.
    assert found[0][0] == first.rstrip("\n")
    assert found[1][0] == second.rstrip("\r\n")


@pytest.mark.parametrize(
    ("text", "message", "code"),
    [
        ("", "the file is empty", None),
        ("UNA:+.? 'UNB+UNOC:3+SENDER'", "must start with an ISA segment", None),
        ("ISA*00*          *00*", "fewer than 16 elements", "023"),
        (ISA_4010.replace(">~", "*~"), "are not all different", "026"),
        (ISA_4010.replace(">~", "A~"), "cannot be a separator", "026"),
    ],
)
def test_text_that_is_not_x12_is_refused_with_the_reason(
    text: str, message: str, code: str | None
) -> None:
    with pytest.raises(X12SyntaxError) as caught:
        list(split_interchanges(text))
    assert message in str(caught.value)
    assert caught.value.code == code


def test_garbage_after_an_interchange_is_refused() -> None:
    with pytest.raises(X12SyntaxError, match="must start with an ISA segment"):
        list(split_interchanges(sample_text("997-functional-ack.x12") + "trailing garbage"))


def test_composite_and_repeating_elements() -> None:
    separators = Separators("|", ":", "~", "^")
    assert components("EA:1:2.5", separators) == ["EA", "1", "2.5"]
    assert repetitions("A^B^C", separators) == ["A", "B", "C"]
    assert repetitions("A^B", Separators("*", ">", "~", None)) == ["A^B"]
