"""Durable state of one connection, kept by the hub: for what a connector must remember.

EDI control numbers that may never repeat, the interchanges still waiting for their
acknowledgement, the last version of a record seen: a connector keeps these in
``self.state`` rather than in files or memory, so they survive restarts and are shared by
every hub process. Values are JSON. Outside the hub (a connector's own tests, the
conformance suite) :class:`MemoryState` stands in.
"""

from __future__ import annotations

import asyncio
import copy
from abc import ABC, abstractmethod
from typing import Any

MAX_KEY_LENGTH = 200


def checked_key(key: str) -> str:
    """``key`` if it is a valid state key (1 to 200 characters); ``ValueError`` otherwise."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a state key is 1 to {MAX_KEY_LENGTH} characters")
    return key


class SequenceExhausted(Exception):
    """A sequence reached its limit: numbering further would repeat a number."""


class ConnectorState(ABC):
    """Key-value state of one connection. Keys are strings up to 200 characters."""

    @abstractmethod
    async def get(self, key: str) -> Any:
        """The value stored under ``key``, or ``None``."""

    @abstractmethod
    async def put(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``, replacing what was there."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens if it is not there)."""

    @abstractmethod
    async def scan(self, prefix: str) -> dict[str, Any]:
        """Every key starting with ``prefix``, with its value."""

    @abstractmethod
    async def next_number(self, sequence: str, *, start: int = 1, limit: int | None = None) -> int:
        """The next number of ``sequence``: ``start`` first, then one more each time.

        Atomic across every hub process: no two calls ever get the same number. Past
        ``limit`` it raises :class:`SequenceExhausted` rather than wrap around.
        """


class MemoryState(ConnectorState):
    """State in a dict: for tests and harnesses, and connectors used outside the hub."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def get(self, key: str) -> Any:
        return copy.deepcopy(self.values.get(checked_key(key)))

    async def put(self, key: str, value: Any) -> None:
        if value is None:
            raise ValueError("store a value; delete() forgets a key")
        self.values[checked_key(key)] = copy.deepcopy(value)

    async def delete(self, key: str) -> None:
        self.values.pop(checked_key(key), None)

    async def scan(self, prefix: str) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in self.values.items() if k.startswith(prefix)}

    async def next_number(self, sequence: str, *, start: int = 1, limit: int | None = None) -> int:
        async with self._lock:
            key = checked_key(f"sequence:{sequence}")
            number = int(self.values.get(key, start - 1)) + 1
            if limit is not None and number > limit:
                raise SequenceExhausted(f"sequence {sequence!r} passed {limit}")
            self.values[key] = number
            return number
