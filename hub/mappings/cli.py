"""``crossdock mappings …``: run mapping test vectors and list mappings, for mapping authors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.console import fail, out, print_rows
from hub.mappings.errors import MappingLoadError
from hub.mappings.loader import describe_endpoint
from hub.mappings.registry import MappingRegistry
from hub.mappings.vectors import run_tests
from hub.settings import get_settings

app = typer.Typer(
    help="Mappings: native payloads to canonical messages, and between contract versions.",
    no_args_is_help=True,
)

DirectoryOption = Annotated[
    Path | None,
    typer.Option("--dir", help="The mappings folder. Default: CROSSDOCK_MAPPINGS_PATH (mappings)."),
]


def _registry(directory: Path | None) -> MappingRegistry:
    try:
        return MappingRegistry.load(directory or get_settings().mappings_path)
    except MappingLoadError as exc:
        raise fail(escape(str(exc))) from None


@app.command("test")
def run_vectors(
    names: Annotated[
        list[str] | None, typer.Argument(help="Mapping names (default: every mapping).")
    ] = None,
    directory: DirectoryOption = None,
) -> None:
    """Run the test vectors of the mappings; print each, with a diff when one fails. Exit 1
    if any fails or a mapping does not load."""
    registry = _registry(directory)
    unknown = [name for name in names or [] if name not in registry]
    if unknown:
        known = ", ".join(registry.names) or "none"
        raise fail(escape(f"no mapping named {', '.join(unknown)}; known: {known}"))
    console = out()
    failed = 0
    results = run_tests(registry, names or None)
    for result in results:
        label = escape(f"{result.mapping}: {result.name}")
        if result.passed:
            console.print(f"[green]ok[/green]    {label}")
            continue
        failed += 1
        console.print(f"[red]FAIL[/red]  {label}")
        for line in result.detail.splitlines():
            console.print(f"        {line}", markup=False, highlight=False)
    console.print(f"{len(results) - failed} passed, {failed} failed", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command("list")
def list_mappings(directory: DirectoryOption = None) -> None:
    """List the mappings: what each maps from and to, and how many vectors it carries."""
    registry = _registry(directory)
    rows = [
        (
            mapping.name,
            describe_endpoint(mapping.source),
            describe_endpoint(mapping.target),
            str(len(mapping.tests)),
            str(mapping.path),
        )
        for mapping in registry
    ]
    print_rows(("name", "from", "to", "tests", "file"), rows)
