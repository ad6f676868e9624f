"""The `accountree` command line: thin commands over the service functions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    parse_day,
    print_json,
    progress_bar,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.plugins import capability_modules

app = typer.Typer(
    name="accountree",
    help="B2B account intelligence: account hierarchies, KPIs rolled up every group, key accounts, ICP scores.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

CLI_MODULES = (
    "accountree.hierarchy.commands", "accountree.resolve.commands", "accountree.registry.commands",
    "accountree.kpi.commands", "accountree.scoring.commands", "accountree.kam.commands",
    "accountree.orchestration.commands", "accountree.api.commands", "accountree.bench.commands",
    "accountree.search", "accountree.leads.commands",
    "accountree.store.commands",
)


@app.command("import")
def import_command(
    bundle: Annotated[list[str], typer.Argument(help="Bundle folder, files, or TABLE=PATH pairs.")],
    preset: Annotated[str | None, typer.Option(help="Read raw CRM exports: salesforce or hubspot.")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping of your own headers (docs/mapping.md).")] = None,
    date_format: Annotated[str | None, typer.Option("--date-format", help="Force dmy or mdy for dd/mm dates.")] = None,
    decimal: Annotated[str | None, typer.Option(help="Force the decimal separator: ',' or '.'.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything, write nothing.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write every problem and warning found to this CSV file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse the import on warnings too (values not recognised).")] = False,
    bu: Annotated[str | None, typer.Option("--bu", help="Seller BU of this export: tags its deals, contacts, activities, campaigns, leads (a seller_bu column wins).")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a bundle of CSV / XLSX / Parquet files: all files are checked, then all written or none."""
    from accountree.errors import ConfigError, ImportValidationError
    from accountree.ingest import ImportOptions, import_bundle

    def action() -> None:
        if date_format not in (None, "dmy", "mdy"):
            raise ConfigError(f"--date-format must be dmy or mdy, not {date_format!r}")
        if decimal not in (None, ",", "."):
            raise ConfigError(f"--decimal must be ',' or '.', not {decimal!r}")
        if bu is not None and not bu.strip():
            raise ConfigError("--bu must name a seller BU, not an empty value", hint="e.g. --bu bu_software")
        options = ImportOptions(preset=preset, mapping=mapping, date_order=date_format, decimal=decimal, dry_run=dry_run,
                                strict=strict, bu=bu.strip() if bu else None)
        with workspace(workspace_) as ws, progress_bar() as bar:
            task = bar.add_task("importing", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            try:
                result = import_bundle(ws, bundle, options, progress)
            except ImportValidationError as err:
                if report:
                    _write_problem_report(report, err)
                raise
            if report:
                _write_problem_report(report, None, result.warnings)
            changed = not result.dry_run and any(f.inserted or f.updated for f in result.files)
            stale_hint = _stale_hint(ws) if changed else None
        if as_json:
            print_json({"import_id": result.import_id, "dry_run": result.dry_run, "files": result.files,
                        "warnings": result.warnings, "stale_hint": stale_hint})
            return
        rows = [{"table": f.table, "file": f.file, "rows": f"{f.rows:,}", "new": f"{f.inserted:,}",
                 "updated": f"{f.updated:,}", "same": f"{f.unchanged:,}", "warnings": f"{f.warnings:,}"} for f in result.files]
        title = "dry run: checked, nothing written" if result.dry_run else f"import #{result.import_id}"
        console.print(table_of(rows, title=title))
        if result.warnings:
            from accountree.ingest.report import print_warnings

            print_warnings(console, result.warnings)
        if stale_hint:
            console.print(f"[yellow]{stale_hint}[/]")

    run(as_json, action)


def _stale_hint(ws) -> str | None:
    """After an import that changed rows: the computed tables (hierarchy, KPIs, scores…) of the
    last build do not show them yet."""
    from accountree.build import imports_since_build

    if not imports_since_build(ws):
        return None
    return ("The hierarchy, KPIs, scores and key-account views are from before this import: run `accountree build` "
            "(or `accountree kpis refresh ACCOUNT_ID…` to refresh a few accounts' KPIs now).")


def _write_problem_report(path: Path, err, warnings: list | None = None) -> None:
    from dataclasses import fields, replace

    from accountree.export_formats import safe_cell
    from accountree.ingest.report import write_report

    def safe(record):  # the report is opened in a spreadsheet to fix the data: no bad value may run there
        return replace(record, **{f.name: safe_cell(getattr(record, f.name)) for f in fields(record)})

    write_report(path, [safe(p) for p in (err.problems if err else [])], [safe(w) for w in warnings or []])
    err_console.print(f"{'problem' if err else 'warning'} report written to {path}")


@app.command()
def status(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """What is in the workspace: tables, computed results, last import."""
    from accountree.status import workspace_status

    def show(info: dict[str, Any]) -> None:
        console.print(f"[bold]workspace[/] {info['workspace']} ([cyan]{info['engine']}[/], schema v{info['schema_version']}, "
                      f"reporting currency {info['reporting_currency']})")
        rows = [{"table": t, "rows": f"{n:,}"} for t, n in {**info["tables"], **info["computed"]}.items()]
        console.print(table_of(rows))
        last = info["last_import"]
        if last:
            console.print(f"last import #{last['import_id']} at {last['imported_at']} by {last['imported_by']}: "
                          f"{last['rows']:,} rows in {last['files']} file(s)")
        else:
            console.print("no import yet — try [bold]accountree demo[/] or [bold]accountree import FOLDER[/]")
        if info.get("imports_since_build"):
            console.print(f"[yellow]{info['imports_since_build']} import(s) since the last `accountree build`: "
                          "the computed tables do not show them yet[/]")

    run_on(workspace_, as_json, workspace_status, show)


@app.command("export")
def export_command(
    table: Annotated[str | None, typer.Argument(help="Table to export (see --list).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, json or parquet.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file [default: standard output].")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the exportable tables.")] = False,
    target: Annotated[str | None, typer.Option(help="With `crm`: hubspot or salesforce.")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="CSV: keep text starting with = + - @ as is (machine use; "
                                      "by default such cells get a leading ' so a spreadsheet never runs them).")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a table (bundle column names, header row) to CSV, JSON or Parquet.

    `export crm --target hubspot|salesforce` writes the import-ready CRM update file (scores,
    grades, tiers, group head and parent)."""
    from accountree.errors import ConfigError
    from accountree.export_formats import write_export
    from accountree.exports import all_exports, export_query

    def action() -> None:
        if table == "crm":
            from accountree.scoring.crm import export_crm_file

            if target not in ("hubspot", "salesforce"):
                raise ConfigError("export crm needs --target hubspot or --target salesforce")
            with workspace(workspace_) as ws:
                done = export_crm_file(ws, target, out or Path(f"crm_{target}.csv"), raw=raw)
            if as_json:
                print_json(done)
            else:
                err_console.print(f"{done['rows']:,} rows written to {done['file']} ({target} fields: {', '.join(done['fields'])})")
            return
        if list_ or table is None:
            exports = all_exports()
            if as_json:
                print_json([{"table": e.name, "description": e.description} for e in exports.values()])
            else:
                console.print(table_of([{"table": e.name, "description": e.description} for e in exports.values()]))
            return
        if fmt not in ("csv", "json", "parquet"):
            raise ConfigError(f"--format must be csv, json or parquet, not {fmt!r}")
        with workspace(workspace_) as ws:
            rows = write_export(ws, export_query(ws, table), fmt, out, raw=raw)  # type: ignore[arg-type]
        if out is not None:
            err_console.print(f"{rows:,} rows written to {out}")

    run(as_json, action)


@app.command()
def build(
    as_of: Annotated[str | None, typer.Option("--as-of", help=(
        "Date every stage computes at (YYYY-MM-DD) [default: today; with --stage, the last build's]."))] = None,
    stage: Annotated[list[str] | None, typer.Option(
        help="Run only these stages (repeat the option): registry, hierarchy, scores, kpis, kam, abm, leads, api.")] = None,
    engine: Annotated[str, typer.Option(
        help="Where the SQL stages run: 'workspace' (its own database) or 'spark' (needs accountree[spark]).")] = "workspace",
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", help="Spark master URL for --engine spark [default: local[*]].")] = None,
    lake: Annotated[str | None, typer.Option(
        "--lake", help=("With --engine spark: write the tables computed on Spark to this directory (or URL) as "
                        "Parquet, one directory per table, instead of landing them in the workspace."))] = None,
    land: Annotated[bool, typer.Option(
        "--land", help="With --lake: land the tables in the workspace too (and run the stages after them).")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute everything derived from the data: hierarchy, KPIs, roll-ups, scores."""
    from accountree.build import BuildOptions
    from accountree.build import build as run_build
    from accountree.errors import ConfigError

    def action() -> None:
        day = parse_day(as_of, "--as-of")
        if engine not in ("workspace", "spark"):
            raise ConfigError(f"--engine must be workspace or spark, not {engine!r}")
        if spark_master and engine != "spark":
            raise ConfigError("--spark-master needs --engine spark")
        if lake and engine != "spark":
            raise ConfigError("--lake needs --engine spark", hint="Add --engine spark (or export tables with accountree export).")
        if land and not lake:
            raise ConfigError("--land goes with --lake (without a lake the tables land anyway)")
        timings: list[dict[str, Any]] = []
        with workspace(workspace_) as ws, progress_bar() as bar:
            tasks: list[Any] = []

            def started(name: str, i: int, n: int) -> None:  # one bar per stage: done when the next starts
                for task in tasks:
                    bar.update(task, total=1, completed=1)
                tasks.append(bar.add_task(f"{name} ({i + 1}/{n})" if i < n else name, total=None))

            if engine == "spark":
                from accountree.spark_build import build_on_spark

                results = build_on_spark(ws, BuildOptions(as_of=day, stages=stage), master=spark_master,
                                         progress=started, lake=lake, land=land or not lake)
            else:
                results = run_build(ws, BuildOptions(as_of=day, stages=stage), started, timings)
        if as_json:
            print_json({**results, "stages": [{k: t[k] for k in ("name", "seconds", "rows")} for t in timings]})
            return
        for name, summary in results.items():
            console.print(f"[bold green]✓[/] {name}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
        if timings:  # a Spark build reports its times in the stages' summaries
            console.print(stage_table(timings))

    run(as_json, action)


def stage_table(timings: list[dict[str, Any]]):
    """Each stage's time and the rows of the tables it wrote, and the total."""
    rows = [{"stage": t["name"], "seconds": f"{t['seconds']:.2f}", "rows": f"{t['rows']:,}",
             "tables": len(t.get("tables", ()))} for t in timings]
    rows.append({"stage": "total", "seconds": f"{sum(t['seconds'] for t in timings):.2f}",
                 "rows": f"{sum(t['rows'] for t in timings):,}", "tables": sum(len(t.get("tables", ())) for t in timings)})
    return table_of(rows, title="build")


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(help="Number of accounts to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the generated bundle.")] = Path("accountree-demo"),
    reference_date: Annotated[str | None, typer.Option(help="Today's date for the data (YYYY-MM-DD).")] = None,
    no_build: Annotated[bool, typer.Option("--no-build", help="Generate and import only.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a realistic demo bundle, import it into the workspace and build it."""
    from accountree.build import BuildOptions
    from accountree.build import build as run_build
    from accountree.demo import generate_bundle
    from accountree.demo.abm import import_bu_exports
    from accountree.ingest import import_bundle
    from accountree.leads.route import route as route_leads
    from accountree.resolve.service import resolve as resolve_duplicates
    from accountree.status import workspace_status

    def action() -> None:
        day = parse_day(reference_date, "--reference-date", date.today())
        with progress_bar() as bar:
            task = bar.add_task("generating", total=None)
            result = generate_bundle(out, accounts=accounts, seed=seed, reference_date=day,
                                     progress=lambda s, d, t: bar.update(task, description=s, completed=d, total=t))
        with workspace(workspace_) as ws:
            with progress_bar() as bar:
                task = bar.add_task("importing", total=None)
                imported = import_bundle(ws, [str(result.out_dir)], None,
                                         lambda s, d, t: bar.update(task, description=s, completed=d, total=t))
                import_bu_exports(ws, result.out_dir)  # each BU's own export, with --bu (accountree.demo.abm)
            resolved = {} if no_build else resolve_duplicates(ws, user="demo")  # the review queue and merges
            built = {} if no_build else run_build(ws, BuildOptions(as_of=day))
            routed = {} if no_build else route_leads(ws)  # the Leads page's routing log (`accountree leads route`)
            admin = _demo_admin(ws)
            info = workspace_status(ws)
        if as_json:
            print_json({"bundle": str(result.out_dir), "import_id": imported.import_id, "resolve": resolved, "build": built,
                        "routing": routed,
                        "status": info})
            return
        console.print(f"[bold green]✓[/] demo bundle written to {result.out_dir} (ground truth in {result.truth_dir})")
        console.print(f"[bold green]✓[/] imported {imported.rows:,} rows into {info['workspace']}")
        if resolved:
            console.print(f"[bold green]✓[/] duplicates: {resolved['merged_records']:,} records merged, "
                          f"{resolved['review_pending']:,} pairs to review (`accountree review`)")
        for name, summary in built.items():
            console.print(f"[bold green]✓[/] {name}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
        console.print(table_of([{"table": t, "rows": f"{n:,}"} for t, n in {**info["tables"], **info["computed"]}.items()]))
        if routed:
            console.print(f"[bold green]✓[/] leads routed: {routed['leads routed']:,} leads, {routed['routes']:,} routes "
                          "(`accountree leads route`)")
        if admin:
            console.print(f"[bold green]✓[/] dashboard user [bold]{admin}[/] created (password from $ACCOUNTREE_ADMIN_PASSWORD)")

    run(as_json, action)


def _demo_admin(ws) -> str | None:
    """With $ACCOUNTREE_ADMIN_PASSWORD set and no user yet, the demo creates `admin` for the dashboard."""
    try:
        from accountree.api.commands import ensure_demo_admin
    except ImportError:  # the server extra is not installed
        return None
    return ensure_demo_admin(ws)


def _register_capabilities() -> None:
    for module in capability_modules(CLI_MODULES):
        module.register(app)


_register_capabilities()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
