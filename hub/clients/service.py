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
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.audit.service import SYSTEM, record
from hub.clients.models import Client, InstanceSecret
from hub.clients.ratelimits import ClientRateLimits, check_rate_limit
from hub.clients.scopes import ALL_SCOPES, Scope
from hub.connections.models import Connection
from hub.errors import AlreadyExists, InvalidParameters, NotFound
from hub.store.identifiers import new_id
from hub.store.named import find, page_by_name
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
    connection_id: str | None = None
    """The connection the client is bound to (see :mod:`hub.clients.bindings`), if any."""
    connection: str | None = None
    """That connection's name."""
    rate_limit: str | None = None
    """Its own rate limit (``limits`` notation); ``None``: the hub's default."""


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


def _invalid(pointer: str, rule: str, message: str) -> InvalidParameters:
    return InvalidParameters(
        message, extensions={"violations": [{"pointer": pointer, "rule": rule, "message": message}]}
    )


def _bound_connection(session: Session, ref: str | None, scopes: str) -> Connection | None:
    """The connection a client is bound to, checked: it exists, and the client is no admin
    (admin changes routes and connections, which no binding narrows)."""
    if ref is None:
        return None
    connection = find(session, Connection, ref)
    if connection is None:
        raise _invalid("/connection", "connection-exists", f"no connection {ref!r}")
    if Scope.ADMIN.value in scopes.split():
        raise _invalid(
            "/scopes",
            "bound-not-admin",
            "a client bound to a connection cannot hold the 'admin' scope",
        )
    return connection


def _checked_rate_limit(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_rate_limit(value)
    except ValueError as exc:
        raise _invalid("/rate_limit", "rate-limit", str(exc)) from None


def client_view(client: Client, connection_name: str | None) -> dict[str, Any]:
    """A client as the API and the CLI show it: never its key, only the key's prefix."""
    return {
        "id": client.id,
        "name": client.name,
        "key_prefix": client.key_prefix,
        "scopes": sorted(client.scope_set),
        "connection": connection_name,
        "rate_limit": client.rate_limit,
        "created_at": client.created_at,
        "revoked_at": client.revoked_at,
    }


UNCHANGED: Any = object()
"""Marks an argument of :meth:`ClientService.update` that was not given."""


class ClientService:
    """Client administration. Methods take the caller's session; the caller commits."""

    def create(
        self,
        session: Session,
        *,
        name: str,
        scopes: Iterable[str],
        key: str | None = None,
        connection: str | None = None,
        rate_limit: str | None = None,
    ) -> IssuedKey:
        """A new client and its key. ``connection`` (id or name) binds it to a connection;
        ``rate_limit`` (``100/second``) replaces the hub's default limit for it."""
        scope_text = _check_scopes(scopes)
        bound = _bound_connection(session, connection, scope_text)
        limit = _checked_rate_limit(rate_limit)
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
            connection_id=bound.id if bound else None,
            rate_limit=limit,
        )
        session.add(client)
        session.flush()
        return IssuedKey(client, key)

    def get(self, session: Session, name_or_id: str) -> Client:
        client = find(session, Client, name_or_id)
        if client is None:
            raise NotFound(f"no client named {name_or_id!r}")
        return client

    def update(
        self,
        session: Session,
        name_or_id: str,
        *,
        scopes: Iterable[str] | None = None,
        connection: str | None = UNCHANGED,
        rate_limit: str | None = UNCHANGED,
    ) -> Client:
        """Change scopes, binding (``None`` unbinds) or rate limit (``None``: the default).

        Other hub processes see the change within the auth cache time, like a revocation.
        """
        client = self.get(session, name_or_id)
        scope_text = _check_scopes(scopes) if scopes is not None else client.scopes
        if connection is UNCHANGED:
            connection = client.connection_id
        bound = _bound_connection(session, connection, scope_text)
        if rate_limit is not UNCHANGED:
            client.rate_limit = _checked_rate_limit(rate_limit)
        client.scopes = scope_text
        client.connection_id = bound.id if bound else None
        session.flush()
        return client

    def view(self, session: Session, client: Client) -> dict[str, Any]:
        name = (
            session.scalar(select(Connection.name).where(Connection.id == client.connection_id))
            if client.connection_id
            else None
        )
        return client_view(client, name)

    def page(self, session: Session, after: str | None, limit: int) -> list[Client]:
        """Clients by name after the name ``after``, revoked ones included."""
        return page_by_name(session, Client, after, limit)

    def bound_to(self, session: Session, connection_id: str) -> list[str]:
        """Names of the unrevoked clients bound to a connection."""
        return list(
            session.scalars(
                select(Client.name)
                .where(Client.connection_id == connection_id, Client.revoked_at.is_(None))
                .order_by(Client.name)
            )
        )

    def list(self, session: Session, *, include_revoked: bool = False) -> list[Client]:
        query = select(Client).order_by(Client.created_at, Client.id)
        if not include_revoked:
            query = query.where(Client.revoked_at.is_(None))
        return list(session.scalars(query))

    def revoke(self, session: Session, name_or_id: str) -> Client:
        client = self.get(session, name_or_id)
        if client.revoked_at is None:
            client.revoked_at = utcnow()
        return client

    def ensure_bootstrap_admin(self, session: Session, key: str) -> Client:
        """Make ``key`` an admin key (the ``CROSSDOCK_BOOTSTRAP_ADMIN_KEY`` setting).

        What it changes is audited as the hub's own doing (``system``): ``client.create`` the
        first time, ``client.rotate_key`` when the setting names another key, and
        ``client.update`` when someone had narrowed, bound or revoked the client since.
        """
        key_hash = hash_key(instance_secret(session, _PEPPER_NAME), key)
        client = session.scalar(select(Client).where(Client.name == BOOTSTRAP_CLIENT_NAME))
        if client is None:
            client = self.create(
                session, name=BOOTSTRAP_CLIENT_NAME, scopes=["admin"], key=key
            ).client
            view = self.view(session, client)
            record(session, SYSTEM, "client.create", "client", client.id, after=view)
            return client
        before, rotated = self.view(session, client), client.key_hash != key_hash
        client.key_hash, client.key_prefix = key_hash, key[:10]
        client.scopes, client.revoked_at, client.connection_id = "admin", None, None
        after = self.view(session, client)
        if rotated or before != after:
            action = "client.rotate_key" if rotated else "client.update"
            record(session, SYSTEM, action, "client", client.id, before=before, after=after)
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
        rate_limits: ClientRateLimits | None = None,
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions
        self._cache_seconds = cache_seconds
        self.rate_limits = rate_limits
        """Counts each authenticated request (``None``: no limits, as in CLI processes)."""
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
            row = session.execute(
                select(Client, Connection.name)
                .outerjoin(Connection, Connection.id == Client.connection_id)
                .where(Client.key_hash == key_hash)
            ).first()
            if row is None or row[0].revoked_at is not None:
                return None
            client, connection = row
            return Principal(
                client.id,
                client.name,
                client.scope_set,
                connection_id=client.connection_id,
                connection=connection,
                rate_limit=client.rate_limit,
            )

    def forget(self) -> None:
        """Drop every cached verdict (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()
