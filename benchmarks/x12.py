"""x12: a 500-line 856 parsed and mapped, a 500-line 850 written, against plain splitting.

In-process, one thread, the x12 connector's own code:

* **read**: a 500-item 856 ship notice (pick/pack: 50 pallets of 10 items, each item with
  LIN, SN1, PID, lot and expiry; about 3,100 segments) is tokenized with the separators
  its ISA declares, its envelope checked (counts, control numbers), read into the 856
  document, and mapped by the hub's :class:`MappingRegistry` with the shipped
  ``x12-856-to-receipt-advised`` mapping into a ``receipt.advised`` message — what a
  polled inbox file costs before the hub stores it. Steps are also timed on their own.
* **write**: a 500-line 850 from its native payload (as the route mapping makes it):
  validated by the payload model, written with envelope and counts, and — as ``send``
  does — read back and compared.

The baseline, in the same run, is reading the same file as plain text split into segments
and elements (``[s.split("*") for s in text.split("~")]``): the least any X12 reader does.
Reported: messages/s and the ratio to that baseline. Before timing, the mapped message
must pass the hub's contract check with its 500 lines, and the written 850 must read back
as its payload.

Timing as in ``validation``: a fixed call count per repetition, best of ``REPEATS``,
garbage collector off while timing, median over the rounds. No target: the issue asks for
the numbers and the ratio.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.common import (
    CONTRACTS,
    GOVERNANCE,
    REPO,
    BenchmarkError,
    Options,
    background_cpu,
    machine_info,
    median,
    ratio,
    today,
    write_result,
)
from benchmarks.validation import MIN_SECONDS, REPEATS, best_rate
from connectors.x12.envelope import parse_interchange
from connectors.x12.inbound import Partner, read_inbound
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import PAYLOADS, READERS, outbound_interchange
from connectors.x12.sets.loops import ReadContext
from connectors.x12.sets.payloads import document
from connectors.x12.writer import EnvelopeSettings, OutboundGroup, OutboundSet, Party, X12Writer
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import MappingLoadError, MappingRegistry

NAME = "x12"
LINES = 500
PALLETS = 50
MAPPING = "x12-856-to-receipt-advised"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# GTIN-14s with valid check digits, cycled through the lines (the mapping checks them).
GTINS = ("10085741200343", "00085741206331", "00085741204153", "00085741201121", "04006381333931")
US = Party("ZZ", "CROSSDOCK", "CROSSDOCK")
SUPPLIER = Party("ZZ", "ACMESUPPLY", "ACMESUPPLY")
PARTNER = Partner("ZZ", "ACMESUPPLY", "ZZ", "CROSSDOCK")


def ship_notice(lines: int = LINES, pallets: int = PALLETS) -> str:
    """A realistic pick/pack 856 from a supplier: ``pallets`` SSCC pallets, ``lines`` items."""
    body: list[list[str]] = [
        ["BSN", "00", "ASN-BENCH-500", "20261124", "0900", "0001"],
        ["DTM", "011", "20261124", "0845"],
        ["HL", "1", "", "S"],
        ["TD1", "PLT94", str(pallets)],
        ["TD5", "B", "2", "ODFL", "M"],
        ["REF", "BM", "BOL-500"],
        ["N1", "ST", "Atlanta distribution center", "92", "DC-ATL"],
        ["N1", "SF", "Acme Supply Co", "92", "VEND-ACME-0042"],
        ["HL", "2", "1", "O"],
        ["PRF", "PO-4500019999", "", "", "20261120"],
    ]
    number = 2
    per_pallet = lines // pallets
    for pallet in range(pallets):
        number += 1
        pallet_hl = number
        serial = f"00857412{pallet:09d}"  # extension digit, GS1 company prefix, serial
        body += [["HL", str(number), "2", "T"], ["MAN", "GM", "00" + serial + _check_digit(serial)]]
        for item in range(per_pallet):
            line = pallet * per_pallet + item + 1
            number += 1
            expiry = (date(2027, 1, 1) + timedelta(days=line)).strftime("%Y%m%d")
            body += [
                ["HL", str(number), str(pallet_hl), "I"],
                ["LIN", str(line), "BP", f"SKU-{line:05d}", "UK", GTINS[line % len(GTINS)]],
                ["SN1", "", f"{line % 97 + 1}.25", "CA", "", f"{line % 97 + 2}", "CA"],
                ["PID", "F", "", "", "", f"Item {line} of the benchmark ship notice"],
                ["REF", "LT", f"LOT-{line:05d}"],
                ["DTM", "036", expiry],
            ]
    body.append(["CTT", str(lines)])
    writer = X12Writer(EnvelopeSettings(sender=SUPPLIER, receiver=US))
    return writer.interchange(
        4711, WHEN, [OutboundGroup("SH", 4711, [OutboundSet("856", 1, body)])]
    )


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def purchase_order(lines: int = LINES) -> dict[str, Any]:
    """An 850 payload as ``x12-850-from-po-release-released`` makes it (numbers as floats)."""
    return {
        "transaction_set": "850",
        "purpose": "00",
        "order_type": "SA",
        "po_number": "PO-4500019999",
        "po_date": "2026-11-24",
        "currency": "USD",
        "sales_requirement": "Y",
        "incoterm": "FCA",
        "references": {"IA": "VEND-ACME-0042"},
        "parties": {
            "BY": {"id_qualifier": "92", "id": "BUY-MRODRIGUEZ"},
            "ST": {"name": "Atlanta distribution center", "id_qualifier": "92", "id": "DC-ATL"},
        },
        "lines": [
            {
                "line_id": str(line),
                "quantity": line % 97 + 1.5,
                "uom": "CA",
                "unit_price": 12.49,
                "price_basis": "PE",
                "product_ids": {
                    "BP": f"SKU-{line:05d}",
                    "VP": f"AC-{line:05d}",
                    "UK": GTINS[line % len(GTINS)],
                },
                "description": f"Item {line} of the benchmark purchase order",
                "dates": {"002": "2026-12-01"},
            }
            for line in range(1, lines + 1)
        ],
    }


# --- what is timed --------------------------------------------------------------------------


def split_plain(text: str) -> list[list[str]]:
    """The baseline: segments and elements by plain ``str.split``, nothing checked."""
    return [segment.strip("\r\n").split("*") for segment in text.split("~")]


def parse(text: str) -> Any:
    [(chunk, separators)] = list(split_interchanges(text))
    return parse_interchange(chunk, separators)


def read(text: str) -> dict[str, Any]:
    """What ``poll`` does with an inbox file: parse, check, read, make the record."""
    [record] = read_inbound(text, "asn.x12", PARTNER, UTC).records
    data: dict[str, Any] = record.data
    return data


def write(writer: X12Writer, payload: dict[str, Any], check: bool) -> str:
    model = PAYLOADS.validate_python(payload)
    text = outbound_interchange(writer, model, interchange=17, group=17, set_control=17, when=WHEN)
    if check:  # what send() does before it writes the file
        written = parse(text).groups[0].sets[0]
        if READERS["850"](written, ReadContext(UTC)) != document(model):
            raise BenchmarkError("the written 850 does not read back as its payload")
    return text


# --- the run --------------------------------------------------------------------------------


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    try:
        mapping = MappingRegistry.load(REPO / "mappings" / "x12").get(MAPPING)
    except (MappingLoadError, KeyError) as exc:
        raise BenchmarkError(f"cannot load the {MAPPING} mapping: {exc}") from exc
    asn = ship_notice()
    segments = len(split_plain(asn))
    order = purchase_order()
    writer = X12Writer(EnvelopeSettings(sender=US, receiver=SUPPLIER))
    po_text = write(writer, order, check=True)

    # Right before anything is timed: the result is a valid message with every line.
    event = mapping.apply(read(asn))
    checker = MessageChecker(ContractRegistry.load(CONTRACTS, GOVERNANCE))
    checked = checker.check({"source": "/connections/bench-supplier", **event})
    if not checked.ok:
        raise BenchmarkError(f"the mapped 856 is not a valid message: {checked.violations[:3]}")
    if len(event["data"]["lines"]) != LINES or len(event["data"]["handling_units"]) != PALLETS:
        raise BenchmarkError("the mapped 856 lost lines or pallets")
    if parse(asn).problems:
        raise BenchmarkError("the benchmark 856 has envelope problems")

    cases = {
        "split 856": lambda: split_plain(asn),
        "parse 856": lambda: parse(asn),
        "parse+read 856": lambda: read(asn),
        "parse+read+map 856": lambda: mapping.apply(read(asn)),
        "split 850": lambda: split_plain(po_text),
        "write 850": lambda: write(writer, order, check=False),
        "write+check 850": lambda: write(writer, order, check=True),
    }
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(1, options.rounds + 1):
        measured: dict[str, dict[str, Any]] = {}
        for name, call in cases.items():
            measured[name] = best_rate(call)
            print(f"[{NAME}] round {number}: {name:20} {measured[name]['per_s']:>10,.1f} /s")
        rounds.append(measured)

    def baseline_of(name: str) -> str:
        return "split 856" if name.endswith("856") else "split 850"

    rates = {name: median([r[name]["per_s"] for r in rounds]) for name in cases}
    ratios = {
        name: median([ratio(r[name]["per_s"], r[baseline_of(name)]["per_s"]) for r in rounds])
        for name in cases
    }

    def row(name: str, label: str) -> dict[str, Any]:
        base = baseline_of(name)
        cells: dict[str, Any] = {"case": label, "measured": f"{rates[name]:,.1f} /s"}
        if name == base:
            cells["ratio"] = "1.00"
        else:
            cells.update(baseline=f"{rates[base]:,.1f} /s", ratio=f"{ratios[name]:.3f}")
        return cells

    table = [
        row("split 856", f"856, {LINES} items: plain split into segments and elements (baseline)"),
        row("parse 856", "856: tokenize with ISA separators + envelope checks"),
        row("parse+read 856", "856: parse + read into the 856 record (what poll does)"),
        row("parse+read+map 856", f"856: parse + read + map to receipt.advised ({MAPPING})"),
        row("split 850", f"850, {LINES} lines: plain split of the written file (baseline)"),
        row("write 850", "850: validate payload + write interchange"),
        row("write+check 850", "850: validate + write + read back and compare (as send does)"),
    ]
    payload = {
        "benchmark": NAME,
        "date": today(),
        "headline": (
            f"X12 messages/s, one thread, in-process: a {LINES}-item 856 ({len(asn):,} bytes, "
            f"{segments:,} segments) parsed and mapped, a {LINES}-line 850 ({len(po_text):,} "
            "bytes) written, each against plain splitting of the same file; fixed call count "
            f"per repetition, best of {REPEATS}, median of {options.rounds} round(s)."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "config": {
            "mapping": f"mappings/x12/856-receipt-advised.yaml ({MAPPING})",
            "ship_notice_bytes": len(asn),
            "ship_notice_segments": segments,
            "purchase_order_bytes": len(po_text),
            "lines": LINES,
            "pallets": PALLETS,
            "rounds": options.rounds,
            "repeats": REPEATS,
            "min_seconds_per_repeat": MIN_SECONDS,
            "gc": "disabled while timing",
        },
        "results": {
            "median_per_s": rates,
            "median_ratio_to_plain_split": ratios,
            "rounds": rounds,
        },
        "targets": [],
        "verified": True,
        "verification": (
            "Before timing: the mapped 856 passes the hub's contract check as a receipt 1.0 "
            f"message with {LINES} lines and {PALLETS} handling units, and the written 850 "
            "reads back as its payload."
        ),
        "notes": [],
    }
    write_result(NAME, payload)
    return payload
