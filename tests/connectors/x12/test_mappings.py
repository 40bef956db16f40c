"""The shipped x12 mappings: their vectors pass, and every sample file becomes a valid message."""

from __future__ import annotations

import orjson
import pytest

from connectors.x12 import X12Connector
from connectors.x12.sets import PAYLOADS
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.mappings import MappingRegistry, run_tests
from tests.conftest import REPO
from tests.connectors.x12.sample_files import SENDERS, read_sample

MAPPINGS = MappingRegistry.load(REPO / "mappings" / "x12")
CHECKER = MessageChecker(ContractRegistry.load(REPO / "contracts", REPO / "governance"))


def test_every_vector_of_every_x12_mapping_passes() -> None:
    results = run_tests(MAPPINGS)
    assert len(results) >= 28
    assert [r for r in results if not r.passed] == []


def test_the_manifest_names_a_shipped_mapping_for_every_record_kind() -> None:
    for kind, name in X12Connector.manifest.mappings.items():
        mapping = MAPPINGS.get(name)
        assert mapping.source == {"connector": "x12", "kind": kind}


@pytest.mark.parametrize("sample", sorted(n for n in SENDERS if not n.startswith("997")))
def test_every_sample_becomes_a_valid_canonical_message(sample: str) -> None:
    records = read_sample(sample).records
    assert records
    for record in records:
        name = X12Connector.manifest.mappings[record.kind]
        event = MAPPINGS.get(name).apply(record.data)
        # What the hub adds: the receiving connection is the source.
        result = CHECKER.check({"source": "/connections/partner", **event})
        assert result.ok, (sample, result.violations)
        assert event["id"] == f"{record.kind}:{record.id}"  # the id the hub would give it


@pytest.mark.parametrize(
    ("mapping", "example", "set_id"),
    [
        (
            "x12-850-from-po-release-released",
            "po_release/examples/1.0/valid/01-released-four-lines.json",
            "850",
        ),
        (
            "x12-850-from-po-release-released",
            "po_release/examples/1.0/valid/04-cancelled-eu-food-po.json",
            "850",
        ),
        (
            "x12-943-from-transfer-requested",
            "transfer/examples/1.0/valid/01-requested-dc-rebalance.json",
            "943",
        ),
        (
            "x12-943-from-transfer-requested",
            "transfer/examples/1.0/valid/05-cancelled-before-shipping.json",
            "943",
        ),
        (
            "x12-940-from-reservation-released",
            "reservation/examples/1.0/valid/03-released-to-picking.json",
            "940",
        ),
        (
            "x12-940-from-reservation-released",
            "reservation/examples/1.0/valid/01-requested-webshop-order.json",
            "940",
        ),
    ],
)
def test_outbound_mappings_make_valid_payloads_of_the_contract_examples(
    mapping: str, example: str, set_id: str
) -> None:
    event = orjson.loads((REPO / "contracts" / example).read_bytes())["event"]
    payload = PAYLOADS.validate_python(MAPPINGS.get(mapping).apply(event))
    assert payload.transaction_set == set_id


def test_every_file_in_mappings_x12_is_a_mapping_a_table_or_a_vector_in_use() -> None:
    used = MAPPINGS.files
    folder = REPO / "mappings" / "x12"
    unused = [p for p in folder.rglob("*") if p.is_file() and p.resolve() not in used]
    assert unused == []
