"""Clients: keys shown once, stored as keyed hashes, scoped, revocable; the CLI around them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from hub.cli import app
from hub.clients.models import Client
from hub.clients.service import ClientService, KeyVerifier
from hub.settings import Settings, get_settings
from hub.store.database import make_sessionmaker, transaction
from tests.servers import HubServer

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CROSSDOCK_CONTRACTS_PATH", str(settings.contracts_path))
    monkeypatch.setenv("CROSSDOCK_GOVERNANCE_PATH", str(settings.governance_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _create(name: str, *scopes: str) -> str:
    args = ["clients", "create", "--name", name]
    for scope in scopes:
        args += ["--scopes", scope]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("cdk_")
    return key


def test_create_prints_the_key_once_and_stores_only_a_hash(cli_env: None, engine: Engine) -> None:
    key = _create("erp-feed", "messages:read,messages:write")
    with engine.connect() as conn:
        row = conn.execute(select(Client).where(Client.name == "erp-feed")).one()
    assert row.key_hash != key and key not in row.key_hash
    assert len(row.key_hash) == 64
    assert row.scopes == "messages:read messages:write"
    listing = runner.invoke(app, ["clients", "list"])
    assert "erp-feed" in listing.output
    assert key not in listing.output


def test_bad_scopes_and_duplicate_names_fail_clearly(cli_env: None) -> None:
    bad = runner.invoke(app, ["clients", "create", "--name", "x", "--scopes", "everything"])
    assert bad.exit_code == 1
    assert "scopes must be" in bad.output
    _create("twice", "ops")
    again = runner.invoke(app, ["clients", "create", "--name", "twice", "--scopes", "ops"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    missing = runner.invoke(app, ["clients", "revoke", "nobody"])
    assert missing.exit_code == 1


def test_a_revoked_key_is_refused(cli_env: None, settings: Settings) -> None:
    settings.auth_cache_seconds = 0.2
    key = _create("short-lived", "messages:read")
    with HubServer(settings) as hub, hub.client(key) as client:
        assert client.get("/v1/messages").status_code == 200
        result = runner.invoke(app, ["clients", "revoke", "short-lived"])
        assert result.exit_code == 0, result.output
        time.sleep(0.3)  # another process revoked it: this one learns within the cache time
        assert client.get("/v1/messages").status_code == 401
    listing = runner.invoke(app, ["clients", "list", "--all"])
    assert "short-lived" in listing.output


def test_the_verifier_caches_verdicts_until_told_to_forget(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        key = ClientService().create(session, name="cached", scopes=["ops"]).key
    verifier = KeyVerifier(sessions, make_sessionmaker(engine, read_only=True), cache_seconds=60)
    principal = verifier.verify(key)
    assert principal is not None and principal.scopes == frozenset({"ops"})
    with transaction(sessions) as session:
        ClientService().revoke(session, "cached")
    assert verifier.verify(key) is not None  # still cached
    verifier.forget()
    assert verifier.verify(key) is None
    assert verifier.verify("cdk_unknown") is None
    assert verifier.verify("not-even-our-format") is None


def test_bootstrap_admin_key_is_idempotent_and_reactivates(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    service = ClientService()
    with transaction(sessions) as session:
        first = service.ensure_bootstrap_admin(session, "cdk_bootstrap-one")
    with transaction(sessions) as session:
        service.revoke(session, first.name)
    with transaction(sessions) as session:
        again = service.ensure_bootstrap_admin(session, "cdk_bootstrap-two")
    assert again.id == first.id
    verifier = KeyVerifier(sessions, make_sessionmaker(engine, read_only=True), cache_seconds=0)
    assert verifier.verify("cdk_bootstrap-one") is None
    assert verifier.verify("cdk_bootstrap-two") is not None


def test_db_upgrade_command(cli_env: None) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output
