"""``crossdock audit list``: the audit log from a terminal, with the filters of ``/v1/audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
import typer

from hub.audit.service import AuditFilter, page, view
from hub.console import command_session, err, fail, print_rows
from hub.settings import get_settings

app = typer.Typer(help="The audit log: who changed what, when, before and after.")


def _moment(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise fail(f"{option} {value!r}: give the offset too, e.g. {value}Z for UTC")
    return moment


@app.command("list")
def list_entries(
    action: Annotated[
        str | None, typer.Option(help="An action (client.update) or a prefix: 'deadletter.*'.")
    ] = None,
    target_type: Annotated[str | None, typer.Option(help="client, connection, route, …")] = None,
    target_id: Annotated[str | None, typer.Option()] = None,
    actor: Annotated[str | None, typer.Option(help="A client's name or id; cli; system.")] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time, e.g. 2026-11-25T08:00Z.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time.")] = None,
    after: Annotated[int, typer.Option(help="Only entries after this id.", min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, with before and after.")
    ] = False,
) -> None:
    """List audit entries, oldest first (the same filters as GET /v1/audit)."""
    chosen = AuditFilter(
        action, target_type, target_id, actor, _moment("--since", since), _moment("--until", until)
    )
    with command_session(get_settings()) as session:
        entries = [view(entry) for entry in page(session, chosen, after, limit)]
    if as_json:
        for entry in entries:
            print(orjson.dumps(entry, option=orjson.OPT_UTC_Z).decode())  # as the API shows it
        return
    print_rows(
        ("id", "at", "actor", "action", "target", "detail"),
        [
            (
                str(e["id"]),
                e["at"].isoformat(timespec="seconds"),
                e["actor"]["name"],
                e["action"],
                f"{e['target']['type']}/{e['target']['id']}",
                (e["detail"] or "")[:60],
            )
            for e in entries
        ],
    )
    if entries and len(entries) == limit:
        err.print(f"more: --after {entries[-1]['id']}", style="dim")
