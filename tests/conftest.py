"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when enabled) and a
real hub served over HTTP on loopback.

PostgreSQL runs when ``CROSSDOCK_TEST_POSTGRES_URL`` names a server (``make test`` and
``.ci/run`` set it); every database test then runs on both backends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_network
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub.settings import Settings
from hub.store.database import create_hub_engine, normalise_url
from hub.store.migrate import upgrade
from tests.servers import HubServer

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "cdk_test-admin-key-0123456789abcdefghijklmnopqrstuv"
POSTGRES_URL = os.environ.get("CROSSDOCK_TEST_POSTGRES_URL", "").strip()

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
LOOPBACK_NETWORKS = [ip_network("127.0.0.0/8"), ip_network("::1/128")]
# The same allowance for hub processes the suite starts (serve, worker, CLI commands).
LOOPBACK_ENV = {"CROSSDOCK_OUTBOUND_ALLOWED_NETWORKS": ",".join(map(str, LOOPBACK_NETWORKS))}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test: migrating each time would be slow."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_hub_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _admin_engine() -> Engine:
    return create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test clones it (CREATE DATABASE … TEMPLATE)."""
    name = f"crossdock_tpl_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
    engine = create_hub_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hub.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with _cloned_postgres(request.getfixturevalue("postgres_template")) as url:
        yield url


@contextmanager
def _cloned_postgres(template_name: str) -> Iterator[str]:
    name = f"crossdock_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_database_url(postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database, for tests that only make sense there."""
    with _cloned_postgres(postgres_template) as url:
        yield url


def hub_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        contracts_path=REPO / "contracts",
        mappings_path=REPO / "mappings",
        governance_path=REPO / "governance",
        bootstrap_admin_key=ADMIN_KEY,
        sqlite_synchronous="NORMAL",
        # Every fake peer of the suite listens on loopback, which governance/hub.yaml refuses;
        # tests/access/ checks the refusal with a hub that does not allow it.
        outbound_allowed_networks=LOOPBACK_NETWORKS,
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return hub_settings(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_hub_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def hub(settings: Settings) -> Iterator[HubServer]:
    """A hub serving real HTTP on a free loopback port, with ``ADMIN_KEY`` as admin."""
    with HubServer(settings) as server:
        yield server
