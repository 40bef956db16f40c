"""Delivery policy as data: the outcome classification table, retry and breaker defaults.

Loaded from ``governance/delivery.yaml``. :class:`RetryPolicy` is the one retry policy of
the hub: durable retries store its next delay in ``deliveries.next_attempt_at``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import RetryCallState, wait_exponential, wait_random

from connectors.sdk import OutcomeKind, SendOutcome
from hub.governance.policies import PolicyError


class OutcomeClass(StrEnum):
    SUCCESS = "success"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class ClassificationRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    outcome: OutcomeKind | Literal["*"]
    status: int | Literal["1xx", "2xx", "3xx", "4xx", "5xx"] | None = None
    class_: OutcomeClass = Field(alias="class")
    honour_retry_after: bool = False

    def matches(self, outcome: SendOutcome) -> bool:
        if self.outcome != "*" and self.outcome != outcome.kind:
            return False
        if self.status is None:
            return True
        if outcome.status_code is None:
            return False
        if isinstance(self.status, int):
            return outcome.status_code == self.status
        return str(outcome.status_code)[0] == self.status[0]


class RetryDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(ge=1, le=1000)
    initial_delay_seconds: float = Field(ge=0)
    multiplier: float = Field(ge=1)
    max_delay_seconds: float = Field(ge=0)
    jitter_seconds: float = Field(ge=0)
    max_age_seconds: float = Field(gt=0)


class BreakerDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: int = Field(ge=1)
    cooldown_seconds: float = Field(gt=0)


class DeliveryPolicy(BaseModel):
    """The schema of ``governance/delivery.yaml``."""

    model_config = ConfigDict(extra="forbid")

    classification: list[ClassificationRule] = Field(min_length=1)
    retry_defaults: RetryDefaults
    breaker_defaults: BreakerDefaults

    def classify(self, outcome: SendOutcome) -> tuple[OutcomeClass, bool]:
        """The class of an outcome, and whether to honour its Retry-After."""
        for rule in self.classification:
            if rule.matches(outcome):
                return rule.class_, rule.honour_retry_after
        return OutcomeClass.TRANSIENT, False

    @classmethod
    def load(cls, governance_path: Path) -> DeliveryPolicy:
        path = governance_path / "delivery.yaml"
        try:
            return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise PolicyError(f"{path}: {exc}") from exc


class RetryPolicy(BaseModel):
    """When to try again: exponential backoff with jitter, bounded in attempts and age."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=10, ge=1, le=1000)
    initial_delay: float = Field(default=1.0, ge=0, description="Seconds before the 2nd attempt.")
    multiplier: float = Field(default=2.0, ge=1)
    max_delay: float = Field(default=300.0, ge=0)
    jitter: float = Field(default=1.0, ge=0, description="Up to this many random seconds added.")
    max_age: float = Field(
        default=86400.0, gt=0, description="Seconds after acceptance to give up."
    )

    @classmethod
    def from_defaults(cls, defaults: RetryDefaults) -> RetryPolicy:
        return cls(
            max_attempts=defaults.max_attempts,
            initial_delay=defaults.initial_delay_seconds,
            multiplier=defaults.multiplier,
            max_delay=defaults.max_delay_seconds,
            jitter=defaults.jitter_seconds,
            max_age=defaults.max_age_seconds,
        )

    def delay(self, attempts_made: int) -> float:
        """Seconds to wait after the ``attempts_made``-th failed attempt (tenacity's strategies)."""
        wait = wait_exponential(
            multiplier=self.initial_delay, exp_base=self.multiplier, max=self.max_delay
        ) + wait_random(0, self.jitter)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, attempts_made)
        return float(wait(state))
