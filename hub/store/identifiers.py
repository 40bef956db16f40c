"""Public identifiers: a prefix plus a ULID (time-ordered, 26 Crockford base32 characters)."""

from __future__ import annotations

import os
import random
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Identifiers need uniqueness, not secrecy: a generator seeded from the OS once avoids a
# system call per id (API keys and secrets use the `secrets` module instead).
_random = random.Random(os.urandom(32))


def ulid(now_ms: int | None = None) -> str:
    """48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | _random.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
