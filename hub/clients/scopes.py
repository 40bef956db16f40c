"""The scopes an API key can carry."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    MESSAGES_WRITE = "messages:write"
    MESSAGES_READ = "messages:read"
    OPS = "ops"
    ADMIN = "admin"


ALL_SCOPES = frozenset(s.value for s in Scope)


def grants(held: frozenset[str], required: Scope) -> bool:
    """``admin`` holds every scope; otherwise the scope itself is needed."""
    return Scope.ADMIN.value in held or required.value in held
