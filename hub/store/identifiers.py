"""Public identifiers: a prefix plus a ULID (time-ordered, 26 Crockford base32 characters).

A ULID is 48 bits of milliseconds (10 characters) then 80 random bits (16 characters). Ingest
makes one per accepted message, so both halves are encoded by C code (``base64`` and
``bytes.translate``) rather than a character loop, and a batch draws its randomness at once.
"""

from __future__ import annotations

import base64
import os
import random
import time

_CROCKFORD = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# RFC 4648 base32 and Crockford's both spell 5-bit values in order: translate one into the other.
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)
_RANDOM_BYTES = 10  # 80 bits: exactly 16 base32 characters, no padding
# Identifiers need uniqueness, not secrecy: a generator seeded from the OS once avoids a
# system call per id (API keys and secrets use the `secrets` module instead).
_random = random.Random(os.urandom(32))


_last_time_part: tuple[int, str] = (-1, "")


def _time_part(ms: int) -> str:
    global _last_time_part
    last_ms, text = _last_time_part
    if ms != last_ms:
        # 48 bits in 10 characters (50 bits): shifted to the top of 80 bits, the first 10
        # of the 16 characters are the timestamp's.
        encoded = base64.b32encode((ms << 30).to_bytes(10, "big"))
        text = encoded.translate(_FROM_RFC4648)[:10].decode()
        _last_time_part = (ms, text)
    return text


def _random_parts(count: int) -> list[str]:
    text = base64.b32encode(_random.randbytes(_RANDOM_BYTES * count)).translate(_FROM_RFC4648)
    chars = text.decode()
    return [chars[i : i + 16] for i in range(0, 16 * count, 16)]


def ulid(now_ms: int | None = None) -> str:
    """48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    tail = base64.b32encode(_random.randbytes(_RANDOM_BYTES)).translate(_FROM_RFC4648)
    return _time_part(ms) + tail.decode()


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` identifiers made in the same millisecond, cheaper than ``count`` calls."""
    head = f"{prefix}_{_time_part(int(time.time() * 1000))}"
    return [head + tail for tail in _random_parts(count)]
