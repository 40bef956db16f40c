"""Writing envelopes: fixed-width ISA, counts and control numbers, values checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.x12.envelope import parse_interchange
from connectors.x12.segments import Separators, split_interchanges, tokenize
from connectors.x12.writer import EnvelopeSettings, OutboundGroup, OutboundSet, Party, X12Writer

WHEN = datetime(2026, 3, 16, 13, 5, tzinfo=UTC)
US = Party("ZZ", "CROSSDOCK", "CROSSDOCK")
THEM = Party("12", "4045550100", "ACMEAPP")


def writer(
    *,
    version: str = "004010",
    usage: str = "P",
    separators: Separators | None = None,
    line_breaks: bool = True,
) -> X12Writer:
    settings = EnvelopeSettings(
        sender=US,
        receiver=THEM,
        version=version,
        usage=usage,
        separators=separators or Separators("*", ">", "~", "^"),
        line_breaks=line_breaks,
    )
    return X12Writer(settings)


def two_groups(x12: X12Writer) -> str:
    body = [["BSN", "00", "A-1", "20260316", "1305"], ["HL", "1", "", "S"]]
    groups = [
        OutboundGroup("SH", 7, [OutboundSet("856", 70, body), OutboundSet("856", 71, body[:1])]),
        OutboundGroup(
            "PO", 8, [OutboundSet("850", 80, [["BEG", "00", "SA", "PO-1", "", "20260316"]])]
        ),
    ]
    return x12.interchange(123, WHEN, groups)


def test_the_isa_is_fixed_width_and_names_the_separators() -> None:
    text = two_groups(writer())
    isa = text.split("\n")[0]
    assert len(isa) == 106
    assert isa == (
        "ISA*00*          *00*          *ZZ*CROSSDOCK      *12*4045550100     "
        "*260316*1305*U*00401*000000123*0*P*>~"
    )


def test_counts_and_control_numbers_agree_when_read_back() -> None:
    text = two_groups(writer())
    [(chunk, separators)] = list(split_interchanges(text))
    interchange = parse_interchange(chunk, separators)
    assert interchange.problems == []
    assert [(g.functional_id, g.control, g.declared_sets) for g in interchange.groups] == [
        ("SH", "7", 2),
        ("PO", "8", 1),
    ]
    assert [[(s.control, s.accepted) for s in g.sets] for g in interchange.groups] == [
        [("0070", True), ("0071", True)],
        [("0080", True)],
    ]
    segments = tokenize(chunk, separators)
    assert ["SE", "4", "0070"] in segments
    assert ["SE", "3", "0071"] in segments
    assert ["GE", "2", "7"] in segments
    assert segments[-1] == ["IEA", "2", "000000123"]


def test_trailing_empty_elements_are_left_out_and_composites_joined() -> None:
    x12 = writer(line_breaks=False)
    assert x12.segment("N1", "ST", "Atlanta", "", "") == "N1*ST*Atlanta~"
    assert x12.segment("PO1", "1", "2", "", "", "", "BP", "A") == "PO1*1*2****BP*A~"
    assert x12.segment("RCD", "1", "5", ("EA", "", "")) == "RCD*1*5*EA~"
    assert x12.segment("MEA", "PD", "G", "12", ("LB", "1")) == "MEA*PD*G*12*LB>1~"


@pytest.mark.parametrize("value", ["A*B", "A~B", "A>B", "A^B", "line\nbreak"])
def test_a_value_holding_a_separator_is_refused(value: str) -> None:
    x12 = writer(separators=Separators("*", ">", "~", "^"))
    with pytest.raises(ValueError, match=r"N102"):
        x12.segment("N1", "ST", value)


def test_version_5010_writes_the_repetition_separator_in_isa11() -> None:
    x12 = writer(version="005010", separators=Separators("|", ":", "~", "^"), usage="T")
    isa = x12.isa(1, WHEN)
    assert isa.split("|")[11:17] == ["^", "00501", "000000001", "0", "T", ":~\n"]


def test_line_breaks_are_optional() -> None:
    assert "\n" not in two_groups(writer(line_breaks=False))
    assert two_groups(writer()).count("~\n") == two_groups(writer()).count("~")


@pytest.mark.parametrize("number", [-1, 1_000_000_000])
def test_a_control_number_must_fit_nine_digits(number: int) -> None:
    with pytest.raises(ValueError, match="control number"):
        writer().isa(number, WHEN)


def test_a_long_set_control_number_keeps_every_digit() -> None:
    [st, se] = writer(line_breaks=False).transaction_set(OutboundSet("997", 123456789, []))
    assert (st, se) == ("ST*997*123456789~", "SE*2*123456789~")
