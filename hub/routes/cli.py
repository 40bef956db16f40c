"""``crossdock routes …``: the same operations as ``/v1/routes``, on the database directly."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError

from hub.audit.service import CLI
from hub.console import command_state, fail, out, print_rows
from hub.deliveries.policy import RetryPolicy
from hub.errors import ProblemError
from hub.routes.schemas import RouteCreate, RouteUpdate
from hub.settings import get_settings

app = typer.Typer(help="Routes: which messages go to which connection.", no_args_is_help=True)


def _show(route: dict[str, Any]) -> None:
    out().print_json(orjson.dumps(route, default=str).decode())


def _retry(values: dict[str, float | int | None]) -> RetryPolicy | None:
    given = {k: v for k, v in values.items() if v is not None}
    return RetryPolicy(**given) if given else None


RetryOption = Annotated[float | None, typer.Option()]
PinsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--contract-version",
        help="Repeat: FAMILY=PIN, e.g. `reservation=1` (any 1.x; others converted) or "
        "`reservation=1.0` (exactly 1.0).",
    ),
]


def _pins(values: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for value in values:
        family, sep, pin = value.partition("=")
        if not sep or not family or not pin:
            raise fail(f"--contract-version {value!r}: write FAMILY=PIN, e.g. reservation=1")
        pins[family.strip()] = pin.strip()
    return pins


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Unique route name.")],
    connection: Annotated[str, typer.Option(help="Target connection id or name.")],
    types: Annotated[
        list[str], typer.Option("--type", help="Repeat: `receipt.*`, `po_release.released`, `*`.")
    ],
    filter_: Annotated[
        str | None, typer.Option("--filter", help="JMESPath over the CloudEvent.")
    ] = None,
    ordering_key: Annotated[str, typer.Option(help="JMESPath over the CloudEvent.")] = "subject",
    on_dead_letter: Annotated[str, typer.Option(help="block or skip")] = "block",
    max_attempts: Annotated[int | None, typer.Option()] = None,
    initial_delay: RetryOption = None,
    multiplier: RetryOption = None,
    max_delay: RetryOption = None,
    jitter: RetryOption = None,
    max_age: RetryOption = None,
    mapping: Annotated[
        str | None, typer.Option(help="A mapping in mappings/ to the target's own shape.")
    ] = None,
    contract_versions: PinsOption = None,
    paused: Annotated[bool, typer.Option(help="Create it paused.")] = False,
) -> None:
    """Create a route."""
    pins = _pins(contract_versions or [])
    try:
        body = RouteCreate(
            name=name,
            connection=connection,
            types=types,
            filter=filter_,
            ordering_key=ordering_key,
            on_dead_letter=on_dead_letter,
            retry=_retry(
                {
                    "max_attempts": max_attempts,
                    "initial_delay": initial_delay,
                    "multiplier": multiplier,
                    "max_delay": max_delay,
                    "jitter": jitter,
                    "max_age": max_age,
                }
            ),
            mapping=mapping,
            contract_versions=pins,
            paused=paused,
        )
        with command_state(get_settings()) as state, state.sessions.begin() as session:
            route = state.routes.create(session, CLI, body)
            _show(state.routes.view(session, route))
    except (ProblemError, ValidationError) as exc:
        raise fail(getattr(exc, "detail", str(exc))) from None


@app.command("list")
def list_routes() -> None:
    """List routes."""
    with command_state(get_settings()) as state, state.read_sessions() as session:
        rows = []
        for route in state.routes.list(session, None, 10_000):
            view = state.routes.view(session, route)
            rows.append(
                (
                    view["name"],
                    view["connection"],
                    ",".join(view["types"]),
                    view["filter"] or "",
                    view["ordering_key"],
                    view["on_dead_letter"],
                    ",".join(f"{f}={p}" for f, p in view["contract_versions"].items()),
                    "paused" if view["paused"] else "active",
                )
            )
    print_rows(
        (
            "name",
            "connection",
            "types",
            "filter",
            "ordering key",
            "on dead letter",
            "versions",
            "state",
        ),
        rows,
    )


@app.command("show")
def show(route: Annotated[str, typer.Argument(help="Route id or name.")]) -> None:
    """Show one route, with its version pins."""
    try:
        with command_state(get_settings()) as state, state.read_sessions() as session:
            _show(state.routes.view(session, state.routes.get(session, route)))
    except ProblemError as exc:
        raise fail(exc.detail) from None


@app.command("update")
def update(
    route: Annotated[str, typer.Argument(help="Route id or name.")],
    types: Annotated[list[str] | None, typer.Option("--type")] = None,
    filter_: Annotated[str | None, typer.Option("--filter", help="'' removes it.")] = None,
    ordering_key: Annotated[str | None, typer.Option()] = None,
    on_dead_letter: Annotated[str | None, typer.Option()] = None,
    contract_versions: PinsOption = None,
    no_contract_versions: Annotated[
        bool, typer.Option("--no-contract-versions", help="Remove every version pin.")
    ] = False,
) -> None:
    """Change a route's types, filter, ordering key, dead-letter behaviour or version pins
    (`--contract-version` replaces every pin)."""
    pins = {} if no_contract_versions else _pins(contract_versions) if contract_versions else None
    try:
        body = RouteUpdate(
            types=types,
            filter=filter_,
            ordering_key=ordering_key,
            on_dead_letter=on_dead_letter,
            contract_versions=pins,
        )
        with command_state(get_settings()) as state, state.sessions.begin() as session:
            _show(state.routes.view(session, state.routes.update(session, CLI, route, body)))
    except (ProblemError, ValidationError) as exc:
        raise fail(getattr(exc, "detail", str(exc))) from None


def _pause(route: str, paused: bool) -> None:
    try:
        with command_state(get_settings()) as state, state.sessions.begin() as session:
            row = state.routes.set_paused(session, CLI, route, paused)
            out().print(f"{row.name}: {'paused' if row.paused else 'active'}")
    except ProblemError as exc:
        raise fail(exc.detail) from None


@app.command("pause")
def pause(route: Annotated[str, typer.Argument(help="Route id or name.")]) -> None:
    """Pause a route: its deliveries wait; nothing is lost."""
    _pause(route, True)


@app.command("resume")
def resume(route: Annotated[str, typer.Argument(help="Route id or name.")]) -> None:
    """Resume a paused route."""
    _pause(route, False)


@app.command("delete")
def delete(route: Annotated[str, typer.Argument(help="Route id or name.")]) -> None:
    """Delete a route that has nothing left to deliver."""
    try:
        with command_state(get_settings()) as state, state.sessions.begin() as session:
            state.routes.delete(session, CLI, route)
        out().print(f"deleted {route}")
    except ProblemError as exc:
        raise fail(exc.detail) from None
