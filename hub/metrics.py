"""Prometheus metrics of one hub process, exposed at ``/metrics``.

Counters and histograms are updated as work happens; queue depth, dead letters and breaker
states are read from the database when scraped, so every process reports the shared truth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hub.connections.models import Connection
from hub.deadletters.models import DeadLetter
from hub.deliveries.models import Delivery
from hub.routes.models import Route

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
BREAKER_STATES = ("closed", "open", "half_open")


class DatabaseCollector(Collector):
    def __init__(self, read_sessions: sessionmaker[Session]) -> None:
        self._sessions = read_sessions

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "crossdock_deliveries", "Deliveries by route and status.", labels=["route", "status"]
        )
        dead = GaugeMetricFamily(
            "crossdock_dead_letters_open", "Open dead letters by direction.", labels=["direction"]
        )
        breaker = GaugeMetricFamily(
            "crossdock_breaker_state",
            "1 for the current breaker state of each connection.",
            labels=["connection", "state"],
        )
        try:
            with self._sessions() as session:
                for route, status, count in session.execute(
                    select(Route.name, Delivery.status, func.count())
                    .join(Route, Route.id == Delivery.route_id)
                    .group_by(Route.name, Delivery.status)
                ):
                    depth.add_metric([route, status], count)
                for direction, count in session.execute(
                    select(DeadLetter.direction, func.count())
                    .where(DeadLetter.status == "open")
                    .group_by(DeadLetter.direction)
                ):
                    dead.add_metric([direction], count)
                for name, state in session.execute(
                    select(Connection.name, Connection.breaker_state)
                ):
                    for candidate in BREAKER_STATES:
                        breaker.add_metric([name, candidate], 1.0 if candidate == state else 0.0)
        except SQLAlchemyError:
            logger.warning("metrics: the database did not answer")
        yield depth
        yield dead
        yield breaker


class HubMetrics:
    def __init__(self, read_sessions: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self.delivery_latency = Histogram(
            "crossdock_delivery_latency_seconds",
            "From acceptance of a message to its successful delivery, per route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.attempts = Counter(
            "crossdock_delivery_attempts",
            "Delivery attempts by connection, outcome and classification.",
            ["connection", "outcome", "classification"],
            registry=self.registry,
        )
        self.messages_accepted = Counter(
            "crossdock_messages_accepted",
            "Messages accepted by this process.",
            registry=self.registry,
        )
        self.registry.register(DatabaseCollector(read_sessions))
