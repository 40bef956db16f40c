"""What the delivery engine must hold, with the hub as real processes and a real HTTP sink.

Each test drives ``crossdock serve`` (and ``crossdock worker``) as child processes over
HTTP on loopback, delivering to a :class:`~tests.sinks.Sink`, and ends by reconciling the
``deliveries`` table: for every route, the deliveries created are exactly the expected
messages, each in a final or waiting state (delivered + dead + discarded + pending +
in flight), and every one of them delivered.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from hub.store.database import READ_ONLY_OPTION, create_hub_engine
from tests.conftest import ADMIN_KEY, LOOPBACK_ENV, POSTGRES_URL, REPO
from tests.deliveries.test_dead_letters import refuses_bad_lines, wait_until
from tests.deliveries.test_delivery_api import make_route, post_event
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubProcess
from tests.sinks import Sink

pytestmark = pytest.mark.slow

STATUSES = ("delivered", "dead", "discarded", "pending", "in_flight")


# --- processes --------------------------------------------------------------------------


def hub_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CROSSDOCK_DATABASE_URL": database_url,
        "CROSSDOCK_CONTRACTS_PATH": str(REPO / "contracts"),
        "CROSSDOCK_GOVERNANCE_PATH": str(REPO / "governance"),
        "CROSSDOCK_MAPPINGS_PATH": str(REPO / "mappings"),
        "CROSSDOCK_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        # A killed worker's claims come back after 2 s.
        "CROSSDOCK_LEASE_SECONDS": "2",
        "CROSSDOCK_LOG_LEVEL": "warning",
        # At most 8 sends at once per process: the Sink (socketserver, listen backlog 5)
        # resets connections in bigger bursts, and the hub does not yet hold a connection's
        # own `concurrency` (see test_a_connection_never_has_more_in_flight_than_its_concurrency).
        "CROSSDOCK_WORKER_CONCURRENCY": "8",
        **LOOPBACK_ENV,
        **extra,
    }


class WorkerProcess:
    """``crossdock worker`` (delivery workers, no API) as a real child process."""

    def __init__(self, env: dict[str, str], cwd: Path, name: str) -> None:
        self.env = {**os.environ, **env}
        self.log_path = cwd / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> WorkerProcess:
        executable = Path(sys.executable).with_name("crossdock")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(executable), "worker"],
                cwd=self.log_path.parent,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while "Crossdock worker" not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def processes() -> Iterator[list[HubProcess | WorkerProcess]]:
    started: list[HubProcess | WorkerProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A read-only engine on the test's database (whichever URL fixture the test uses)."""
    names = ("postgres_database_url", "database_url")
    url: str = next(request.getfixturevalue(n) for n in names if n in request.fixturenames)
    engine = create_hub_engine(url).execution_options(**{READ_ONLY_OPTION: True})
    yield engine
    engine.dispose()


def api(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    )


# --- messages, arrivals and the reconciliation ------------------------------------------

FAST_RETRY = {
    "max_attempts": 50,
    "initial_delay": 0.05,
    "multiplier": 2.0,
    "max_delay": 0.3,
    "jitter": 0,
    "max_age": 600,
}


def keyed_event(event_id: str, subject: str) -> dict[str, Any]:
    event = a_valid_event("reservation", event_id)
    event["subject"] = subject  # the route's default ordering key
    return event


def post_interleaved(
    client: httpx.Client, prefix: str, keys: int, per_key: int
) -> dict[str, list[str]]:
    """Post ``keys`` x ``per_key`` messages, key after key; message keys per subject, in order."""
    accepted: dict[str, list[str]] = {}
    for n in range(per_key):
        for k in range(keys):
            subject = f"{prefix.upper()}-DOC-{k:03d}"
            key = post_event(client, keyed_event(f"{prefix}-{k}-{n}", subject))
            accepted.setdefault(subject, []).append(key)
    return accepted


def wait_for_keys(sink: Sink, keys: set[str], timeout: float, what: str) -> None:
    """Until every message key has had a 2xx answer from the sink."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if keys <= arrived_keys(sink):
            return
        time.sleep(0.05)
    missing = keys - arrived_keys(sink)
    raise AssertionError(f"{what}: {len(missing)} of {len(keys)} messages never arrived")


def arrived_keys(sink: Sink) -> set[str]:
    return {r.headers["crossdock-message-key"] for r in sink.delivered()}


def first_arrivals_by_subject(sink: Sink) -> dict[str, list[str]]:
    """Per subject, message keys in the order of their first successful arrival."""
    seen: set[str] = set()
    order: dict[str, list[str]] = {}
    for received in sink.delivered():
        key = received.headers["crossdock-message-key"]
        if key not in seen:
            seen.add(key)
            order.setdefault(received.body["subject"], []).append(key)
    return order


def wait_settled(db: Engine, timeout: float) -> None:
    """Until no delivery is pending or in flight: a killed worker may have sent a delivery
    (the sink has its key) without recording it; it stays in flight until its lease
    expires and another worker sends it again."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            open_count = conn.execute(
                text("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'in_flight')")
            ).scalar_one()
        if open_count == 0:
            return
        assert time.monotonic() < deadline, f"{open_count} deliveries still open"
        time.sleep(0.1)


def reconcile(db: Engine, expected: dict[str, int], messages: int) -> None:
    """Per route: created = delivered + dead + discarded + pending + in_flight = expected,
    every one delivered, one delivery per message; and the messages table holds them all."""
    with db.connect() as conn:
        counts = conn.execute(
            text("SELECT route_id, status, count(*) FROM deliveries GROUP BY route_id, status")
        ).all()
        duplicates = conn.execute(
            text(
                "SELECT route_id, message_key FROM deliveries "
                "GROUP BY route_id, message_key HAVING count(*) > 1"
            )
        ).all()
        stored = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
    by_route: dict[str, Counter[str]] = {}
    for route_id, status, count in counts:
        by_route.setdefault(route_id, Counter())[status] = count
    assert set(by_route) == set(expected), (by_route, expected)
    for route_id, statuses in by_route.items():
        created = sum(statuses.values())
        assert set(statuses) <= set(STATUSES), (route_id, statuses)
        assert created == sum(statuses[s] for s in STATUSES) == expected[route_id], (
            route_id,
            statuses,
        )
        assert statuses["delivered"] == expected[route_id], (route_id, dict(statuses))
    assert duplicates == [], f"more than one delivery for a message on a route: {duplicates}"
    assert stored == messages


def attempts_of(db: Engine, route_id: str) -> dict[str, int]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT message_key, attempts FROM deliveries WHERE route_id = :r"),
            {"r": route_id},
        ).all()
    return {key: attempts for key, attempts in rows}


# --- 1. kill -9 mid-delivery ------------------------------------------------------------


class HoldAfter:
    """Answers 200 until ``count`` requests have completed; later ones hang until released
    (and then answer 503, to a hub that is gone by then); after the release, 200 again."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.held: list[str] = []  # event ids of the requests hanging in the sink

    def __call__(self, number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        if number < self.count or self.released.is_set():
            return 200, {}
        with self.lock:
            self.held.append(body["id"])
        self.released.wait(30)
        return 503, {}


def test_kill_9_mid_delivery_then_restart_delivers_every_message_once_after_dedupe(
    database_url: str, db: Engine, tmp_path: Path, processes: list[HubProcess | WorkerProcess]
) -> None:
    keys_count, per_key, hold_after = 20, 10, 60
    hold = HoldAfter(hold_after)
    hub = HubProcess(hub_env(database_url), str(tmp_path))
    processes.append(hub.start())
    with Sink(behaviour=hold, delay=0.01) as sink, api(hub.base_url) as client:
        route = make_route(client, sink, name="crash", paused=True, retry=FAST_RETRY)
        accepted = post_interleaved(client, "k9", keys_count, per_key)
        all_keys = {key for keys in accepted.values() for key in keys}
        assert len(all_keys) == keys_count * per_key
        assert client.post("/v1/routes/crash/resume").status_code == 200

        wait_until(lambda: hold.held, timeout=30)
        time.sleep(0.5)  # everything the hub has in flight now hangs in the sink
        before_kill = arrived_keys(sink)
        with hold.lock:
            held_ids = set(hold.held)
        hub.kill()

        # Some but not all arrived; what hung in the sink is still claimed by the dead process.
        assert hold_after <= len(before_kill) < len(all_keys)
        with db.connect() as conn:
            in_flight: dict[str, str] = dict(
                conn.execute(
                    text(
                        "SELECT m.event_id, d.message_key FROM deliveries d "
                        "JOIN messages m ON m.key = d.message_key WHERE d.status = 'in_flight'"
                    )
                ).all()
            )
        assert held_ids and held_ids <= set(in_flight), (held_ids, in_flight)
        hold.released.set()

        restarted = HubProcess(hub.env, str(tmp_path))
        processes.append(restarted.start())
        wait_for_keys(sink, all_keys, timeout=40, what="after the restart")

        # At least once, and exactly once after dedupe by message key.
        delivered = sink.delivered()
        assert arrived_keys(sink) == all_keys
        counts = Counter(r.headers["crossdock-message-key"] for r in delivered)
        twice = {key for key, n in counts.items() if n > 1}
        assert twice <= set(in_flight.values()), "a delivery recorded as delivered was sent again"
        # The claims lost with the process were taken over once their lease ran out.
        for event_id in held_ids:
            retried = [r for r in delivered if r.body["id"] == event_id]
            assert [r.headers["crossdock-attempt"] for r in retried] == ["2"], event_id
        assert sink.max_in_flight_per_delivery == 1
        assert sink.bad_signatures == 0
        assert first_arrivals_by_subject(sink) == accepted
        # Only what the dead process held needed a second attempt.
        retried_keys = {k for k, n in attempts_of(db, route["id"]).items() if n > 1}
        assert {in_flight[e] for e in held_ids} <= retried_keys <= set(in_flight.values())
    reconcile(db, {route["id"]: len(all_keys)}, messages=len(all_keys))


# --- 2. two worker processes on one PostgreSQL database ---------------------------------


@pytest.mark.skipif(not POSTGRES_URL, reason="CROSSDOCK_TEST_POSTGRES_URL is not set")
def test_two_worker_processes_share_the_work_and_never_send_a_delivery_twice_at_once(
    postgres_database_url: str,
    db: Engine,
    tmp_path: Path,
    processes: list[HubProcess | WorkerProcess],
) -> None:
    env = hub_env(postgres_database_url)
    api_only = HubProcess({**env, "CROSSDOCK_WORKER_ENABLED": "false"}, str(tmp_path))
    processes.append(api_only.start())  # migrates the database before the workers start
    workers = [
        WorkerProcess({**env, "CROSSDOCK_WORKER_CONCURRENCY": "4"}, tmp_path, f"worker-{i}")
        for i in range(2)
    ]
    for worker in workers:
        processes.append(worker.start())

    keys_count, per_key = 40, 5
    owners: set[int] = set()  # pids of the processes seen holding a lease

    def watch_leases() -> None:
        with db.connect() as conn:
            for (owner,) in conn.execute(
                text("SELECT DISTINCT lease_owner FROM deliveries WHERE status = 'in_flight'")
            ):
                if owner:
                    owners.add(int(owner.split(":")[1]))

    with Sink(delay=0.03) as sink, api(api_only.base_url) as client:
        route = make_route(client, sink, name="shared", retry=FAST_RETRY)
        assert client.patch("/v1/connections/shared-conn", json={"concurrency": 16}).is_success
        accepted = post_interleaved(client, "two", keys_count, per_key)
        all_keys = {key for keys in accepted.values() for key in keys}

        # Both workers hold leases while the work drains; then one of them dies.
        deadline = time.monotonic() + 30
        while len(arrived_keys(sink)) < len(all_keys) // 2 or len(owners) < 2:
            assert time.monotonic() < deadline, (len(arrived_keys(sink)), owners)
            watch_leases()
            time.sleep(0.02)
        assert owners == {w.pid for w in workers}
        workers[0].kill()
        wait_for_keys(sink, all_keys, timeout=40, what="with one worker left")

        wait_settled(db, timeout=20)
        assert sink.max_in_flight_per_delivery == 1
        assert sink.bad_signatures == 0
        assert first_arrivals_by_subject(sink) == accepted
    reconcile(db, {route["id"]: len(all_keys)}, messages=len(all_keys))


# --- 3. an outage: backoff, breaker, nothing lost ---------------------------------------


class Outage:
    """503 for ``seconds`` from the first request, then 200."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: float | None = None
        self.lock = threading.Lock()

    def __call__(self, number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        with self.lock:
            if self.started is None:
                self.started = time.monotonic()
            down = time.monotonic() < self.started + self.seconds
        return (503, {}) if down else (200, {})


def test_an_outage_backs_off_opens_the_breaker_and_loses_nothing(
    database_url: str, db: Engine, tmp_path: Path, processes: list[HubProcess | WorkerProcess]
) -> None:
    retry = {**FAST_RETRY, "initial_delay": 0.2, "max_delay": 1.0}  # 0.2, 0.4, 0.8, 1, 1, …
    hub = HubProcess(hub_env(database_url), str(tmp_path))
    processes.append(hub.start())
    breaker_states: set[str] = set()
    metric_states: set[str] = set()
    breaker_metric = re.compile(
        r'crossdock_breaker_state\{connection="outage-conn",state="(\w+)"\} 1\.0'
    )

    def watch_breaker(client: httpx.Client) -> str:
        state: str = client.get("/v1/connections/outage-conn").json()["breaker"]["state"]
        breaker_states.add(state)
        metric_states.update(breaker_metric.findall(client.get("/metrics").text))
        return state

    with Sink(behaviour=Outage(2.5)) as sink, api(hub.base_url) as client:
        route = make_route(
            client,
            sink,
            name="outage",
            retry=retry,
            breaker_threshold=3,
            breaker_cooldown_seconds=0.5,
        )
        accepted = post_interleaved(client, "out", keys=4, per_key=5)
        all_keys = {key for keys in accepted.values() for key in keys}
        deadline = time.monotonic() + 40
        while not all_keys <= arrived_keys(sink):
            assert time.monotonic() < deadline, f"{len(arrived_keys(sink))} arrived"
            watch_breaker(client)
            time.sleep(0.05)
        assert "open" in breaker_states, breaker_states
        assert "open" in metric_states, metric_states
        # Recovered: the probe that succeeded closed the breaker again.
        wait_until(lambda: watch_breaker(client) == "closed")
        assert breaker_metric.findall(client.get("/metrics").text) == ["closed"]

        assert [r.status for r in sink.received].count(503) >= 3
        assert first_arrivals_by_subject(sink) == accepted
        assert sink.max_in_flight_per_delivery == 1
        assert client.get("/v1/deadletters").json()["items"] == []

        # Every retry waited at least its backoff: the attempts grow apart.
        retried = 0
        for key in all_keys:
            [delivery] = client.get(f"/v1/messages/{key}/deliveries").json()["items"]
            history = delivery["history"]
            assert [h["number"] for h in history] == list(range(1, len(history) + 1))
            assert [h["classification"] for h in history] == (
                ["transient"] * (len(history) - 1) + ["success"]
            )
            assert all(h["status_code"] == 503 for h in history[:-1])
            for made, (before, after) in enumerate(itertools.pairwise(history), 1):
                gap = (stamp(after["started_at"]) - stamp(before["finished_at"])).total_seconds()
                backoff = min(0.2 * 2 ** (made - 1), 1.0)
                assert gap >= backoff - 0.005, (key, made, gap, backoff)
            retried = max(retried, len(history))
        assert retried >= 3, "no delivery was retried twice: the outage was too short to test"
    reconcile(db, {route["id"]: len(all_keys)}, messages=len(all_keys))


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- 4. a permanent failure: dead letter, edit, replay, audit ---------------------------


def test_a_permanent_failure_is_dead_lettered_edited_and_replayed_in_key_order(
    database_url: str, db: Engine, tmp_path: Path, processes: list[HubProcess | WorkerProcess]
) -> None:
    hub = HubProcess(hub_env(database_url), str(tmp_path))
    processes.append(hub.start())
    too_big = keyed_event("too-big", "RSV-BLOCKED")
    too_big["data"]["lines"][0]["requested_qty"] = 500
    with Sink(behaviour=refuses_bad_lines) as sink, api(hub.base_url) as client:
        route = make_route(client, sink, name="strict", on_dead_letter="block", retry=FAST_RETRY)
        first = post_event(client, too_big)
        [letter] = wait_until(lambda: client.get("/v1/deadletters").json()["items"])
        assert (letter["reason"], letter["attempts"], letter["message_key"]) == (
            "permanent",
            1,
            first,
        )
        assert letter["last_response"]["status"] == 400
        later = post_event(client, keyed_event("after-it", "RSV-BLOCKED"))  # waits behind it
        other = post_event(client, keyed_event("elsewhere", "RSV-OTHER"))  # goes on
        wait_for_keys(sink, {other}, timeout=20, what="the other key")
        time.sleep(1.2)  # a worker idle cycle: the blocked key must still wait
        assert arrived_keys(sink) == {other}
        assert len(sink.received) == 2  # one attempt for the 400, one for the other key

        data = client.get(f"/v1/deadletters/{letter['id']}").json()["event"]["data"]
        fixed = {**data, "lines": [{**line, "requested_qty": 50} for line in data["lines"]]}
        edited = client.patch(f"/v1/deadletters/{letter['id']}", json={"data": fixed})
        assert edited.status_code == 200 and edited.json()["edited"] is True, edited.text
        replayed = client.post(f"/v1/deadletters/{letter['id']}/replay")
        assert replayed.status_code == 200 and replayed.json()["status"] == "replayed"
        wait_for_keys(sink, {first, later, other}, timeout=20, what="after the replay")

        fixed_arrival = next(r for r in sink.delivered() if r.body["id"] == "too-big")
        assert fixed_arrival.body["data"]["lines"][0]["requested_qty"] == 50
        assert first_arrivals_by_subject(sink)["RSV-BLOCKED"] == [first, later]
        audit = client.get("/v1/audit", params={"target_id": letter["id"]}).json()["items"]
        assert [e["action"] for e in audit] == ["deadletter.edit", "deadletter.replay"]
        assert audit[0]["before"]["data"]["lines"][0]["requested_qty"] == 500
        assert audit[0]["after"]["data"]["lines"][0]["requested_qty"] == 50
        assert client.get("/v1/deadletters").json()["items"] == []
        assert sink.bad_signatures == 0
    reconcile(db, {route["id"]: 3}, messages=3)


# --- 5. per-key order under random transient failures -----------------------------------


class Flaky:
    """503 on ~``rate`` of requests, decided per (event id, how many times it came before)
    by a seeded generator: the same failures whatever order the requests arrive in."""

    def __init__(self, seed: int, rate: float) -> None:
        self.seed, self.rate = seed, rate
        self.lock = threading.Lock()
        self.tries: Counter[str] = Counter()

    def fails(self, event_id: str, nth: int) -> bool:
        return random.Random(f"{self.seed}:{event_id}:{nth}").random() < self.rate

    def failures_before_success(self, event_id: str) -> int:
        nth = 0
        while self.fails(event_id, nth):
            nth += 1
        return nth

    def __call__(self, number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        with self.lock:
            nth = self.tries[body["id"]]
            self.tries[body["id"]] += 1
        return (503, {}) if self.fails(body["id"], nth) else (200, {})


def test_random_transient_failures_keep_every_key_in_acceptance_order(
    database_url: str, db: Engine, tmp_path: Path, processes: list[HubProcess | WorkerProcess]
) -> None:
    flaky = Flaky(seed=20260314, rate=0.3)
    hub = HubProcess(hub_env(database_url), str(tmp_path))
    processes.append(hub.start())
    with Sink(behaviour=flaky) as sink, api(hub.base_url) as client:
        route = make_route(
            client,
            sink,
            name="flaky",
            retry=FAST_RETRY,
            breaker_threshold=5,
            breaker_cooldown_seconds=0.2,
        )
        accepted = post_interleaved(client, "ord", keys=10, per_key=10)
        all_keys = {key for keys in accepted.values() for key in keys}
        wait_for_keys(sink, all_keys, timeout=50, what="with random 503s")

        assert first_arrivals_by_subject(sink) == accepted
        assert sink.max_in_flight_per_delivery == 1
        # The seeded failures happened, each cost exactly one attempt, none was lost.
        expected = {
            f"ord-{k}-{n}": flaky.failures_before_success(f"ord-{k}-{n}")
            for k in range(10)
            for n in range(10)
        }
        assert sum(expected.values()) >= 20
        assert Counter(r.body["id"] for r in sink.received if r.status == 503) == Counter(
            {i: n for i, n in expected.items() if n}
        )
        assert sink_successes(sink) == Counter(dict.fromkeys(expected, 1))
        ids = {r.headers["crossdock-message-key"]: r.body["id"] for r in sink.received}
        assert {ids[k]: n - 1 for k, n in attempts_of(db, route["id"]).items()} == expected
    reconcile(db, {route["id"]: len(all_keys)}, messages=len(all_keys))


def sink_successes(sink: Sink) -> Counter[str]:
    return Counter(r.body["id"] for r in sink.delivered())


# --- 6. a connection's own concurrency limit --------------------------------------------


class Concurrency:
    """Answers 200 after ``seconds``, counting how many requests it holds at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __call__(self, number: int, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
        return 200, {}


def test_a_connection_never_has_more_in_flight_than_its_concurrency(
    database_url: str, db: Engine, tmp_path: Path, processes: list[HubProcess | WorkerProcess]
) -> None:
    hub = HubProcess(hub_env(database_url), str(tmp_path))  # 8 worker slots
    processes.append(hub.start())
    counter = Concurrency(0.1)
    with Sink(behaviour=counter) as sink, api(hub.base_url) as client:
        route = make_route(client, sink, name="narrow", paused=True, retry=FAST_RETRY)
        narrowed = client.patch("/v1/connections/narrow-conn", json={"concurrency": 2})
        assert narrowed.json()["concurrency"] == 2
        accepted = post_interleaved(client, "cc", keys=8, per_key=3)
        all_keys = {key for keys in accepted.values() for key in keys}
        assert client.post("/v1/routes/narrow/resume").status_code == 200
        wait_for_keys(sink, all_keys, timeout=30, what="through a narrow connection")
        assert first_arrivals_by_subject(sink) == accepted
        assert counter.most <= 2, f"{counter.most} requests in flight on a connection of 2"
    reconcile(db, {route["id"]: len(all_keys)}, messages=len(all_keys))
