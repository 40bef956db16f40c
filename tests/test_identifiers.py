"""Public identifiers are ULIDs: 26 Crockford base32 characters that sort by creation time."""

from __future__ import annotations

import re

import pytest

from hub.store import identifiers
from hub.store.identifiers import new_id, new_ids, ulid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")


def reference_ulid(ms: int, randomness: int) -> str:
    """The ULID spec, bit by bit: 128 bits, most significant 5-bit group first."""
    value = (ms << 80) | randomness
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


class FixedRandom:
    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk

    def randbytes(self, count: int) -> bytes:
        return self.chunk * (count // len(self.chunk))


def test_the_encoding_is_the_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    for ms, chunk in [
        (0, bytes(10)),
        (1, b"\xff" * 10),
        (1_795_000_000_000, bytes(range(10))),
        (2**48 - 1, b"\x5a\xa5" * 5),
    ]:
        monkeypatch.setattr(identifiers, "_random", FixedRandom(chunk))
        assert ulid(ms) == reference_ulid(ms, int.from_bytes(chunk, "big"))


def test_ids_sort_by_time_and_a_batch_shares_its_millisecond() -> None:
    assert ulid(1_000) < ulid(1_001) < ulid(2**40)
    batch = new_ids("msg", 500)
    assert len(set(batch)) == 500
    assert all(ID.match(i) for i in batch)
    assert len({i[:14] for i in batch}) == 1  # "msg_" + the 10 characters of the time
    single = new_id("msg")
    assert ID.match(single) and single[:14] >= batch[0][:14]
