"""Which policy and mapping files the hub runs with, in the audit log.

Policies (``governance/``) are read when a hub process starts; mappings (``mappings/``) are
read at start and read again whenever their files change. Each load is written as one
entry, ``policy.load`` or ``mapping.load``, whose ``after`` holds the SHA-256 of every file
loaded and whose ``before`` holds the previous entry's: only a load that differs from the
last one recorded is written, so several processes starting on one database, or restarts,
add nothing until a file really changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.audit.models import AuditEntry
from hub.audit.service import SYSTEM, record
from hub.mappings import MappingRegistry
from hub.store.database import transaction

logger = logging.getLogger(__name__)

POLICY_LOAD = "policy.load"
MAPPING_LOAD = "mapping.load"
# Serialises the compare-and-append of processes starting together on PostgreSQL (SQLite
# write transactions are serial already: BEGIN IMMEDIATE).
_PG_LOAD_LOCK = 0x41554454  # "AUDT"


def file_digests(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """The SHA-256 of each file, keyed by its path relative to ``root`` (absolute outside)."""
    base = root.resolve()
    digests: dict[str, str] = {}
    for path in sorted({p.resolve() for p in paths}):
        name = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def policy_files(governance_path: Path) -> list[Path]:
    """The policy files under ``governance_path``: every YAML file, in every folder."""
    if not governance_path.is_dir():
        return []
    return sorted(p for p in governance_path.rglob("*") if p.suffix in {".yaml", ".yml"})


def _summary(before: dict[str, str], after: dict[str, str]) -> str:
    parts = [
        (word, sorted(names))
        for word, names in (
            ("changed", {n for n in before.keys() & after.keys() if before[n] != after[n]}),
            ("added", after.keys() - before.keys()),
            ("removed", before.keys() - after.keys()),
        )
        if names
    ]
    return "; ".join(f"{word}: {', '.join(names)}" for word, names in parts) or "first load"


def record_load(
    session: Session, action: str, target_type: str, target_id: str, digests: dict[str, str]
) -> AuditEntry | None:
    """Append a load entry unless the last ``action`` entry recorded the same files."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_PG_LOAD_LOCK)))
    last = session.scalar(
        select(AuditEntry.after)
        .where(AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    previous: dict[str, str] = orjson.loads(last)["files"] if last else {}
    if last and previous == digests:
        return None
    return record(
        session,
        SYSTEM,
        action,
        target_type,
        target_id,
        before={"files": previous} if last else None,
        after={"files": digests},
        detail=_summary(previous, digests) if last else "first load",
    )


def record_policy_load(session: Session, governance_path: Path) -> AuditEntry | None:
    """``policy.load``: the policy files this process has just loaded, if they changed."""
    digests = file_digests(governance_path, policy_files(governance_path))
    return record_load(session, POLICY_LOAD, "policy", "governance", digests)


class MappingLoadAudit:
    """Records ``mapping.load`` for the mappings a process runs with: at start, and after
    each reload, seen within ``every`` seconds.

    It reloads the registry itself before looking (the hub otherwise reloads lazily, when a
    message next needs a mapping), so what it records is what is loaded, not merely what is
    on disk. A broken edit is not loaded, hence not recorded: the last good mappings stay.
    """

    def __init__(
        self, mappings: MappingRegistry, sessions: sessionmaker[Session], every: float = 5.0
    ) -> None:
        self.mappings = mappings
        self.sessions = sessions
        self.every = every
        self._recorded: dict[str, str] | None = None
        self._stamps: dict[Path, tuple[int, int]] = {}

    def check(self) -> bool:
        """Reload if files changed; record the loaded files if they differ from the last
        entry. ``True`` if an entry was written."""
        self.mappings.refresh_if_due(0)  # logs a reload, or why a broken edit did not load
        if self.mappings.changed():
            return False  # a broken edit: the last good mappings are still the ones in use
        files = self.mappings.files
        # Hashing every file each round would be wasteful: only a new stamp is worth a look.
        stamps = {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in files}
        if stamps == self._stamps:
            return False
        digests = file_digests(self.mappings.directory, files)
        written = False
        if digests != self._recorded:
            with transaction(self.sessions) as session:
                written = (
                    record_load(session, MAPPING_LOAD, "mapping", "mappings", digests) is not None
                )
            self._recorded = digests
        self._stamps = stamps
        return written

    async def run(self) -> None:
        """Check every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await asyncio.to_thread(self.check)
            except Exception:  # a file removed mid-read, the database away: next round
                logger.exception("recording a mapping load failed")
