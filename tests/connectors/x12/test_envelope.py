"""Envelope checks: counts, control numbers and trailers, each problem where it belongs."""

from __future__ import annotations

import pytest

from connectors.x12.envelope import Interchange, parse_interchange
from connectors.x12.segments import split_interchanges
from tests.connectors.x12.sample_files import sample_text


def parsed(text: str) -> Interchange:
    [(chunk, separators)] = list(split_interchanges(text))
    return parse_interchange(chunk, separators)


SHIP_NOTICE = sample_text("856-ship-notice.x12")


def test_a_sound_interchange_has_no_problems() -> None:
    interchange = parsed(SHIP_NOTICE)
    assert interchange.problems == []
    [group] = interchange.groups
    assert (group.functional_id, group.control, group.version, group.declared_sets) == (
        "SH",
        "4711",
        "004010",
        1,
    )
    [transaction] = group.sets
    assert (transaction.set_id, transaction.control, transaction.position) == ("856", "0001", 3)
    assert transaction.accepted
    assert transaction.segments[0][0] == "ST" and transaction.segments[-1][0] == "SE"
    assert transaction.body[0][0] == "BSN"
    assert interchange.control == "000004711"
    assert (interchange.sender_id, interchange.receiver_id) == ("ACMESUPPLY", "CROSSDOCK")


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        ("SE*41*0001~", "SE*40*0001~", ["4"]),  # SE01 counts ST..SE
        ("SE*41*0001~", "SE*41*0002~", ["3"]),  # SE02 must repeat ST02
        ("ST*856*0001~", "ST*856*01~", ["7", "3"]),  # ST02 is 4 to 9 characters
        ("ST*856*0001~", "ST*85X*0001~", ["6"]),  # ST01 is three digits
    ],
)
def test_set_trailer_problems_reject_only_the_set(old: str, new: str, codes: list[str]) -> None:
    assert old in SHIP_NOTICE
    interchange = parsed(SHIP_NOTICE.replace(old, new))
    assert interchange.problems == []
    [group] = interchange.groups
    assert group.accepted
    assert group.sets[0].codes == codes
    assert not group.sets[0].accepted


def test_a_missing_se_rejects_the_set_and_the_group_count_still_holds() -> None:
    text = SHIP_NOTICE.replace("SE*41*0001~\n", "")
    [group] = parsed(text).groups
    assert group.sets[0].codes == ["2"]
    assert group.codes == []


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        ("GE*1*4711~", "GE*2*4711~", ["5"]),
        ("GE*1*4711~", "GE*1*4712~", ["4"]),
        (
            "GS*SH*ACMESUPPLY*CROSSDOCK*20260325*2210*4711*",
            "GS*SH*ACMESUPPLY*CROSSDOCK*20260325*2210*47A1*",
            ["6", "4"],
        ),
    ],
)
def test_group_trailer_problems_reject_the_group(old: str, new: str, codes: list[str]) -> None:
    assert old in SHIP_NOTICE
    interchange = parsed(SHIP_NOTICE.replace(old, new))
    assert interchange.problems == []
    assert interchange.groups[0].codes == codes


def test_a_missing_ge_rejects_the_group() -> None:
    interchange = parsed(SHIP_NOTICE.replace("GE*1*4711~\n", ""))
    assert interchange.groups[0].codes == ["3"]


def test_two_sets_with_one_control_number_in_a_group() -> None:
    body = SHIP_NOTICE[SHIP_NOTICE.index("ST*856") : SHIP_NOTICE.index("GE*1")]
    text = SHIP_NOTICE.replace("GE*1*4711~", body + "GE*2*4711~")
    [group] = parsed(text).groups
    assert [s.codes for s in group.sets] == [[], ["23"]]


@pytest.mark.parametrize(
    ("old", "new", "code", "fragment"),
    [
        ("IEA*1*000004711~", "IEA*2*000004711~", "021", "IEA01 says '2' functional groups"),
        ("IEA*1*000004711~", "IEA*1*000004712~", "001", "differs from ISA13"),
        ("IEA*1*000004711~\n", "", "023", "no IEA trailer"),
        ("*000004711*0*P*", "*00004711*0*P*", "018", "ISA13"),
        ("*ZZ*ACMESUPPLY     *", "*ZZ*ACMESUPPLY*", "006", "ISA06 is 10 characters long"),
        ("*0*P*>", "*0*X*>", "020", "ISA15"),
        ("GE*1*4711~", "GE*1*4711~\nN1*ST*X~", "024", "N1 is outside any transaction set"),
    ],
)
def test_interchange_problems_name_the_ta1_code_and_the_segment(
    old: str, new: str, code: str, fragment: str
) -> None:
    assert old in SHIP_NOTICE
    interchange = parsed(SHIP_NOTICE.replace(old, new))
    assert not interchange.accepted
    assert code in [p.code for p in interchange.problems]
    assert any(fragment in str(p) for p in interchange.problems), interchange.problems


def test_a_problem_says_where_it_is() -> None:
    interchange = parsed(SHIP_NOTICE.replace("IEA*1*000004711~", "IEA*1*000004712~"))
    [problem] = interchange.problems
    assert str(problem).startswith("segment 45: IEA02 '000004712' differs from ISA13")
    assert str(problem).endswith("(TA1 code 001)")


def test_a_set_outside_a_group_is_an_interchange_problem() -> None:
    text = SHIP_NOTICE.replace("GS*SH*ACMESUPPLY*CROSSDOCK*20260325*2210*4711*X*004010~\n", "")
    text = text.replace("GE*1*4711~\n", "").replace("IEA*1*", "IEA*0*")
    interchange = parsed(text)
    assert [p.code for p in interchange.problems] == ["024"]
    assert "ST outside a functional group" in str(interchange.problems[0])


def test_a_partner_ta1_before_the_groups_is_kept() -> None:
    text = SHIP_NOTICE.replace("GS*SH*", "TA1*000000017*260325*2210*A*000~\nGS*SH*", 1)
    interchange = parsed(text)
    assert interchange.problems == []
    assert interchange.ta1 == [["TA1", "000000017", "260325", "2210", "A", "000"]]
