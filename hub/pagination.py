"""Opaque cursors for every paginated list: the position after the last item of a page."""

from __future__ import annotations

import base64
import binascii

from hub.errors import InvalidParameters


def encode_cursor(position: int | str) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raw = ""
    if raw[:1] != "p" or len(raw) < 2:
        raise _unknown_cursor()
    return raw[1:]


def decode_int_cursor(cursor: str) -> int:
    position = decode_cursor(cursor)
    if not position.isdigit():
        raise _unknown_cursor()
    return int(position)


def _unknown_cursor() -> InvalidParameters:
    violation = {"pointer": "/query/after", "rule": "cursor", "message": "unknown cursor"}
    return InvalidParameters(
        "the cursor is not one this hub issued; pass back a next_cursor unchanged",
        extensions={"violations": [violation]},
    )
