"""Golden files: every transaction set the connector writes, byte for byte.

The outbound sets are written from what the shipped mappings make of the contracts' own
examples; the 997s answer sample files. Control numbers and the time are fixed through
parameters, so any change to what is written shows up here as a diff to review.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest

from connectors.x12.envelope import parse_interchange
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import PAYLOADS, outbound_interchange
from connectors.x12.sets.functional_ack import acknowledgment_interchange
from connectors.x12.writer import EnvelopeSettings, Party, X12Writer
from hub.mappings import MappingRegistry
from tests.conftest import REPO
from tests.connectors.x12.sample_files import EASTERN, GOLDEN, SENDERS, read_sample, sample_text

WHEN = datetime(2026, 3, 16, 13, 5, tzinfo=EASTERN)
MAPPINGS = MappingRegistry.load(REPO / "mappings" / "x12")
VECTORS = REPO / "mappings" / "x12" / "vectors"


def writer(partner: str = "ACMESUPPLY") -> X12Writer:
    return X12Writer(
        EnvelopeSettings(Party("ZZ", "CROSSDOCK", "CROSSDOCK"), Party("ZZ", partner, partner))
    )


@pytest.mark.parametrize(
    ("golden", "mapping", "vector"),
    [
        ("850.x12", "x12-850-from-po-release-released", "po-release-released.json"),
        ("940.x12", "x12-940-from-reservation-released", "reservation-released.json"),
        ("943.x12", "x12-943-from-transfer-requested", "transfer-requested.json"),
    ],
)
def test_outbound_sets_match_their_golden_files(golden: str, mapping: str, vector: str) -> None:
    event = orjson.loads((VECTORS / vector).read_bytes())
    payload = PAYLOADS.validate_python(MAPPINGS.get(mapping).apply(event))
    written = outbound_interchange(
        writer(), payload, interchange=123456789, group=1017, set_control=17, when=WHEN
    )
    assert written == (GOLDEN / golden).read_text()


@pytest.mark.parametrize(
    ("golden", "sample", "change", "numbers"),
    [
        ("997-accepted.x12", "856-ship-notice.x12", None, (123456790, 1018, 18)),
        (
            "997-rejected.x12",
            "861-receiving-advice.x12",
            ("RCD*2*228*", "RCD*2*22B*"),
            (123456790, 1018, 18),
        ),
        (
            "997-5010-with-ta1.x12",
            "856-5010-separators.x12",
            ("|000004712|0|P|", "|000004712|1|P|"),
            (123456791, 1019, 19),
        ),
    ],
)
def test_acknowledgements_match_their_golden_files(
    golden: str, sample: str, change: tuple[str, str] | None, numbers: tuple[int, int, int]
) -> None:
    text = sample_text(sample)
    if change is not None:
        assert change[0] in text
        text = text.replace(*change)
    [owed] = read_sample(sample, text).owed
    control, group, set_control = numbers
    written = acknowledgment_interchange(
        writer(SENDERS[sample] if "5010" not in golden else "ACMESUPPLY"),
        owed.interchange,
        owed.groups,
        ta1_owed=owed.ta1,
        control=control,
        group_control=group,
        set_controls=[set_control],
        when=WHEN,
    )
    assert written == (GOLDEN / golden).read_text()


@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("*.x12")))
def test_every_golden_file_reads_back_with_its_counts_and_control_numbers(golden: str) -> None:
    [(chunk, separators)] = list(split_interchanges((GOLDEN / golden).read_text()))
    interchange = parse_interchange(chunk, separators)
    assert interchange.problems == []
    assert all(g.accepted and all(s.accepted for s in g.sets) for g in interchange.groups)
    assert len(interchange.segments[0]) == 17 and len(chunk.split("\n")[0]) == 106


def test_every_golden_file_is_checked() -> None:
    assert sorted(p.name for p in Path(GOLDEN).iterdir()) == [
        "850.x12",
        "940.x12",
        "943.x12",
        "997-5010-with-ta1.x12",
        "997-accepted.x12",
        "997-rejected.x12",
    ]
