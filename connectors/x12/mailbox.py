"""The partner's mailbox as an SFTP or AS2 gateway presents it: an inbox and an outbox.

**Inbox.** The gateway drops each received file into the inbox. The inbox itself is the
queue: a file is moved to ``processed/`` (or ``failed/``) only after the hub has stored
its records, so a file still in the inbox is one not yet settled. Files are taken in a
stable order (modification time, then name). Hidden files and the temporary names
gateways write under (``.tmp``, ``.part``, ``.filepart``, ...) are left alone, and so are
files younger than the settle time, which may still be being written.

**The cursor** is the set of files already handed to the hub that are still in the inbox
(name, size, modification time, when handed over), plus the last one handed. Normally a
file leaves the inbox right after its page is stored, so the set stays small. A file that
is still there after ``redeliver_after`` seconds (its page was stored but the process
stopped before moving it) is handed over again: the hub sees its records as duplicates
and the connector then moves it and writes its 997. A file that reappears with the same
name but a different size or time is a new file.

**Outbox.** Every file is written atomically: to a hidden temporary name in the outbox,
flushed to disk, then renamed, so the gateway never picks up half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".inprogress", "~")


@dataclass(frozen=True)
class InboxFile:
    """A file found in the inbox."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Cursor:
    """Which inbox files were handed to the hub and are not settled yet."""

    held: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    """name → (size, modification time in ns, handed over at, Unix seconds)"""
    last: str | None = None

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            raw = orjson.loads(text)
            held = {
                str(k): (int(v[0]), int(v[1]), float(v[2])) for k, v in raw.get("held", {}).items()
            }
            last = raw.get("last")
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, IndexError):
            return cls()  # an unknown cursor: start over; re-reading is idempotent
        return cls(held, str(last) if last is not None else None)

    def encode(self) -> str:
        return orjson.dumps({"last": self.last, "held": self.held}).decode()


def list_inbox(inbox: Path, settle_seconds: float, now: float) -> list[InboxFile]:
    """Files ready to read, oldest first (modification time, then name).

    Raises ``OSError`` when the inbox cannot be read: the poll fails and says why.
    """
    found: list[InboxFile] = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue  # processed/, failed/ and any other folder
            stat = entry.stat(follow_symlinks=False)
            if now - stat.st_mtime < settle_seconds:
                continue
            found.append(InboxFile(Path(entry.path), stat.st_size, stat.st_mtime_ns))
    found.sort(key=lambda f: (f.mtime_ns, f.name))
    return found


def next_page(
    files: list[InboxFile], cursor: Cursor, page_size: int, now: float, redeliver_after: float
) -> tuple[list[InboxFile], bool, Cursor]:
    """The next files to hand over, whether more are waiting, and the cursor after them."""
    present = {f.name: f for f in files}
    held: dict[str, tuple[int, int, float]] = {}
    for name, (size, mtime_ns, handed_at) in cursor.held.items():
        current = present.get(name)
        if current is not None and (current.size, current.mtime_ns) == (size, mtime_ns):
            held[name] = (size, mtime_ns, handed_at)  # still there, unchanged: not settled yet
    waiting = [f for f in files if f.name not in held or now - held[f.name][2] >= redeliver_after]
    page = waiting[:page_size]
    for chosen in page:
        held[chosen.name] = (chosen.size, chosen.mtime_ns, now)
    last = page[-1].name if page else cursor.last
    return page, len(waiting) > len(page), Cursor(held, last)


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write ``directory/name`` so that no reader ever sees part of it."""
    target = directory / name
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
    return target


def settle(path: Path, folder: Path) -> Path:
    """Move an inbox file into ``processed/`` or ``failed/``, never over another file."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    number = 1
    while target.exists():
        target = folder / f"{path.stem}.{number}{path.suffix}"
        number += 1
    os.replace(path, target)
    return target
