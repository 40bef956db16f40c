"""governance/delivery.yaml: its schema, the classification table and the retry policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sdk import OutcomeKind, SendOutcome
from connectors.sdk.outbound import parse_retry_after
from hub.deliveries.policy import DeliveryPolicy, OutcomeClass, RetryPolicy
from hub.governance.policies import PolicyError
from tests.conftest import REPO

POLICY = DeliveryPolicy.load(REPO / "governance")


@pytest.mark.parametrize(
    ("outcome", "expected", "honour"),
    [
        (SendOutcome.ok(200), OutcomeClass.SUCCESS, False),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=503), OutcomeClass.TRANSIENT, True),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=500), OutcomeClass.TRANSIENT, True),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=429), OutcomeClass.TRANSIENT, True),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=408), OutcomeClass.TRANSIENT, False),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=400), OutcomeClass.PERMANENT, False),
        (SendOutcome(OutcomeKind.HTTP_ERROR, status_code=404), OutcomeClass.PERMANENT, False),
        (SendOutcome(OutcomeKind.CONNECTION_ERROR), OutcomeClass.TRANSIENT, False),
        (SendOutcome(OutcomeKind.TIMEOUT), OutcomeClass.TRANSIENT, False),
        (SendOutcome(OutcomeKind.MAPPING_ERROR), OutcomeClass.PERMANENT, False),
        (SendOutcome(OutcomeKind.REJECTED), OutcomeClass.PERMANENT, False),
        (SendOutcome.conflict("stale", retry_after=1), OutcomeClass.TRANSIENT, True),
    ],
)
def test_the_table_classifies_outcomes(
    outcome: SendOutcome, expected: OutcomeClass, honour: bool
) -> None:
    assert POLICY.classify(outcome) == (expected, honour)


def test_a_broken_policy_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "delivery.yaml").write_text("classification: []\n")
    with pytest.raises(PolicyError):
        DeliveryPolicy.load(tmp_path)


def test_backoff_grows_exponentially_within_its_bounds() -> None:
    policy = RetryPolicy(initial_delay=1, multiplier=2, max_delay=60, jitter=0)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    jittered = RetryPolicy(initial_delay=1, multiplier=2, max_delay=60, jitter=0.5)
    samples = [jittered.delay(3) for _ in range(50)]
    assert all(4 <= s <= 4.5 for s in samples)
    assert len(set(samples)) > 1


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 24 Nov 2026 12:00:30 GMT", now) == 30.0
