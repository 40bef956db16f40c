"""mapping: Shopify orders mapped to reservations per second, compiled vs hand-written.

The shipped mapping ``mappings/shopify/orders-create.yaml`` applied to its own 5-line test
payload (``mappings/shopify/vectors/order-5-lines.json``: a realistic orders/create webhook
body, about 5 KB as compact JSON, parsed once with orjson), against :func:`hand_written`, a
plain Python function a developer would write for the same mapping. Both must produce the
identical document (compared as JSON bytes, so ``2`` and ``2.0`` differ) and it must pass
the hub's contract check before anything is timed.

Timing as in ``validation``: a fixed call count per repetition (long enough for
``MIN_SECONDS``), best of ``REPEATS``, garbage collector off while timing, one thread in
one process. With several rounds the two are measured in turn each round; rates and the
ratio are medians over the rounds. Also reported: parsing the raw body with orjson and
mapping it (``Mapping.apply_json``), what an inbound request pays.

Target: the compiled mapping ≥ 20,000 mappings/s.
"""

from __future__ import annotations

import csv
import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from stdnum import ean

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
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import MappingLoadError, MappingRegistry

NAME = "mapping"
TARGET = 20_000.0  # mappings/s of a 5-line Shopify order, compiled
MAPPING = "shopify-orders-create"
SHOPIFY = REPO / "mappings" / "shopify"
PAYLOAD = SHOPIFY / "vectors" / "order-5-lines.json"


# --- the baseline: the same mapping, written by hand ----------------------------------------


def _read_csv(name: str) -> dict[str, dict[str, str]]:
    with (SHOPIFY / "tables" / name).open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows[1:]}


LOCATIONS = _read_csv("locations.csv")
UNITS_BY_SKU = {"kg": "KG", "litre": "LT", "case": "CS"}
SKU_UNITS = {sku: UNITS_BY_SKU[row["unit"]] for sku, row in _read_csv("sku-units.csv").items()}
CHANNELS = {"web": "ecommerce", "pos": "counter", "shopify_draft_order": "sales_rep"}


# Memoised like the engine's `gtin` transform, so both pay the same for check digits.
@functools.lru_cache(maxsize=65536)
def _gtin(barcode: str) -> str:
    digits = barcode.replace(" ", "").replace("-", "")
    if not ean.is_valid(digits):
        raise ValueError(f"bad GTIN {barcode!r}")
    return digits.zfill(14)


def _number(text: str) -> int | float:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def hand_written(order: dict[str, Any]) -> dict[str, Any]:
    """``shopify-orders-create`` as a developer would code it for this payload's shape."""
    order_id = order["id"]
    reservation_id = f"SHOP-{order_id}"
    order_ref = order["name"].strip("#")
    promised = None
    for attribute in order.get("note_attributes") or []:
        if attribute.get("name") == "Delivery date":
            promised = datetime.strptime(attribute["value"], "%d/%m/%Y").date().isoformat()
            break
    lines = []
    for number, item in enumerate(order["line_items"], start=1):
        sku = str(item["sku"]).strip().upper()
        product: dict[str, Any] = {"sku": sku}
        barcode = item.get("barcode")
        if barcode and barcode.strip():
            product["gtin"] = _gtin(barcode)
        product["description"] = item["name"].strip()
        site = LOCATIONS[str(item["origin_location"]["id"])]
        line: dict[str, Any] = {
            "line_no": number,
            "item": product,
            "location": {"code": site["code"], "gln": site["gln"], "name": site["name"]},
            "requested_qty": item["quantity"],
            "uom": SKU_UNITS.get(sku, "EA"),
        }
        if promised is not None:
            line["promised_date"] = promised
        lines.append(line)
    shipping = order.get("shipping_lines") or [{}]
    speed = (shipping[0].get("code") or "").lower()
    created = datetime.fromisoformat(order["created_at"]).astimezone(UTC)
    return {
        "specversion": "1.0",
        "id": f"shopify-orders-create-{order_id}",
        "type": "reservation.requested",
        "dataschema": "urn:crossdock:contract:reservation:1.0",
        "subject": reservation_id,
        "time": created.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "correlationid": f"order-{order_ref}",
        "data": {
            "reservation_id": reservation_id,
            "order_ref": order_ref,
            "customer_ref": f"SHOPIFY-{order['customer']['id']}",
            "priority": "critical" if speed in ("next-day", "express") else "standard",
            "channel": CHANNELS.get(order["source_name"], "ecommerce"),
            "status": "requested",
            "lines": lines,
            "extensions": {
                "shopify_order_id": order_id,
                "currency": order["currency"],
                "total_price": _number(order["total_price"]),
                "total_weight_kg": _number(str(Decimal(order["total_weight"]) / 1000)),
            },
        },
    }


# --- the run ------------------------------------------------------------------------------


def _json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def run(options: Options) -> dict[str, Any]:
    print(f"[{NAME}] background CPU before start: ", end="", flush=True)
    background = background_cpu()
    print(f"{background}%")
    try:
        mapping = MappingRegistry.load(REPO / "mappings").get(MAPPING)
    except (MappingLoadError, KeyError) as exc:
        raise BenchmarkError(f"cannot load the {MAPPING} mapping: {exc}") from exc
    order = orjson.loads(PAYLOAD.read_bytes())
    raw = orjson.dumps(order)  # compact, as Shopify sends it
    if len(order["line_items"]) != 5:
        raise BenchmarkError(f"{PAYLOAD} should have 5 line items")

    # Same output, and a valid message, before anything is timed.
    compiled_output = mapping.apply(order)
    if _json(compiled_output) != _json(hand_written(order)):
        raise BenchmarkError("the compiled mapping and the hand-written one disagree")
    checker = MessageChecker(ContractRegistry.load(CONTRACTS, GOVERNANCE))
    checked = checker.check({"source": "/connections/bench-shop", **compiled_output})
    if not checked.ok:
        raise BenchmarkError(f"the mapped order is not a valid message: {checked.violations}")

    cases = {
        "hand-written": lambda: hand_written(order),
        "compiled": lambda: mapping.apply(order),
        "parse+compiled": lambda: mapping.apply_json(raw),
    }
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(1, options.rounds + 1):
        measured: dict[str, dict[str, Any]] = {}
        for name, call in cases.items():
            measured[name] = best_rate(call)
            print(f"[{NAME}] round {number}: {name:15} {measured[name]['per_s']:>10,.0f} /s")
        rounds.append(measured)

    rates = {name: median([r[name]["per_s"] for r in rounds]) for name in cases}
    ratios = {
        name: median([ratio(r[name]["per_s"], r["hand-written"]["per_s"]) for r in rounds])
        for name in cases
    }
    baseline, compiled, parsed = rates["hand-written"], rates["compiled"], rates["parse+compiled"]
    targets = [
        {
            "what": "compiled mappings/s of a 5-line Shopify order to a reservation",
            "target": f">= {TARGET:,.0f}",
            "measured": compiled,
            "met": compiled >= TARGET,
        }
    ]
    table = [
        {
            "case": "hand-written Python function (baseline)",
            "measured": f"{baseline:,.0f} /s",
            "ratio": "1.00",
        },
        {
            "case": "compiled mapping `Mapping.apply(order)`",
            "measured": f"{compiled:,.0f} /s",
            "baseline": f"{baseline:,.0f} /s",
            "ratio": f"{ratios['compiled']:.2f}",
            "target": f"{targets[0]['target']} /s",
            "met": "yes" if targets[0]["met"] else f"**no** ({compiled / TARGET:.0%} of target)",
        },
        {
            "case": "orjson parse + compiled mapping `Mapping.apply_json(body)`",
            "measured": f"{parsed:,.0f} /s",
            "baseline": f"{baseline:,.0f} /s",
            "ratio": f"{ratios['parse+compiled']:.2f}",
            "target": "none (reported)",
        },
    ]
    payload = {
        "benchmark": NAME,
        "date": today(),
        "headline": (
            f"Mappings/s of one 5-line Shopify order ({len(raw):,} bytes) to a "
            "reservation.requested message, one thread, in-process; fixed call count per "
            f"repetition, best of {REPEATS}, median of {options.rounds} round(s)."
        ),
        "table": table,
        "machine": machine_info(),
        "background_cpu_percent_before": background,
        "config": {
            "mapping": f"mappings/shopify/orders-create.yaml ({MAPPING})",
            "payload": str(PAYLOAD.relative_to(REPO)),
            "payload_bytes": len(raw),
            "lines": 5,
            "rounds": options.rounds,
            "repeats": REPEATS,
            "min_seconds_per_repeat": MIN_SECONDS,
            "gc": "disabled while timing",
        },
        "results": {
            "median_per_s": rates,
            "median_ratio_to_hand_written": ratios,
            "rounds": rounds,
        },
        "targets": targets,
        "verified": True,
        "verification": (
            "Before timing: the compiled and the hand-written mapping give byte-identical "
            "JSON, and the hub's contract check accepts it as a reservation 1.0 message."
        ),
        "notes": [],
    }
    write_result(NAME, payload)
    return payload
