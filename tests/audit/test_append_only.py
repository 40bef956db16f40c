"""The database itself refuses to change or remove audit entries (migration 0008)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.audit.service import CLI, record
from hub.store.database import create_hub_engine
from hub.store.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_URL


def _one_entry(engine: Engine) -> int:
    with Session(engine) as session, session.begin():
        entry = record(
            session, CLI, "route.pause", "route", "rte_1", before={"paused": False}, after={}
        )
        session.flush()
        return entry.id


def _row(engine: Engine, entry_id: int) -> tuple[str, str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(AuditEntry.action, AuditEntry.target_id, AuditEntry.before).where(
                AuditEntry.id == entry_id
            )
        ).one()
        return row.action, row.target_id, row.before


def test_update_and_delete_are_refused_and_the_row_stays(engine: Engine) -> None:
    entry_id = _one_entry(engine)
    original = _row(engine, entry_id)
    attempts = [
        update(AuditEntry).where(AuditEntry.id == entry_id).values(action="route.resume"),
        update(AuditEntry).values(before=None),
        delete(AuditEntry).where(AuditEntry.id == entry_id),
        delete(AuditEntry),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    # Through the ORM too: a changed attribute, a deleted object.
    with Session(engine) as session:
        row = session.get(AuditEntry, entry_id)
        assert row is not None
        row.detail = "tampered"
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
        session.rollback()
        session.delete(session.get(AuditEntry, entry_id))
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
    assert _row(engine, entry_id) == original
    # Appending still works.
    assert _one_entry(engine) > entry_id


@pytest.mark.skipif(not POSTGRES_URL, reason="CROSSDOCK_TEST_POSTGRES_URL is not set")
def test_truncate_is_refused_on_postgresql(postgres_database_url: str) -> None:
    engine = create_hub_engine(postgres_database_url)
    try:
        entry_id = _one_entry(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        assert _row(engine, entry_id)[0] == "route.pause"
    finally:
        engine.dispose()


def test_the_triggers_are_what_refuses(engine: Engine) -> None:
    """Below 0008 the same UPDATE goes through (so the test above tests the triggers); back
    at head it is refused again."""
    entry_id = _one_entry(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(detail="x"))
    upgrade(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(detail="y"))
    with engine.connect() as conn:
        assert conn.scalar(select(AuditEntry.detail).where(AuditEntry.id == entry_id)) == "x"
