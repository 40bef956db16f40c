"""Group commit: concurrent writers share one database transaction.

A durable commit (an fsync) costs the same for one row as for a thousand. Writers hand a
*write operation* and its items to the committer and wait; one thread drains whatever has
queued up since its last commit, runs every operation in one transaction, commits, and
only then answers each writer. Under load, batches grow by themselves; when idle, a lone
request is committed at once (no artificial delay).

Every write of a hub process goes through here: accepting messages (and their outbox
deliveries), claiming deliveries, recording attempts. On SQLite that makes this thread the
only writer, so nobody waits on the file lock; on PostgreSQL it turns many small commits
into few large ones.

An operation is ``op(session, items) -> results``, one result per item, in order. It runs
inside the shared transaction and must not commit. To act after the commit (waking a
worker, say), it appends a callable to ``session.info["after_commit"]``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from hub.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
WriteOp = Callable[[Session, Sequence[T]], list[R]]
AFTER_COMMIT = "after_commit"


@dataclass(slots=True)
class _Request:
    op: Callable[[Session, Sequence[Any]], list[Any]]
    items: Sequence[Any]
    future: asyncio.Future[list[Any]] | concurrent.futures.Future[list[Any]]
    loop: asyncio.AbstractEventLoop | None = None
    result: list[Any] = field(default_factory=list)


_STOP = object()


class GroupCommitter:
    """One writer thread. :meth:`submit` from an event loop, :meth:`run` from a thread."""

    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = 2000) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None
        self.batches = 0
        self.items = 0
        self._retrying = Retrying(
            retry=retry_if_exception_type(OperationalError),
            stop=stop_after_attempt(3),
            wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05),
            reraise=True,
        )

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="group-committer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    async def submit(self, op: WriteOp[T, R], items: Sequence[T]) -> list[R]:
        """Queue ``op(items)`` for the next commit and wait until it is committed."""
        if self._thread is None:
            raise ServiceUnavailable("the hub is shutting down", headers={"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.put(_Request(op, items, future, loop))
        return await future

    def run(self, op: WriteOp[T, R], items: Sequence[T], timeout: float | None = 60) -> list[R]:
        """The blocking form of :meth:`submit`, for threads that are not event loops."""
        if self._thread is None:
            raise ServiceUnavailable("the hub is shutting down", headers={"Retry-After": "1"})
        future: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        self._queue.put(_Request(op, items, future))
        return future.result(timeout)

    def _loop(self) -> None:
        try:
            self._drain()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _drain(self) -> None:
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
        try:
            after_commit = self._write(pending)
        except Exception as exc:
            if len(pending) == 1:
                logger.exception(
                    "write failed", extra={"op": getattr(pending[0].op, "__name__", "?")}
                )
                _fail(pending[0], _as_problem(exc))
                return
            # Retry each request on its own so that one bad request cannot fail its neighbours.
            for request in pending:
                self._commit([request])
            return
        self.batches += 1
        self.items += sum(len(r.items) for r in pending)
        for callback in after_commit:
            try:
                callback()
            except Exception:
                logger.exception("after-commit callback failed")
        _answer(pending)

    def _writer(self) -> Connection:
        # One connection for the thread's lifetime: a checkout per commit would cost the
        # pool's liveness ping, a round trip per transaction. A connection that died is
        # invalidated by the failing statement and reconnects on the retry.
        if self._connection is None:
            bind = self._sessions.kw["bind"]
            self._connection = bind.connect()
        return self._connection

    def _write(self, pending: list[_Request]) -> list[Callable[[], None]]:
        # Durable state lives in rows; tenacity only rides out short hiccups such as a
        # dropped connection or a busy SQLite file.
        for attempt in self._retrying:
            with attempt, self._sessions(bind=self._writer()) as session, session.begin():
                session.info[AFTER_COMMIT] = []
                groups: dict[Any, list[_Request]] = {}
                for request in pending:
                    groups.setdefault(request.op, []).append(request)
                for op, requests in groups.items():
                    items = [item for request in requests for item in request.items]
                    results = op(session, items)
                    if len(results) != len(items):
                        raise RuntimeError(
                            f"{op.__name__} returned {len(results)} results for {len(items)} items"
                        )
                    offset = 0
                    for request in requests:
                        request.result = results[offset : offset + len(request.items)]
                        offset += len(request.items)
                callbacks: list[Callable[[], None]] = session.info[AFTER_COMMIT]
                return callbacks
        raise AssertionError("unreachable")


def _as_problem(exc: Exception) -> Exception:
    if isinstance(exc, OperationalError):
        return ServiceUnavailable(
            "the database is unavailable; nothing was stored, retry later",
            headers={"Retry-After": "2"},
        )
    return exc


def _answer(pending: list[_Request]) -> None:
    # One wake-up per event loop per batch, not one per request: each wake-up is a write to
    # the loop's self-pipe.
    by_loop: dict[asyncio.AbstractEventLoop, list[_Request]] = {}
    for request in pending:
        if request.loop is None:
            request.future.set_result(request.result)
        else:
            by_loop.setdefault(request.loop, []).append(request)
    for loop, requests in by_loop.items():
        loop.call_soon_threadsafe(_resolve_all, requests)


def _resolve_all(requests: list[_Request]) -> None:
    for request in requests:
        if not request.future.done():  # the caller may have gone away (cancelled)
            request.future.set_result(request.result)


def _fail(request: _Request, error: Exception) -> None:
    if request.loop is None:
        request.future.set_exception(error)
        return

    def _set() -> None:
        if not request.future.done():
            request.future.set_exception(error)

    request.loop.call_soon_threadsafe(_set)
