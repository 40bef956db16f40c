"""Creating, listing and revoking clients, and verifying their keys.

Keys are 256-bit random tokens, so a slow password hash buys nothing: the store keeps
HMAC-SHA256(instance secret, key), and verified keys are cached for a short while so the
hot path costs one HMAC and a dictionary look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.clients.models import Client, InstanceSecret
from hub.clients.scopes import ALL_SCOPES
from hub.errors import AlreadyExists, InvalidParameters, NotFound
from hub.store.identifiers import new_id
from hub.store.named import find
from hub.timestamps import utcnow

KEY_PREFIX = "cdk_"
_PEPPER_NAME = "api-key-pepper"
BOOTSTRAP_CLIENT_NAME = "bootstrap-admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the authenticated client, as the rest of the hub sees it."""

    client_id: str
    name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class IssuedKey:
    client: Client
    key: str


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def instance_secret(session: Session, name: str) -> str:
    """The named per-installation secret, created on first use by whichever process is first."""
    existing = session.get(InstanceSecret, name)
    if existing is not None:
        return existing.value
    try:
        with session.begin_nested():
            session.add(InstanceSecret(name=name, value=secrets.token_hex(32), created_at=utcnow()))
    except IntegrityError:
        pass  # another process created it first; use theirs
    row = session.get(InstanceSecret, name)
    assert row is not None
    return row.value


def hash_key(pepper: str, key: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def _check_scopes(scopes: Iterable[str]) -> str:
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in ALL_SCOPES]
    if unknown or not wanted:
        raise InvalidParameters(
            f"scopes must be one or more of {', '.join(sorted(ALL_SCOPES))}; got {wanted or 'none'}"
        )
    return " ".join(wanted)


class ClientService:
    """Client administration. Methods take the caller's session; the caller commits."""

    def create(
        self, session: Session, *, name: str, scopes: Iterable[str], key: str | None = None
    ) -> IssuedKey:
        scope_text = _check_scopes(scopes)
        if session.scalar(select(Client).where(Client.name == name)) is not None:
            raise AlreadyExists(f"a client named {name!r} already exists")
        key = key or generate_key()
        client = Client(
            id=new_id("cli"),
            name=name,
            key_hash=hash_key(instance_secret(session, _PEPPER_NAME), key),
            key_prefix=key[:10],
            scopes=scope_text,
            created_at=utcnow(),
        )
        session.add(client)
        session.flush()
        return IssuedKey(client, key)

    def list(self, session: Session, *, include_revoked: bool = False) -> list[Client]:
        query = select(Client).order_by(Client.created_at, Client.id)
        if not include_revoked:
            query = query.where(Client.revoked_at.is_(None))
        return list(session.scalars(query))

    def revoke(self, session: Session, name_or_id: str) -> Client:
        client = find(session, Client, name_or_id)
        if client is None:
            raise NotFound(f"no client named {name_or_id!r}")
        if client.revoked_at is None:
            client.revoked_at = utcnow()
        return client

    def ensure_bootstrap_admin(self, session: Session, key: str) -> Client:
        """Make ``key`` an admin key (the ``CROSSDOCK_BOOTSTRAP_ADMIN_KEY`` setting)."""
        key_hash = hash_key(instance_secret(session, _PEPPER_NAME), key)
        client = session.scalar(select(Client).where(Client.name == BOOTSTRAP_CLIENT_NAME))
        if client is None:
            return self.create(
                session, name=BOOTSTRAP_CLIENT_NAME, scopes=["admin"], key=key
            ).client
        client.key_hash, client.key_prefix = key_hash, key[:10]
        client.scopes, client.revoked_at = "admin", None
        return client

    def has_active_admin(self, session: Session) -> bool:
        return any("admin" in c.scope_set for c in self.list(session))


class KeyVerifier:
    """Turns a bearer key into a :class:`Principal`, with a short-lived in-process cache."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        read_sessions: sessionmaker[Session],
        cache_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions
        self._cache_seconds = cache_seconds
        self._pepper: str | None = None
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def _hash(self, key: str) -> str:
        if self._pepper is None:
            with self._sessions.begin() as session:
                self._pepper = instance_secret(session, _PEPPER_NAME)
        return hash_key(self._pepper, key)

    def verify(self, key: str) -> Principal | None:
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        key_hash = self._hash(key)
        now = time.monotonic()
        cached = self._cache.get(key_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = self._load(key_hash)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_hash] = (now + self._cache_seconds, principal)
        return principal

    def _load(self, key_hash: str) -> Principal | None:
        with self._read_sessions() as session:
            client = session.scalar(select(Client).where(Client.key_hash == key_hash))
            if client is None or client.revoked_at is not None:
                return None
            return Principal(client.id, client.name, client.scope_set)

    def forget(self) -> None:
        """Drop every cached verdict (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()
