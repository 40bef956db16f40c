"""Connection secrets, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from hub.clients.service import instance_secret

_KEY_NAME = "connection-secrets-key"


def secrets_key(session: Session, configured: str | None) -> bytes:
    """The setting ``CROSSDOCK_SECRETS_KEY`` if given, else a per-installation generated key."""
    if configured:
        return configured.encode()
    # Instance secrets are 64 hex characters; Fernet wants 32 bytes, url-safe base64.
    return base64.urlsafe_b64encode(bytes.fromhex(instance_secret(session, _KEY_NAME)))


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, values: dict[str, str]) -> str:
        return self._fernet.encrypt(orjson.dumps(values)).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = orjson.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("connection secrets cannot be decrypted with this key") from exc
        return opened
