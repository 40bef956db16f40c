"""The SQLite file the hub creates: its page size, and older files left as they are."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from hub.store.database import SQLITE_PAGE_SIZE, create_hub_engine
from hub.store.migrate import upgrade


def _pragma(path: Path, name: str) -> object:
    with closing(sqlite3.connect(path)) as plain:
        return plain.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_file_gets_the_hub_page_size_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = create_hub_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()

    assert SQLITE_PAGE_SIZE != 4096  # SQLite's own default: the setting must be ours
    assert _pragma(path, "page_size") == SQLITE_PAGE_SIZE
    assert _pragma(path, "journal_mode") == "wal"


def test_an_existing_file_keeps_its_page_size_and_still_works(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    with closing(sqlite3.connect(path)) as plain:
        plain.execute("PRAGMA page_size=4096")
        plain.execute("PRAGMA journal_mode=WAL")
        plain.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY, note TEXT)")
        plain.execute("INSERT INTO kept (note) VALUES ('before the hub')")
        plain.commit()

    engine = create_hub_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO kept (note) VALUES ('after the hub')"))
    engine.dispose()

    assert _pragma(path, "page_size") == 4096
    assert _pragma(path, "integrity_check") == "ok"
    with closing(sqlite3.connect(path)) as plain:
        notes = [row[0] for row in plain.execute("SELECT note FROM kept ORDER BY id")]
    assert notes == ["before the hub", "after the hub"]
