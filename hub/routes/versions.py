"""Contract version pins of routes, and converting messages to the pinned version.

A route may pin, per contract family, the version its target understands:
``{"reservation": "1"}`` (any 1.x) or ``{"reservation": "1.0"}`` (exactly 1.0). A message
the pin admits is delivered as it was accepted; any other is converted through the chain of
version mappings in ``mappings/`` (``MappingRegistry.version_path``) before the route's own
mapping runs and before it is sent. A route is refused when some version producers may
still send (``active`` or ``deprecated``) has no chain to its pin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.contracts.checker import MessageChecker
from hub.contracts.registry import ContractRegistry, ContractVersion, parse_dataschema
from hub.mappings import Mapping, MappingError, MappingRegistry

PIN_PATTERN = r"^[0-9]{1,4}(\.[0-9]{1,4})?$"
_PIN = re.compile(PIN_PATTERN)
_SHOWN_VIOLATIONS = 5


class ConversionError(Exception):
    """A message could not be converted to a route's pinned version: a permanent failure."""


@dataclass(frozen=True)
class VersionPin:
    """``"1"`` admits every 1.x version; ``"1.0"`` admits 1.0 only."""

    text: str
    major: int
    minor: int | None

    def admits(self, version: str) -> bool:
        """Whether a message of ``version`` goes to the route as it is."""
        major, _, minor = version.partition(".")
        if int(major) != self.major:
            return False
        return self.minor is None or int(minor) == self.minor

    def __str__(self) -> str:
        return f"{self.major}.x" if self.minor is None else f"{self.major}.{self.minor}"


@lru_cache(maxsize=256)
def parse_pin(text: str) -> VersionPin:
    """``"1"`` or ``"1.0"`` as a :class:`VersionPin`; :class:`ValueError` otherwise."""
    if not _PIN.match(text):
        raise ValueError(f"{text!r} is not a version pin: a major (`1`) or major.minor (`1.0`)")
    major, _, minor = text.partition(".")
    return VersionPin(text, int(major), int(minor) if minor else None)


@dataclass(frozen=True)
class Unreachable:
    """One version producers may send that a pin cannot be reached from, and why."""

    family: str
    version: str
    message: str


def receives(types: list[str], family: str) -> bool:
    """Whether a route with these type patterns gets any message of ``family``."""
    return any(pattern == "*" or pattern.split(".", 1)[0] == family for pattern in types)


class VersionConverter:
    """Answers which versions a pin can be reached from, and converts messages to it."""

    def __init__(
        self, registry: ContractRegistry, mappings: MappingRegistry, checker: MessageChecker
    ) -> None:
        self.registry = registry
        self.mappings = mappings
        self.checker = checker

    def targets(self, family: str, pin: VersionPin) -> list[ContractVersion]:
        """The versions of ``family`` the pin admits that accept messages, newest first."""
        known = self.registry.families.get(family)
        if known is None:
            return []
        admitted = [
            v for v in known.versions.values() if v.accepts_messages and pin.admits(v.version)
        ]
        return admitted[::-1]

    def chain(
        self, family: str, from_version: str, pin: VersionPin
    ) -> tuple[ContractVersion, list[Mapping]] | None:
        """The newest version the pin admits that ``from_version`` converts to, and the
        mappings that do it, in order; ``None`` when no chain reaches any of them."""
        for target in self.targets(family, pin):
            path = self.mappings.version_path(family, from_version, target.version)
            if path is not None:
                return target, path
        return None

    def unreachable(self, family: str, pin: VersionPin) -> list[Unreachable]:
        """Every version producers may send (active or deprecated) that cannot be converted
        to ``pin``, with an explanation naming the conversion that is missing."""
        self.mappings.refresh_if_due()
        targets = self.targets(family, pin)
        if not targets:
            return []  # the caller reports the pin itself as unknown
        found: list[Unreachable] = []
        known = self.registry.families[family]
        for version in known.versions.values():
            if not version.accepts_messages or pin.admits(version.version):
                continue
            if self.chain(family, version.version, pin) is None:
                target = targets[0].version
                found.append(
                    Unreachable(
                        family,
                        version.version,
                        f"{family} {version.version} messages cannot be converted to "
                        f"{pin}: mappings/ has no chain of version mappings from "
                        f"{version.version} to {target} (add a mapping with source "
                        f'{{contract: {family}, version: "{version.version}"}} and target '
                        f'{{contract: {family}, version: "{target}"}})',
                    )
                )
        return found

    def convert(self, event: dict[str, Any], pins: MappingType[str, str]) -> dict[str, Any]:
        """``event`` as the route pinned to ``pins`` ({family: pin}) must receive it.

        The event itself when its family is not pinned or the pin admits its version;
        otherwise a new event: the mappings' output, with the envelope attributes they do
        not produce carried over, ``dataschema`` naming the version converted to, checked
        against that version's contract. Raises :class:`ConversionError`.
        """
        dataschema = event.get("dataschema")
        parsed = parse_dataschema(dataschema) if isinstance(dataschema, str) else None
        if parsed is None:
            return event  # accepted messages always name a contract; nothing to go on
        family, version = parsed
        pin_text = pins.get(family)
        if pin_text is None:
            return event
        pin = parse_pin(pin_text)
        if pin.admits(version):
            return event
        self.mappings.refresh_if_due()
        found = self.chain(family, version, pin)
        if found is None:
            raise ConversionError(
                f"no chain of version mappings converts {family} {version} to {pin} "
                "(mappings/ may have changed since the route was pinned)"
            )
        target, mappings = found
        converted = event
        for mapping in mappings:
            try:
                converted = mapping.apply(converted)
            except MappingError as exc:
                raise ConversionError(
                    f"converting {family} {version} to {target.version}: "
                    f"mapping {mapping.name!r} failed: {exc}"
                ) from None
        # The mappings convert the data; envelope attributes they leave out (extensions a
        # producer added, say) are the message's, not the version's, so they stay.
        result = {key: value for key, value in event.items() if key != "data"}
        result.update(converted)
        result["dataschema"] = target.dataschema
        checked = self.checker.check(result)
        if not checked.ok:
            shown = "; ".join(
                f"{v.pointer}: {v.message}" for v in checked.violations[:_SHOWN_VIOLATIONS]
            )
            raise ConversionError(
                f"converting {family} {version} to {target.version} with "
                f"{', '.join(m.name for m in mappings)} gave an invalid {target.dataschema} "
                f"message ({len(checked.violations)} violations): {shown}"
            )
        return result
