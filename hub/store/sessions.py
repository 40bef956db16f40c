"""Request-scoped sessions. Services never commit; the request does, after the work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hub.state import hub_state
from hub.store.committer import AFTER_COMMIT


def read_session(request: Request) -> Iterator[Session]:
    """A session that takes no write lock; for GET endpoints."""
    with hub_state(request).read_sessions() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """A session committed when the endpoint returns without error, rolled back otherwise."""
    with hub_state(request).sessions() as session:
        session.info[AFTER_COMMIT] = []
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        for callback in session.info[AFTER_COMMIT]:
            callback()


# scope="function": the commit happens before the response is sent, so a client that got
# a 2xx and sends its next request at once always finds the first one committed.
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
