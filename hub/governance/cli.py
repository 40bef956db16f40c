"""``crossdock governance …`` and ``crossdock contracts check``: the policy files and the
contract compatibility gate, for contract owners and CI (both exit 1 on a failure)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from hub.console import err, fail, out
from hub.contracts.registry import ContractLoadError, ContractRegistry
from hub.errors import ProblemError
from hub.governance.gate import Verdict, check_candidate, check_registry
from hub.governance.policies import PolicyError
from hub.governance.validation import POLICY_MODELS, Severity, check_governance, policy_json_schema
from hub.settings import get_settings

app = typer.Typer(
    help="Governance policies: owners, lifecycles, compatibility modes, SLAs, limits.",
    no_args_is_help=True,
)

GovernanceOption = Annotated[
    Path | None,
    typer.Option(
        "--path", "--governance", help="The governance folder. Default: CROSSDOCK_GOVERNANCE_PATH."
    ),
]
ContractsOption = Annotated[
    Path | None,
    typer.Option("--contracts", help="The contracts folder. Default: CROSSDOCK_CONTRACTS_PATH."),
]


@app.command("check")
def governance_check(path: GovernanceOption = None, contracts: ContractsOption = None) -> None:
    """Validate every policy file: its schema, its rules, and that policies and contract files
    name the same families and versions. Print every problem with file and pointer; exit 1
    if any."""
    settings = get_settings()
    report = check_governance(
        path or settings.governance_path, contracts or settings.contracts_path, date.today()
    )
    console = out()
    flagged = {f.path for f in report.findings}
    for checked in report.checked:
        if checked not in flagged:
            console.print(f"[green]ok[/green]       {escape(str(checked))}")
    for finding in report.findings:
        label = (
            "[red]error[/red]  "
            if finding.severity is Severity.ERROR
            else "[yellow]warning[/yellow]"
        )
        console.print(
            f"{label}  {escape(str(finding.path))}  {escape(finding.pointer or '/')}: "
            f"{escape(finding.message)}"
        )
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    console.print(
        f"{len(report.checked)} files, {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}",
        highlight=False,
    )
    raise typer.Exit(0 if report.ok else 1)


@app.command("schema")
def governance_schema(
    name: Annotated[
        str, typer.Argument(help=f"Which policy file: {', '.join(POLICY_MODELS)}.")
    ] = "contract-policy",
) -> None:
    """Print the JSON Schema of a kind of policy file."""
    if name not in POLICY_MODELS:
        raise fail(f"no policy schema {name!r}; known: {', '.join(POLICY_MODELS)}")
    print(json.dumps(policy_json_schema(name), indent=2, ensure_ascii=False))


def contracts_check(
    families: Annotated[
        list[str] | None, typer.Argument(help="Contract families (default: every one).")
    ] = None,
    candidate: Annotated[
        Path | None,
        typer.Option(
            "--candidate",
            help="Check this schema file as a new version of FAMILY instead (its x-crossdock "
            "or a single FAMILY argument names the family).",
        ),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="With --candidate: the version it would be.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
    contracts: ContractsOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Check every contract version against the earlier versions its family's compatibility
    mode names (governance/contracts/<family>.yaml); print every change with its pointer and
    whom it breaks. Exit 1 if a version breaks what its mode protects."""
    settings = get_settings()
    try:
        registry = ContractRegistry.load(
            contracts or settings.contracts_path, governance or settings.governance_path
        )
    except (ContractLoadError, PolicyError) as exc:
        raise fail(escape(str(exc))) from None
    if candidate is not None:
        verdicts = [_candidate_verdict(registry, candidate, families or [], version)]
    else:
        unknown = [f for f in families or [] if f not in registry.families]
        if unknown:
            raise fail(escape(f"no contract family {', '.join(unknown)}"))
        verdicts = check_registry(registry, families or [])
    if as_json:
        print(json.dumps([v.as_dict() for v in verdicts], indent=2, ensure_ascii=False))
    else:
        for verdict in verdicts:
            _print_verdict(verdict)
    raise typer.Exit(0 if all(v.compatible for v in verdicts) else 1)


def _candidate_verdict(
    registry: ContractRegistry, path: Path, families: list[str], version: str | None
) -> Verdict:
    try:
        schema = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise fail(escape(f"{path}: {exc}")) from None
    meta = schema.get("x-crossdock") if isinstance(schema, dict) else None
    named = meta.get("family") if isinstance(meta, dict) else None
    family_name = families[0] if len(families) == 1 else named
    if not isinstance(family_name, str) or len(families) > 1:
        raise fail("name the candidate's family: one FAMILY argument, or x-crossdock.family")
    family = registry.families.get(family_name)
    if family is None:
        raise fail(escape(f"no contract family {family_name!r}"))
    try:
        return check_candidate(family, schema, version)
    except ProblemError as exc:
        err.print(f"[red]error:[/red] {escape(str(path))}: {escape(exc.detail)}")
        for violation in exc.extensions.get("violations", []):
            err.print(
                f"  {violation['pointer']}  [{violation['rule']}]  {violation['message']}",
                markup=False,
            )
        raise typer.Exit(1) from None


def _print_verdict(verdict: Verdict) -> None:
    console = out()
    label = "[green]ok[/green]  " if verdict.compatible else "[red]FAIL[/red]"
    console.print(
        f"{label}  {verdict.family} {verdict.version}  ({verdict.mode})  {escape(verdict.detail)}",
        highlight=False,
    )
    judged = {id(c) for c in verdict.judged(verdict.mode)}
    for comparison in verdict.comparisons:
        for change in comparison.changes:
            forbidden = id(comparison) in judged and change.breaks_under(verdict.mode)
            mark = "[red]✗[/red]" if forbidden else "·"
            where = f"  at {', '.join(change.data_paths)}" if change.data_paths else ""
            console.print(
                f"      {mark} vs {comparison.against}  {escape(change.pointer)}  "
                f"{change.kind}  breaks {change.breaks}: {escape(change.message)}"
                f"{escape(where)}",
                highlight=False,
            )
