"""Deprecated contract versions as producers and consumers hear of them.

A version whose policy says ``deprecated`` (with its sunset date, ``governance/``) is still
accepted and delivered until its sunset, but every answer that involves it says so:

- ``Deprecation: @<unix seconds>`` (RFC 9745, a structured-field date),
- ``Sunset: <HTTP-date>`` (RFC 8594), the moment the hub starts refusing the version,
- ``Link: </v1/contracts/<family>>; rel="deprecation"``, where its lifecycle is shown,
- a ``warnings`` entry in the JSON body, per message.

From the start of its sunset day (00:00 UTC) the version is refused: the checker reports a
``contract-sunset`` violation, answered with the ``contract-version-sunset`` problem type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

SUNSET_RULE = "contract-sunset"
WARNING_TYPE = "contract-version-deprecated"


@dataclass(frozen=True, slots=True)
class Deprecation:
    """What the hub tells users of one deprecated contract version."""

    family: str
    version: str
    deprecated_at: datetime
    """When the version was deprecated, or a moment by which it was (see :func:`deprecation_of`)."""
    sunset: date
    successor: str | None
    """The newest active version of the family: what to move to."""

    @property
    def dataschema(self) -> str:
        return f"urn:crossdock:contract:{self.family}:{self.version}"

    @property
    def sunset_at(self) -> datetime:
        """The first moment the version is refused: its sunset day, 00:00 UTC."""
        return datetime.combine(self.sunset, time.min, tzinfo=UTC)

    def sunset_passed(self, now: datetime) -> bool:
        return now >= self.sunset_at

    def advice(self) -> str:
        move = f"; move to {self.family} {self.successor}" if self.successor else ""
        return f"{self.family} {self.version} is deprecated and refused from {self.sunset}{move}"

    def warning(self) -> dict[str, Any]:
        """The ``warnings`` entry of a message of this version in a JSON answer."""
        return {
            "type": WARNING_TYPE,
            "dataschema": self.dataschema,
            "sunset": self.sunset.isoformat(),
            "successor": self.successor,
            "detail": self.advice(),
        }


def deprecation_of(
    family: str,
    version: str,
    sunset: date,
    successor: str | None,
    known_since: datetime,
    deprecated: date | None = None,
) -> Deprecation:
    """The deprecation of a version whose policy deprecates it.

    The Deprecation date is the policy's ``deprecated`` day; a policy without one gives
    ``known_since`` (when this hub loaded the policy): a moment by which the version was
    deprecated. It never lies after the sunset, which RFC 9745 asks for.
    """
    since = (
        datetime.combine(deprecated, time.min, tzinfo=UTC)
        if deprecated is not None
        else known_since
    )
    deprecated_at = min(since, datetime.combine(sunset, time.min, tzinfo=UTC))
    return Deprecation(family, version, deprecated_at, sunset, successor)


def deprecation_headers(found: Iterable[Deprecation]) -> dict[str, str]:
    """Response headers for an answer involving ``found`` (empty when nothing is deprecated).

    An answer about several deprecated versions (a batch, a feed page) gets the earliest
    deprecation and the earliest sunset, the first that matters to its reader, and one
    link per family.
    """
    deprecations = list(found)
    if not deprecations:
        return {}
    deprecated_at = min(d.deprecated_at for d in deprecations)
    sunset_at = min(d.sunset_at for d in deprecations)
    families = sorted({d.family for d in deprecations})
    return {
        "Deprecation": f"@{int(deprecated_at.timestamp())}",
        "Sunset": format_datetime(sunset_at, usegmt=True),
        "Link": ", ".join(
            f'</v1/contracts/{family}>; rel="deprecation"; type="application/json"'
            for family in families
        ),
    }


def header_pairs(found: Iterable[Deprecation]) -> list[tuple[bytes, bytes]]:
    """:func:`deprecation_headers` as raw ASGI header pairs."""
    return [
        (name.lower().encode(), value.encode())
        for name, value in deprecation_headers(found).items()
    ]
