"""What one hub process holds while it runs, and how it is assembled."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from hub.clients.ratelimits import ClientRateLimits
from hub.clients.service import KeyVerifier
from hub.connections.registry import ConnectorRegistry
from hub.connections.secrets import SecretBox, secrets_key
from hub.connections.service import ConnectionService
from hub.connections.state import DatabaseState
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.deadletters.service import DeadLetterService, replay_chunk
from hub.deliveries.policy import DeliveryPolicy, RetryPolicy
from hub.deliveries.store import Outbox, backfill_chunk
from hub.deliveries.worker import DeliveryWorker
from hub.governance.policies import load_hub_policy
from hub.inbound.polling import Poller
from hub.inbound.service import InboundPipeline
from hub.jobs.service import JobRunner
from hub.mappings import MappingRegistry
from hub.messages.service import Ingestor
from hub.messages.store import MessageStore
from hub.metrics import HubMetrics
from hub.routes.service import RouteService
from hub.routes.versions import VersionConverter
from hub.settings import Settings
from hub.store.committer import GroupCommitter
from hub.store.database import create_hub_engine, make_sessionmaker, transaction
from hub.store.migrate import upgrade
from hub.usage.service import UsageRecorder


@dataclass
class HubState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    registry: ContractRegistry
    checker: MessageChecker
    committer: GroupCommitter
    ingestor: Ingestor
    outbox: Outbox
    keys: KeyVerifier
    delivery_policy: DeliveryPolicy
    connectors: ConnectorRegistry
    connections: ConnectionService
    routes: RouteService
    metrics: HubMetrics
    worker: DeliveryWorker
    deadletters: DeadLetterService
    jobs: JobRunner
    mappings: MappingRegistry
    inbound: InboundPipeline
    poller: Poller
    usage: UsageRecorder


def build_state(settings: Settings) -> HubState:
    """Everything a hub process needs, on a migrated database. Nothing is started yet."""
    engine = create_hub_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    read_sessions = make_sessionmaker(engine, read_only=True)
    registry = ContractRegistry.load(settings.contracts_path, settings.governance_path)
    policy = DeliveryPolicy.load(settings.governance_path)
    committer = GroupCommitter(sessions)
    outbox = Outbox()
    with transaction(sessions) as session:
        box = SecretBox(secrets_key(session, settings.secrets_key))
    connectors = ConnectorRegistry.discover()
    mappings = MappingRegistry.load(settings.mappings_path)
    connections = ConnectionService(connectors, box, policy.breaker_defaults, mappings)
    connections.state_of = partial(DatabaseState, committer=committer, read_sessions=read_sessions)
    connections.outbound = load_hub_policy(settings.governance_path).outbound.allowing(
        settings.outbound_allowed_networks
    )
    metrics = HubMetrics(read_sessions)
    checker = MessageChecker(registry)
    usage = UsageRecorder(registry, settings.usage_flush_seconds)
    versions = VersionConverter(registry, mappings, checker)
    worker = DeliveryWorker(
        committer=committer,
        read_sessions=read_sessions,
        connections=connections,
        mappings=mappings,
        versions=versions,
        policy=policy,
        metrics=metrics,
        concurrency=settings.worker_concurrency,
        lease_seconds=settings.lease_seconds,
        listen_url=_listen_url(engine),
        usage=usage,
    )
    outbox.wake.append(worker.wake_from_any_thread())
    store = MessageStore(outbox)
    inbound = InboundPipeline(
        checker=checker,
        mappings=mappings,
        connections=connections,
        committer=committer,
        store=store,
        usage=usage,
    )
    job_runner = JobRunner(
        committer,
        {"replay": partial(replay_chunk, inbound=inbound), "backfill": backfill_chunk},
        owner=worker.name,
        wake=[worker.wake_from_any_thread()],
    )
    return HubState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        registry=registry,
        checker=checker,
        committer=committer,
        ingestor=Ingestor(checker, committer, store),
        outbox=outbox,
        keys=KeyVerifier(
            sessions,
            read_sessions,
            settings.auth_cache_seconds,
            rate_limits=ClientRateLimits(settings.rate_limit),
        ),
        delivery_policy=policy,
        connectors=connectors,
        connections=connections,
        routes=RouteService(RetryPolicy.from_defaults(policy.retry_defaults), mappings, versions),
        metrics=metrics,
        worker=worker,
        deadletters=DeadLetterService(checker, inbound),
        jobs=job_runner,
        mappings=mappings,
        inbound=inbound,
        poller=Poller(
            pipeline=inbound,
            committer=committer,
            read_sessions=read_sessions,
            owner=worker.name,
            sync_seconds=settings.poll_sync_seconds,
        ),
        usage=usage,
    )


def _listen_url(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def hub_state(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state
