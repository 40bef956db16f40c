"""The inbox directory: which files a poll reads, in what order, and where they go after.

Files are read in the order they arrived: by their inode change time (``ctime``, set when a
file is created or moved into the directory, and which no writer can backdate the way it can
a modification time), then by name. The cursor is the ``ctime/name`` of the last file read;
a poll reads the files after it.

Files normally leave the inbox once their records are stored (``processed/`` or
``failed/``), so the cursor only matters between a poll and that move. If the move never
happens (the hub stopped in between, the directory refused it), the file is read again
once it has sat in the inbox for ``retry_after_seconds``: the hub recognises its records as
duplicates, and this time it moves. Such files only fill the room new files leave in a
page. The same delay heals the one case the order can get wrong: two files arriving within
the clock's resolution, the second with a smaller name.

A file changed within ``settle_seconds`` is still being written, maybe: the page stops
before it, and the next poll starts there.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

PROCESSED = "processed"
FAILED = "failed"


@dataclass(frozen=True, order=True)
class FileKey:
    """A file's place in the arrival order."""

    ctime_ns: int
    name: str

    def dump(self) -> str:
        return f"{self.ctime_ns}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> FileKey:
        stamp, slash, name = text.partition("/")
        if not slash or not stamp.isdigit() or not name:
            raise ValueError(f"not a csv connector cursor: {text[:80]!r}")
        return cls(int(stamp), name)


@dataclass(frozen=True)
class InboxFile:
    """A file as listed: enough to notice if it changes before it is moved."""

    name: str
    key: FileKey
    size: int
    mtime_ns: int
    inode: int

    def unchanged(self, path: Path) -> bool:
        try:
            now = path.stat()
        except FileNotFoundError:
            return False
        return (now.st_ino, now.st_size, now.st_mtime_ns, now.st_ctime_ns) == (
            self.inode,
            self.size,
            self.mtime_ns,
            self.key.ctime_ns,
        )


def listing(inbox: Path, pattern: str) -> list[InboxFile]:
    """The regular, not hidden files matching ``pattern``, in arrival order."""
    wanted = pattern.lower()
    found: list[InboxFile] = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not fnmatch.fnmatchcase(entry.name.lower(), wanted):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # taken away while we looked
            found.append(
                InboxFile(
                    entry.name,
                    FileKey(status.st_ctime_ns, entry.name),
                    status.st_size,
                    status.st_mtime_ns,
                    status.st_ino,
                )
            )
    return sorted(found, key=lambda f: f.key)


@dataclass(frozen=True)
class Selection:
    files: list[InboxFile]
    more: bool


def select(
    files: list[InboxFile],
    after: FileKey | None,
    *,
    now_ns: int,
    settle_ns: int,
    retry_ns: int,
    limit: int,
) -> Selection:
    """The files of the next page (see the module's docstring).

    New files first, in arrival order; files left behind fill what room is left, and never
    ask for another page at once: if they cannot be moved, they must not keep the hub
    polling, nor keep new files waiting.
    """
    chosen: list[InboxFile] = []
    for file in files:
        if after is not None and file.key <= after:
            continue
        if now_ns - file.key.ctime_ns < settle_ns:
            break  # maybe still being written; so is, likely, what arrived after it
        if len(chosen) == limit:
            return Selection(chosen, more=True)
        chosen.append(file)
    for file in files:
        if len(chosen) == limit:
            break
        if after is not None and file.key <= after and now_ns - file.key.ctime_ns >= retry_ns:
            chosen.append(file)
    return Selection(chosen, more=False)


def file_away(inbox: Path, file: InboxFile, folder: str, digest: str) -> Path | None:
    """Move a read file to ``processed/`` or ``failed/``; ``None`` if it changed since.

    A file of the same name already there (the same export name every day) is kept: this
    one gets its content digest in its name.
    """
    source = inbox / file.name
    if not file.unchanged(source):
        return None  # rewritten after it was read: it is news, and will be read again
    target_dir = inbox / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / file.name
    if target.exists():
        path = Path(file.name)
        target = target_dir / f"{path.stem}.{digest}{path.suffix}"
    os.replace(source, target)
    return target
