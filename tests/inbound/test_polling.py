"""Polling: the lease that keeps a connection to one poller, across processes."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from crossdock_acme_wms.testing import FakeAcmeWms, sample_receipt
from sqlalchemy import update

from connectors.sdk.testing import PeerRequest, PeerResponse
from hub.connections.models import Connection
from hub.inbound.polling import _Claim, _Release, claim_polls, release_polls
from hub.store.database import create_hub_engine, make_sessionmaker, transaction
from hub.timestamps import utcnow
from tests.conftest import ADMIN_KEY, hub_settings
from tests.inbound.test_external_connector import RECEIPT_MAPPING, create_acme, wait_for
from tests.servers import HubServer


def test_the_poll_lease_admits_one_owner_until_released_or_expired(
    database_url: str, tmp_path: Path
) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "acme-receipt.yaml").write_text(RECEIPT_MAPPING)
    settings = hub_settings(database_url)
    settings.mappings_path = mappings
    settings.worker_enabled = False  # no scheduler: this test drives the lease by hand
    wms = FakeAcmeWms()
    with wms.peer, HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        connection_id = create_acme(client, wms, poll_interval_seconds=60)["id"]
    engine = create_hub_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:

        def claim(owner: str, *, force: bool = False, lease: float = 30) -> bool:
            with transaction(sessions) as session:
                [taken] = claim_polls(session, [_Claim(connection_id, owner, lease, force)])
                return taken

        def release(owner: str, error: str | None = None) -> bool:
            with transaction(sessions) as session:
                [done] = release_polls(session, [_Release(connection_id, owner, error)])
                return done

        assert claim("a") is True
        assert claim("b") is False, "a held lease was taken"
        assert claim("b", force=True) is False, "force must not break a lease"
        assert release("b") is False, "only the owner releases"
        assert release("a", error="boom") is True
        # Released: the next poll is an interval away, so nobody claims it early...
        assert claim("b") is False
        assert claim("b", force=True) is True  # ...except on request
        # A crashed owner's lease expires and another process takes over.
        with transaction(sessions) as session:
            session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(poll_lease_until=utcnow() - timedelta(seconds=1))
            )
        assert claim("c", force=True) is True
        with sessions() as session:
            row = session.get(Connection, connection_id)
            assert row is not None
            assert row.poll_lease_owner == "c"
            assert row.last_poll_error == "boom"
    finally:
        engine.dispose()


def test_two_hubs_on_one_database_never_poll_a_connection_at_once(
    postgres_database_url: str, tmp_path: Path
) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "acme-receipt.yaml").write_text(
        RECEIPT_MAPPING.replace("path: QUANTITY", "path: qty")
    )
    in_flight = 0
    most = 0
    lock = threading.Lock()
    wms = FakeAcmeWms()
    plain = wms._handle

    def slow_events(request: PeerRequest) -> PeerResponse:
        nonlocal in_flight, most
        if request.path != "/api/v1/events":
            return plain(request)
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.15)  # long enough for a second poller to collide, if it could
            return plain(request)
        finally:
            with lock:
                in_flight -= 1

    wms.peer.handler = slow_events
    for n in range(7):
        wms.add_receipt(sample_receipt(9007199254741000 + n))

    def settings() -> Any:
        s = hub_settings(postgres_database_url)
        s.mappings_path = mappings
        s.poll_sync_seconds = 0.1
        return s

    with wms.peer, HubServer(settings()) as first, HubServer(settings()) as second:
        with first.client(ADMIN_KEY) as client:
            create_acme(client, wms, poll_interval_seconds=1)

            def all_polled() -> bool:
                page = client.get("/v1/messages", params={"source": "/connections/acme"})
                return len(page.json()["items"]) == 7

            wait_for(all_polled)
            time.sleep(2.5)  # a few more scheduled runs in both processes
            polling = client.get("/v1/connections/acme").json()["polling"]
        requests = [r for r in wms.peer.requests if r.path == "/api/v1/events"]
        pollers = (first.state.poller, second.state.poller)
        # Both processes ran the schedule; the lease and next_poll_at turned runs away.
        assert all(p.runs_claimed + p.runs_skipped > 0 for p in pollers)
        assert sum(p.runs_skipped for p in pollers) > 0
    assert most == 1, "two processes polled the same connection at once"
    assert polling["cursor"] == "7"
    afters = [int(r.query["after"]) for r in requests]
    assert afters == sorted(afters), "a poll started from an older cursor"
