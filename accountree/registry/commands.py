"""`accountree registry import | attach | status`: thin shells over the registry services."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    parse_day,
    print_json,
    progress_bar,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.store import Workspace

registry_app = typer.Typer(help="Company registries: GLEIF, D&B family trees, INSEE SIRENE.", no_args_is_help=True)

KindArgument = Annotated[str, typer.Argument(help="gleif, dnb or sirene (the file layout is recognised from the header).")]
MatchNamesOption = Annotated[bool, typer.Option(
    "--match-names", help="Also attach accounts without the identifier by exact normalised name + country "
                          "(unique on both sides).")]
CreateOption = Annotated[str, typer.Option(
    "--create-accounts",
    help="Registry entities without an account become registry-only accounts: groups (members of your "
         "accounts' groups), all, or none.")]


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    attached = ", ".join(f"{k} {v:,}" for k, v in summary["attached"].items())
    kinds = ", ".join(f"{k} {v:,}" for k, v in summary["discrepancies"].items()) or "none"
    return [
        f"records and link ends: {summary['nodes']:,} ({attached})",
        f"registry-only accounts: {summary['registry_only_created']:,} created, "
        f"{summary['registry_only_updated']:,} refreshed, {summary['superseded']:,} superseded by an account "
        "with the same identifier",
        f"identifiers filled on accounts: {summary['identifiers_filled']:,}",
        f"tree links in relationships: {summary['relationships']:,} "
        f"(chains completed to the declared ultimate parent: {summary['chains_completed']:,})",
        f"discrepancies: {kinds}",
    ]


@registry_app.command("import")
def import_command(
    kind: KindArgument,
    files: Annotated[list[str], typer.Argument(help="Registry files: CSV, CSV in .zip or .gz, XLSX.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the records when the file carries none "
                                              "(YYYY-MM-DD) [default: a date in the file name].")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="A bad row aborts the import (default: skipped and "
                                         "reported).")] = False,
    create_accounts: CreateOption = "groups",
    match_names: MatchNamesOption = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import GLEIF, D&B or SIRENE files: records kept with source and date, attached to your accounts."""
    from accountree.registry.importer import import_registry

    def action() -> None:
        day = parse_day(as_of)
        with workspace(workspace_) as ws, progress_bar() as bar:
            task = bar.add_task("importing", total=None)
            result = import_registry(
                ws, kind.lower(), files, as_of=day, strict=strict, create_accounts=create_accounts,
                match_names=match_names,
                progress=lambda stage, done, total: bar.update(task, description=stage, completed=done,
                                                               total=total or None))
        if as_json:
            print_json({"source": result.source, "import_id": result.import_id, "seconds": result.seconds,
                        "files": result.files, "problems": result.problems[:1000], "reconcile": result.reconcile})
            return
        rows = [{"file": f.file, "format": f.format, "rows": f"{f.rows:,}", "new": f"{f.inserted:,}",
                 "updated": f"{f.updated:,}", "same": f"{f.unchanged + f.older:,}", "bad rows": f"{f.problem_count:,}",
                 "rows/s": f"{f.rows / f.seconds:,.0f}" if f.seconds else ""} for f in result.files]
        console.print(table_of(rows, title=f"registry import #{result.import_id} ({result.source})"))
        for line in _summary_lines(result.reconcile):
            console.print(f"[bold green]✓[/] {line}")
        if result.problems:
            shown = result.problems[:20]
            console.print(table_of([{"file": p.file, "row": p.row, "column": p.column, "value": p.value,
                                     "expected": p.expected} for p in shown],
                                   title=f"{sum(f.problem_count for f in result.files):,} bad row(s) skipped"))
            if len(result.problems) > len(shown):
                console.print("… use --json for all of them, or --strict to refuse files with bad rows")

    run(as_json, action)


@registry_app.command("attach")
def attach_command(
    sources: Annotated[list[str] | None, typer.Argument(help="Registries to re-attach [default: all stored].")] = None,
    create_accounts: Annotated[str | None, typer.Option(
        "--create-accounts", help="groups, all or none [default: as at the source's last import].")] = None,
    match_names: Annotated[bool | None, typer.Option(
        "--match-names/--no-match-names", help="[default: as at the source's last import]")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach stored registry records again (after a CRM import or merges), without re-reading files."""
    from accountree.registry.service import reattach

    def compute(ws: Workspace) -> dict[str, Any]:
        return reattach(ws, [s.lower() for s in sources or []] or None, create_accounts=create_accounts,
                        match_names=match_names)

    def show(results: dict[str, Any]) -> None:
        if not results:
            console.print("no registry records stored yet — try [bold]accountree registry import gleif FILE[/]")
        for source, summary in results.items():
            console.print(f"[bold]{source}[/]")
            for line in _summary_lines(summary):
                console.print(f"  [bold green]✓[/] {line}")

    run_on(workspace_, as_json, compute, show)


@registry_app.command("status")
def status_command(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Registry records per source, attach rates, registry-only accounts, tree links, discrepancies."""
    from accountree.registry.service import registry_status

    def show(info: dict[str, Any]) -> None:
        if not info["sources"]:
            console.print("no registry records yet — try [bold]accountree registry import gleif FILE[/]")
            return
        names = [row["source"] for row in info["sources"]]
        metrics = [k for k in info["sources"][0] if k != "source"]
        rows = [{"": m.replace("_", " "), **{row["source"]: _cell(row[m]) for row in info["sources"]}} for m in metrics]
        console.print(table_of(rows, title="registries", columns=["", *names]))
        rate = info["crm_coverage"]
        console.print(f"CRM accounts known to a registry: {info['crm_accounts_in_a_registry']:,} of "
                      f"{info['crm_accounts']:,}" + (f" ({rate:.1%})" if rate is not None else ""))

    run_on(workspace_, as_json, registry_status, show)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)[:19]


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
