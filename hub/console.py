"""What every ``crossdock`` command shares: output, errors, a database session."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from hub.settings import Settings
from hub.state import HubState, build_state
from hub.store.database import create_hub_engine, make_sessionmaker, transaction
from hub.store.migrate import upgrade

err = Console(stderr=True, soft_wrap=True)


def print_rows(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """A table on a terminal; tab-separated lines when piped, so scripts can read them."""
    console = out()
    if console.is_terminal:
        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:
        for line in (columns, *rows):
            print("\t".join(line))


def out() -> Console:
    return Console(soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """One migrated-database transaction for a command; the engine goes away with it."""
    engine = create_hub_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    try:
        upgrade(engine)
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def command_state(settings: Settings) -> Iterator[HubState]:
    """The process state, for commands that need the hub's services; torn down after."""
    state = build_state(settings)
    try:
        yield state
    finally:
        state.committer.stop()
        state.engine.dispose()
