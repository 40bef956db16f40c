"""Group commit: concurrent acceptances share one database transaction.

A durable commit (an fsync) costs the same for one message as for a thousand. The API
hands each checked message to this committer and awaits the outcome; one thread drains
whatever has queued up since the last commit, writes it all in one transaction and then
answers every waiting request. Under load, batches grow by themselves; when idle, a lone
request is committed at once (no artificial delay). A request is answered only after its
transaction committed, so a 202 always means "stored".
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from hub.errors import ServiceUnavailable
from hub.messages.store import Outcome, PreparedMessage

logger = logging.getLogger(__name__)

BatchWriter = Callable[[Session, Sequence[PreparedMessage]], list[Outcome]]


@dataclass(slots=True)
class _Request:
    items: Sequence[PreparedMessage]
    future: asyncio.Future[list[Outcome]]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class GroupCommitter:
    """One writer thread; :meth:`submit` from any event loop."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        writer: BatchWriter,
        *,
        max_batch: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.messages = 0
        self._retrying = Retrying(
            retry=retry_if_exception_type(OperationalError),
            stop=stop_after_attempt(3),
            wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05),
            reraise=True,
        )

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="group-committer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    async def submit(self, items: Sequence[PreparedMessage]) -> list[Outcome]:
        if self._thread is None:
            raise ServiceUnavailable("the hub is shutting down", headers={"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._queue.put(_Request(items, future, loop))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Request)
            pending = [first]
            size = len(first.items)
            while size < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                assert isinstance(nxt, _Request)
                pending.append(nxt)
                size += len(nxt.items)
            self._commit(pending)

    def _commit(self, pending: list[_Request]) -> None:
        items = [item for request in pending for item in request.items]
        try:
            outcomes = self._write(items)
        except Exception:
            if len(pending) == 1:
                logger.exception("ingest batch failed")
                _fail(
                    pending[0],
                    ServiceUnavailable(
                        "the message store is unavailable; nothing was stored, retry later",
                        headers={"Retry-After": "2"},
                    ),
                )
                return
            # Retry each request on its own so that one bad request cannot fail its neighbours.
            for request in pending:
                self._commit([request])
            return
        self.batches += 1
        self.messages += len(items)
        offset = 0
        for request in pending:
            result = outcomes[offset : offset + len(request.items)]
            offset += len(request.items)
            request.loop.call_soon_threadsafe(_resolve, request.future, result)

    def _write(self, items: list[PreparedMessage]) -> list[Outcome]:
        # Durable state lives in rows; tenacity only rides out short hiccups such as a
        # dropped connection or a busy SQLite file.
        for attempt in self._retrying:
            with attempt, self._sessions.begin() as session:
                return self._writer(session, items)
        raise AssertionError("unreachable")


def _resolve(future: asyncio.Future[list[Outcome]], result: list[Outcome]) -> None:
    if not future.done():
        future.set_result(result)


def _fail(request: _Request, error: Exception) -> None:
    def _set() -> None:
        if not request.future.done():
            request.future.set_exception(error)

    request.loop.call_soon_threadsafe(_set)
