"""Every mapping in a folder, loaded and compiled together, and reloaded when files change."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.mappings.errors import MappingLoadError
from hub.mappings.loader import Mapping, TableCache, describe_endpoint, load_mapping

logger = logging.getLogger(__name__)

# Folders (at any depth) whose YAML files are data a mapping points at, not mappings.
DATA_FOLDERS = frozenset({"tables", "vectors"})
MAPPING_SUFFIXES = (".yaml", ".yml")

_Stamp = tuple[int, int] | None  # (mtime_ns, size); None: the file is not there


@dataclass(frozen=True)
class _State:
    mappings: dict[str, Mapping]
    snapshot: dict[Path, _Stamp]


def mapping_files(directory: Path) -> list[Path]:
    """The mapping files under ``directory``: ``*.yaml``/``*.yml``, recursively, except in
    ``tables/`` and ``vectors/`` folders and hidden files or folders (editors' temporaries)."""
    found = []
    for path in directory.rglob("*"):
        parts = path.relative_to(directory).parts
        if (
            path.suffix in MAPPING_SUFFIXES
            and not any(part.startswith(".") for part in parts)
            and not DATA_FOLDERS.intersection(parts[:-1])
            and path.is_file()
        ):
            found.append(path)
    return sorted(found)


def _stamp(path: Path) -> _Stamp:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _snapshot(directory: Path, extra: set[Path]) -> dict[Path, _Stamp]:
    """Every file under ``directory`` (so an added table or mapping shows) and ``extra``."""
    # Resolved, so a table reached through `../` and the same file found here are one entry.
    paths = (
        {p.resolve() for p in directory.rglob("*") if p.is_file()} if directory.is_dir() else set()
    )
    return {path: _stamp(path) for path in sorted(paths | extra)}


def _load_state(directory: Path) -> _State:
    if not directory.is_dir():
        raise MappingLoadError([f"{directory}: the mappings folder does not exist"])
    problems: list[str] = []
    mappings: dict[str, Mapping] = {}
    tables: TableCache = {}
    extra: set[Path] = set()
    for path in mapping_files(directory):
        mapping, found = load_mapping(path, tables)
        problems.extend(found)
        if mapping is None:
            continue
        extra.update(mapping.files)
        earlier = mappings.get(mapping.name)
        if earlier is not None:
            problems.append(f"{path}: name {mapping.name!r} is already used by {earlier.path}")
            continue
        mappings[mapping.name] = mapping
    problems.extend(_clashes(mappings))
    if problems:
        raise MappingLoadError(problems)
    ordered = dict(sorted(mappings.items()))
    return _State(ordered, _snapshot(directory, extra))


def _clashes(mappings: dict[str, Mapping]) -> list[str]:
    """Two mappings for the same source and target would make the choice arbitrary."""
    seen: dict[tuple[tuple[str, ...], tuple[str, ...]], Mapping] = {}
    problems = []
    for mapping in mappings.values():
        key = (tuple(mapping.source.values()), tuple(mapping.target.values()))
        other = seen.setdefault(key, mapping)
        if other is not mapping:
            problems.append(
                f"{mapping.path}: {other.name} ({other.path}) already maps "
                f"{describe_endpoint(mapping.source)} → {describe_endpoint(mapping.target)}"
            )
    return problems


class MappingRegistry:
    """The mappings of one folder, by name and by what they map from.

    Lookups read one immutable snapshot; :meth:`refresh` replaces it whole, so a reader
    never sees half of a reload.
    """

    def __init__(self, directory: Path, state: _State) -> None:
        self.directory = directory
        self._state = state
        self._lock = threading.Lock()
        self._failed: tuple[dict[Path, _Stamp], MappingLoadError] | None = None
        self._checked_at = 0.0
        self._logged_problems: list[str] = []

    @classmethod
    def load(cls, directory: Path) -> MappingRegistry:
        """Load and compile every mapping under ``directory``.

        Raises :class:`MappingLoadError` listing every problem in every file.
        """
        return cls(directory, _load_state(directory))

    # --- reading --------------------------------------------------------------------------

    def get(self, name: str) -> Mapping:
        """The mapping called ``name``; :class:`KeyError` if there is none."""
        try:
            return self._state.mappings[name]
        except KeyError:
            raise KeyError(f"no mapping named {name!r}") from None

    def find(
        self,
        *,
        connector: str | None = None,
        kind: str | None = None,
        contract: str | None = None,
        version: str | None = None,
        target: dict[str, str] | None = None,
    ) -> Mapping | None:
        """The mapping whose source matches every criterion given (and ``target``, if given).

        ``None`` when none matches; :class:`LookupError` when several do (``find(contract=
        "reservation", version="1.0")`` when 1.0 converts to two versions: pass ``target``).
        """
        wanted = {
            key: value
            for key, value in (
                ("connector", connector),
                ("kind", kind),
                ("contract", contract),
                ("version", version),
            )
            if value is not None
        }
        matches = [
            mapping
            for mapping in self._state.mappings.values()
            if all(mapping.source.get(k) == v for k, v in wanted.items())
            and (target is None or mapping.target == target)
        ]
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches)
            raise LookupError(f"several mappings match {wanted}: {names}; give a target")
        return matches[0] if matches else None

    def version_path(self, family: str, from_version: str, to_version: str) -> list[Mapping] | None:
        """The shortest chain of ``family`` version-to-version mappings from one version to
        another: ``[]`` for the same version, ``None`` if no chain reaches it."""
        if from_version == to_version:
            return []
        steps: dict[str, list[Mapping]] = {}
        for mapping in self._state.mappings.values():
            if (
                mapping.source.get("contract") == family
                and mapping.target.get("contract") == family
            ):
                steps.setdefault(mapping.source["version"], []).append(mapping)
        came_by: dict[str, Mapping | None] = {from_version: None}
        queue = deque([from_version])
        while queue:
            version = queue.popleft()
            for mapping in steps.get(version, []):
                reached = mapping.target["version"]
                if reached in came_by:
                    continue
                came_by[reached] = mapping
                if reached == to_version:
                    chain: list[Mapping] = []
                    step = came_by[reached]
                    while step is not None:
                        chain.append(step)
                        step = came_by[step.source["version"]]
                    return chain[::-1]
                queue.append(reached)
        return None

    @property
    def names(self) -> list[str]:
        """Mapping names, sorted."""
        return list(self._state.mappings)

    @property
    def files(self) -> set[Path]:
        """Every file the loaded mappings were made from (mappings, tables, vectors)."""
        return {path for mapping in self for path in mapping.files}

    def __iter__(self) -> Iterator[Mapping]:
        return iter(list(self._state.mappings.values()))

    def __len__(self) -> int:
        return len(self._state.mappings)

    def __contains__(self, name: object) -> bool:
        return name in self._state.mappings

    # --- reloading ------------------------------------------------------------------------

    def changed(self) -> bool:
        """Whether a mapping, table or vector file changed, appeared or went since the load."""
        return self._current_snapshot() != self._state.snapshot

    def refresh(self) -> bool:
        """Reload if any file changed; ``True`` if the mappings were replaced.

        On a load error the current mappings stay and :class:`MappingLoadError` is raised;
        it is raised again on later calls, without reloading, until a file changes.
        """
        with self._lock:
            snapshot = self._current_snapshot()
            if snapshot == self._state.snapshot:
                self._failed = None
                return False
            if self._failed is not None and self._failed[0] == snapshot:
                raise self._failed[1]
            try:
                state = _load_state(self.directory)
            except MappingLoadError as exc:
                self._failed = (snapshot, exc)
                raise
            self._failed = None
            self._state = state
            return True

    def refresh_if_due(self, at_most_every: float = 1.0) -> None:
        """What a running hub calls before using mappings: pick up edited files, cheaply.

        Looks at the files at most every ``at_most_every`` seconds. A broken edit is logged
        (once per broken state) and the last good mappings stay in use.
        """
        now = time.monotonic()
        if now - self._checked_at < at_most_every:
            return
        self._checked_at = now
        try:
            if self.refresh():
                logger.info("mappings reloaded", extra={"mappings": len(self)})
        except MappingLoadError as exc:
            if exc.problems != self._logged_problems:
                logger.error("mappings did not reload", extra={"problems": exc.problems})
            self._logged_problems = exc.problems
        else:
            self._logged_problems = []

    def _current_snapshot(self) -> dict[Path, _Stamp]:
        inside = self.directory.resolve()
        watched = {p for p in self._state.snapshot if not p.is_relative_to(inside)}
        return _snapshot(self.directory, watched)
