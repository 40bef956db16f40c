"""The interchanges we sent, waiting for the partner's 997, and what the 997s said.

Kept in the connection's durable state (shared by every hub process):

- ``await997:<GS06>`` — one per functional group sent: when, which set and document
  (``subject``), and when its 997 is due (sent + the connection's window);
- ``rejected997:<GS06>`` — groups the partner's 997 (or TA1) rejected, with its codes.

A 997 that accepts a group (AK9 A or E, or P with our set accepted) removes its
``await997`` entry. One that rejects it moves the entry to ``rejected997``; a later
accepted interchange for the same set and document clears that rejection (the document
was re-sent and went through). ``check()`` flags what is overdue and what is rejected.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sdk import ConnectorState

logger = logging.getLogger(__name__)

AWAITING = "await997:"
REJECTED = "rejected997:"


def _key(prefix: str, group_control: int | str) -> str:
    return f"{prefix}{int(group_control):09d}"


async def expect_997(
    state: ConnectorState,
    *,
    interchange_control: int,
    group_control: int,
    set_control: int,
    set_id: str,
    subject: str | None,
    file: str,
    sent_at: datetime,
    window: timedelta,
) -> None:
    """Remember a sent group as waiting for its 997."""
    await state.put(
        _key(AWAITING, group_control),
        {
            "interchange_control": f"{interchange_control:09d}",
            "group_control": group_control,
            "set_control": f"{set_control:04d}",
            "set": set_id,
            "subject": subject,
            "file": file,
            "sent_at": sent_at.isoformat(),
            "due_at": (sent_at + window).isoformat(),
        },
    )


def _our_set_accepted(document: dict[str, Any], entry: dict[str, Any]) -> bool:
    for acked in document.get("sets", []):
        if acked.get("control", "").lstrip("0") == str(entry["set_control"]).lstrip("0"):
            return acked.get("status") in ("A", "E")
    # No AK2 for our set: the group's status speaks for it.
    return document.get("status") in ("A", "E")


async def reconcile_997(state: ConnectorState, document: dict[str, Any], now: datetime) -> str:
    """Apply one of the partner's 997s; say what it did: accepted, rejected or unknown."""
    control = document.get("group_control", "")
    if not str(control).isdigit():
        logger.warning(
            "a 997 names a group control number that is not ours", extra={"control": control}
        )
        return "unknown"
    key = _key(AWAITING, control)
    entry = await state.get(key)
    if entry is None:
        entry = await state.get(_key(REJECTED, control))
        if entry is None:
            logger.warning("a 997 for a group we are not waiting for", extra={"control": control})
            return "unknown"
    status = document.get("status")
    accepted = status in ("A", "E") or (status == "P" and _our_set_accepted(document, entry))
    if accepted:
        await state.delete(key)
        await state.delete(_key(REJECTED, control))
        await _clear_rejections_of(state, entry)
        return "accepted"
    await state.put(
        _key(REJECTED, control),
        {
            **entry,
            "received_at": now.isoformat(),
            "status": status,
            "codes": document.get("codes", []),
            "sets": document.get("sets", []),
        },
    )
    await state.delete(key)
    return "rejected"


async def reconcile_ta1(state: ConnectorState, ta1: dict[str, Any], now: datetime) -> int:
    """A partner's TA1 rejecting one of our interchanges rejects its groups; returns how many."""
    if ta1.get("status") != "R":
        return 0
    rejected = 0
    for key, entry in (await state.scan(AWAITING)).items():
        if entry.get("interchange_control") == ta1.get("control"):
            await state.put(
                _key(REJECTED, entry["group_control"]),
                {
                    **entry,
                    "received_at": now.isoformat(),
                    "status": "TA1 R",
                    "codes": [ta1.get("code")],
                },
            )
            await state.delete(key)
            rejected += 1
    return rejected


async def _clear_rejections_of(state: ConnectorState, accepted: dict[str, Any]) -> None:
    if not accepted.get("subject"):
        return
    for key, entry in (await state.scan(REJECTED)).items():
        if entry.get("subject") == accepted["subject"] and entry.get("set") == accepted.get("set"):
            await state.delete(key)


async def overdue(state: ConnectorState, now: datetime | None = None) -> list[dict[str, Any]]:
    """Sent groups whose 997 is past due, oldest first."""
    moment = now or datetime.now(UTC)
    late = [
        entry
        for entry in (await state.scan(AWAITING)).values()
        if datetime.fromisoformat(entry["due_at"]) < moment
    ]
    return sorted(late, key=lambda entry: entry["due_at"])


async def awaiting(state: ConnectorState) -> int:
    return len(await state.scan(AWAITING))


async def rejections(state: ConnectorState) -> list[dict[str, Any]]:
    """Groups the partner rejected (and that were not re-sent successfully since)."""
    return sorted((await state.scan(REJECTED)).values(), key=lambda entry: entry["sent_at"])
