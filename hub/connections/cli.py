"""``crossdock connectors …`` and ``crossdock connections …``: for authors and operators."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import orjson
import typer

from hub.audit.service import CLI, record
from hub.connections.registry import ENTRY_POINT_GROUP, ConnectorRegistry
from hub.console import command_state, fail, out, print_rows
from hub.errors import ProblemError
from hub.settings import get_settings

connectors_app = typer.Typer(help="Installed connectors.", no_args_is_help=True)
connections_app = typer.Typer(help="Configured connections.", no_args_is_help=True)

_CONFORMANCE_MODULE = """\
# Written by `crossdock connectors test {slug}`: the SDK conformance suite for one connector.
from connectors.sdk.testing import ConnectorConformance
from {module} import {name}


class TestConformance(ConnectorConformance):
    harness = {name}
"""


@connectors_app.command("list")
def list_connectors() -> None:
    """Connectors found through the `crossdock.connectors` entry points."""
    registry = ConnectorRegistry.discover()
    sources = {
        ep.name: (ep.dist.name if ep.dist else "?") for ep in entry_points(group=ENTRY_POINT_GROUP)
    }
    rows = [
        (
            slug,
            connector.manifest.version,
            ",".join(connector.manifest.kinds),
            "yes" if connector.manifest.sends else "",
            "yes" if connector.manifest.receives else "",
            "yes" if connector.manifest.polls else "",
            sources.get(slug, "?"),
        )
        for slug, connector in registry.connectors.items()
    ]
    print_rows(("slug", "version", "kinds", "sends", "receives", "polls", "package"), rows)


@connectors_app.command("test")
def run_conformance(
    slug: Annotated[str, typer.Argument(help="The connector to test.")],
    pytest_args: Annotated[
        list[str] | None, typer.Argument(help="Passed on to pytest, after `--`.")
    ] = None,
) -> None:
    """Run the SDK conformance suite against an installed connector and its harness."""
    connector = ConnectorRegistry.discover().get(slug)
    if connector is None:
        raise fail(f"no connector {slug!r} is installed (see `crossdock connectors list`)")
    if not connector.harness or ":" not in connector.harness:
        raise fail(
            f"the {slug} connector names no conformance harness; set its class attribute "
            '`harness = "package.module:HarnessClass"` (see docs/connectors.md)'
        )
    try:
        import pytest  # noqa: F401
    except ImportError:
        raise fail("the conformance suite needs pytest: pip install 'crossdock[testing]'") from None
    module, name = connector.harness.split(":", 1)
    with tempfile.TemporaryDirectory(prefix="crossdock-conformance-") as directory:
        test_file = Path(directory) / f"test_{slug.replace('-', '_')}_conformance.py"
        test_file.write_text(_CONFORMANCE_MODULE.format(slug=slug, module=module, name=name))
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-p",
            "no:cacheprovider",
            "--rootdir",
            directory,
            "-W",
            "error",
            *(pytest_args or ["-q"]),
        ]
        raise typer.Exit(subprocess.call(command, cwd=directory))


@connections_app.command("list")
def list_connections() -> None:
    """Connections, with their connector and polling state."""
    with command_state(get_settings()) as state, state.read_sessions() as session:
        rows = [
            (
                c.name,
                c.connector,
                c.breaker_state,
                f"{c.poll_interval_seconds:g}s" if c.poll_interval_seconds else "",
                c.poll_cursor or "",
                c.last_poll_error or "",
            )
            for c in state.connections.list(session, None, 10_000)
        ]
    print_rows(("name", "connector", "breaker", "polls", "cursor", "last poll error"), rows)


@connections_app.command("check")
def check_connection(name: Annotated[str, typer.Argument(help="Connection id or name.")]) -> None:
    """Run the connector's health check; exit 1 if it fails."""
    with command_state(get_settings()) as state:
        try:
            with state.read_sessions() as session:
                row = state.connections.get(session, name)
                session.expunge(row)
        except ProblemError as exc:
            raise fail(exc.detail) from None
        result = asyncio.run(state.connections.check(row))
    out().print_json(
        orjson.dumps(
            {"ok": result.ok, "detail": result.detail, "latency_ms": result.latency_ms}
        ).decode()
    )
    if not result.ok:
        raise typer.Exit(1)


@connections_app.command("poll")
def poll_connection(name: Annotated[str, typer.Argument(help="Connection id or name.")]) -> None:
    """Poll a connection now (when no other process holds its poll lease)."""
    with command_state(get_settings()) as state:
        try:
            with state.read_sessions() as session:
                row = state.connections.get(session, name)
                connection_id, cursor_before = row.id, row.poll_cursor
        except ProblemError as exc:
            raise fail(exc.detail) from None

        async def run() -> dict[str, object]:
            state.committer.start()
            try:
                report = await state.poller.poll(connection_id, force=True)
            finally:
                await state.inbound.aclose()
            return report.__dict__

        report = asyncio.run(run())
        if report["claimed"]:
            # The poll commits page by page as it goes; its audit entry follows, with the
            # cursor it started from and where it got to.
            with state.sessions.begin() as session:
                cursor_after = state.connections.get(session, connection_id).poll_cursor
                record(
                    session,
                    CLI,
                    "connection.poll",
                    "connection",
                    connection_id,
                    before={"cursor": cursor_before},
                    after={"cursor": cursor_after, **report},
                    detail=str(report["error"]) if report["error"] else None,
                )
    out().print_json(orjson.dumps(report).decode())
    if not report["claimed"]:
        raise fail("another process is polling this connection; try again shortly")
    if report["error"]:
        raise typer.Exit(1)
