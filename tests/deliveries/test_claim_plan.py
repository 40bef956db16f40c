"""A claim's cost follows the backlog, not the history: the database plans it over open rows.

Each test fills ``deliveries`` with a long delivered history and a few open rows, leaves the
statistics as a fresh burst leaves them (never analysed), runs the real :func:`claim`, and
asks the database, inside the claim's own transaction, how it executes the claim's query.
The last test checks what the claim sees of its own transaction's earlier ORM changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from hub.connections.models import Connection
from hub.deliveries.models import Delivery
from hub.deliveries.store import ClaimRequest, claim
from hub.messages.models import Message
from hub.routes.models import Route
from hub.timestamps import utcnow

HISTORY = 3000
OPEN = 40
KEYS = 20


def _fill(engine: Engine) -> None:
    now = utcnow()
    earlier = now - timedelta(minutes=5)
    with Session(engine) as session, session.begin():
        session.execute(
            insert(Connection),
            [
                {
                    "id": "con_plan",
                    "name": "plan",
                    "connector": "webhook",
                    "config": "{}",
                    "secrets": "{}",
                    "concurrency": 64,
                    "timeout_seconds": 5.0,
                    "breaker_threshold": 5,
                    "breaker_cooldown_seconds": 30.0,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        session.execute(
            insert(Route),
            [
                {
                    "id": "rte_plan",
                    "name": "plan",
                    "connection_id": "con_plan",
                    "types": '["*"]',
                    "ordering_key": "subject",
                    "max_attempts": 5,
                    "initial_delay": 1.0,
                    "multiplier": 2.0,
                    "max_delay": 60.0,
                    "jitter": 0.1,
                    "max_age_seconds": 86400.0,
                    "on_dead_letter": "block",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        session.execute(
            insert(Delivery),
            [
                {
                    "route_id": "rte_plan",
                    "connection_id": "con_plan",
                    "message_key": f"msg_{number:06d}",
                    "ordering_key": f"key-{number % KEYS}",
                    "status": "delivered" if number < HISTORY else "pending",
                    "attempts": 1 if number < HISTORY else 0,
                    "next_attempt_at": earlier,
                    "accepted_at": earlier,
                    "created_at": earlier,
                    "delivered_at": earlier if number < HISTORY else None,
                }
                for number in range(HISTORY + OPEN)
            ],
        )
        # Claims read the message of what they take: the open ones need theirs.
        session.execute(
            insert(Message),
            [
                {
                    "key": f"msg_{number:06d}",
                    "source": "urn:test:plan",
                    "event_id": str(number),
                    "type": "reservation.requested",
                    "family": "reservation",
                    "contract_version": "1.0",
                    "dataschema": "urn:crossdock:contract:reservation:1.0",
                    "event": "{}",
                    "content_hash": "0" * 64,
                    "accepted_at": earlier,
                }
                for number in range(HISTORY, HISTORY + OPEN)
            ],
        )


def _claim_plan(engine: Engine) -> str:
    """Run one claim and return the plan of its candidate query, explained in place."""
    plans: list[str] = []
    postgresql = engine.dialect.name == "postgresql"

    def explain(
        _conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if plans or "NOT (EXISTS" not in statement:
            return
        if postgresql:
            cursor.execute("EXPLAIN " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))

    event.listen(engine, "before_cursor_execute", explain)
    try:
        with Session(engine) as session, session.begin():
            [claimed] = claim(session, [ClaimRequest("worker-plan", 8, 30.0)])
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    # The open rows are claimable: one per key, the oldest of each (per-key order).
    assert len(claimed) == 8
    assert [c.message_key for c in claimed] == [f"msg_{HISTORY + n:06d}" for n in range(8)]
    assert plans, "the claim's candidate query was not seen"
    return plans[0]


def test_a_claim_walks_open_deliveries_in_order_without_sorting(engine: Engine) -> None:
    _fill(engine)
    plan = _claim_plan(engine)
    assert "ix_deliveries_claimable" in plan, plan
    assert "ix_deliveries_open_key_order" in plan, plan
    if engine.dialect.name == "postgresql":
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan


def test_a_breaker_opened_earlier_in_the_transaction_keeps_its_deliveries_unclaimed(
    engine: Engine,
) -> None:
    # The group committer runs several operations in one transaction: a failed attempt may
    # open a connection's breaker through the ORM (not yet flushed) just before a claim.
    _fill(engine)
    with Session(engine) as session, session.begin():
        connection = session.get(Connection, "con_plan")
        assert connection is not None
        connection.breaker_state = "open"
        connection.opened_until = utcnow() + timedelta(minutes=5)
        [claimed] = claim(session, [ClaimRequest("worker-breaker", 8, 30.0)])
    assert claimed == []

    with Session(engine) as session, session.begin():
        [claimed] = claim(session, [ClaimRequest("worker-breaker", 8, 30.0)])
    assert claimed == []  # the breaker was committed open: still nothing to claim
