"""A route's retry policy, read from its columns."""

from __future__ import annotations

from typing import Protocol

from hub.deliveries.policy import RetryPolicy


class RetryColumns(Protocol):
    """A route, or a result row selecting the route's retry columns."""

    @property
    def max_attempts(self) -> int: ...
    @property
    def initial_delay(self) -> float: ...
    @property
    def multiplier(self) -> float: ...
    @property
    def max_delay(self) -> float: ...
    @property
    def jitter(self) -> float: ...
    @property
    def max_age_seconds(self) -> float: ...


def retry_of(route: RetryColumns) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=route.max_attempts,
        initial_delay=route.initial_delay,
        multiplier=route.multiplier,
        max_delay=route.max_delay,
        jitter=route.jitter,
        max_age=route.max_age_seconds,
    )
