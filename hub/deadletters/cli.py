"""``crossdock deadletters …``: triage and replay from a terminal, with a progress bar."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from hub.audit.service import CLI, record
from hub.console import command_state, fail, out, print_rows
from hub.deadletters.schemas import DeadLetterFilter, ReplayRequest
from hub.deadletters.service import filtered, view
from hub.deliveries.schemas import attempt_view
from hub.errors import ProblemError
from hub.jobs import service as jobs
from hub.settings import get_settings

app = typer.Typer(help="Dead letters: triage, replay, discard.", no_args_is_help=True)

RouteOpt = Annotated[str | None, typer.Option(help="Route id or name.")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="Message type or `family.*`.")]
SignatureOpt = Annotated[str | None, typer.Option(help="Cause signature (see `groups`).")]
ReasonOpt = Annotated[str | None, typer.Option(help="permanent, attempts_exhausted or max_age.")]


@app.command("list")
def list_letters(
    route: RouteOpt = None,
    type_: TypeOpt = None,
    signature: SignatureOpt = None,
    reason: ReasonOpt = None,
    status: Annotated[str, typer.Option(help="open, replayed or discarded.")] = "open",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List dead letters, oldest first."""
    chosen = DeadLetterFilter(
        route=route, type=type_, signature=signature, reason=reason, status=status
    )
    with command_state(get_settings()) as state, state.read_sessions() as session:
        letters = state.deadletters.page(session, chosen, None, limit)
        rows = [
            (
                d.id,
                d.created_at.isoformat(timespec="seconds"),
                d.message_type or "",
                d.reason,
                d.signature,
                str(d.last_status or ""),
                (d.error or "")[:60],
            )
            for d in letters
        ]
    print_rows(("id", "created", "type", "reason", "signature", "status", "error"), rows)


@app.command("groups")
def groups(route: RouteOpt = None, type_: TypeOpt = None) -> None:
    """Open dead letters counted by cause signature."""
    with command_state(get_settings()) as state, state.read_sessions() as session:
        found = state.deadletters.groups(session, DeadLetterFilter(route=route, type=type_))
    print_rows(
        ("count", "signature", "error class", "routes", "sample error"),
        [
            (
                str(g["count"]),
                g["signature"],
                g["error_class"],
                ",".join(g["routes"]),
                (g["sample_error"] or "")[:60],
            )
            for g in found
        ],
    )


@app.command("show")
def show(letter_id: Annotated[str, typer.Argument(help="Dead letter id.")]) -> None:
    """One dead letter with its event and every attempt."""
    try:
        with command_state(get_settings()) as state, state.read_sessions() as session:
            letter = state.deadletters.get(session, letter_id)
            detail = {
                **view(letter),
                "event": state.deadletters.event_of(session, letter),
                "history": [attempt_view(a) for a in state.deadletters.history(session, letter)],
            }
    except ProblemError as exc:
        raise fail(exc.detail) from None
    out().print_json(orjson.dumps(detail, default=str).decode())


@app.command("replay")
def replay(
    letter_id: Annotated[
        str | None, typer.Argument(help="One dead letter; or filter with the options.")
    ] = None,
    route: RouteOpt = None,
    type_: TypeOpt = None,
    signature: SignatureOpt = None,
    reason: ReasonOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 10_000,
) -> None:
    """Replay one dead letter, or every open one matching the filters, with a progress bar.

    A bulk replay is a job: interrupted (Ctrl-C, a crash), it loses nothing, and a running
    hub, or this command run again, finishes it.
    """
    settings = get_settings()
    with command_state(settings) as state:
        if letter_id:
            try:
                with state.sessions.begin() as session:
                    state.deadletters.replay(session, CLI, letter_id)
            except ProblemError as exc:
                raise fail(exc.detail) from None
            out().print(f"replayed {letter_id}")
            return
        request = ReplayRequest(
            route=route, type=type_, signature=signature, reason=reason, limit=limit
        )
        with state.sessions.begin() as session:
            total = (
                session.scalar(
                    select(func.count()).select_from(filtered(session, request).subquery())
                )
                or 0
            )
            job = jobs.create(
                session, "replay", request.model_dump(mode="json"), min(total, limit), "cli"
            )
            record(
                session,
                CLI,
                "deadletter.bulk_replay",
                "job",
                job.id,
                after=request.model_dump(mode="json"),
                detail=f"{job.total} dead letters",
            )
        state.committer.start()
        columns = (
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=out()) as progress:
            task = progress.add_task("replay", total=job.total)

            def advance(processed: int) -> None:
                progress.update(task, completed=processed)

            asyncio.run(state.jobs.run_one(job.id, advance))
        with state.read_sessions() as session:
            final = jobs.get(session, job.id, "replay")
        out().print(
            f"job {final.id}: {final.status}, {final.succeeded} replayed, {final.failed} skipped"
        )


@app.command("discard")
def discard(
    letter_id: Annotated[str, typer.Argument(help="Dead letter id.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the audit log.")],
) -> None:
    """Give up on a dead letter (a `block` route then lets its key go on)."""
    try:
        with command_state(get_settings()) as state, state.sessions.begin() as session:
            state.deadletters.discard(session, CLI, letter_id, reason)
    except ProblemError as exc:
        raise fail(exc.detail) from None
    out().print(f"discarded {letter_id}")
