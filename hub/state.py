"""What one hub process holds while it runs: engine, registry, committer, key verifier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from hub.clients.service import KeyVerifier
from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry
from hub.settings import Settings
from hub.store.committer import GroupCommitter


@dataclass
class HubState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    registry: ContractRegistry
    checker: MessageChecker
    committer: GroupCommitter
    keys: KeyVerifier


def hub_state(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state
