"""Schema migrations (Alembic), applied by ``crossdock db upgrade`` and on ``serve`` start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Several hub processes may start together on one PostgreSQL database: one migrates, the
# others wait on this lock and then find nothing left to do.
_PG_MIGRATION_LOCK = 0x43524F53  # "CROS"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
