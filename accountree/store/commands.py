"""`accountree dump` and `accountree restore`: move a workspace between engines (DuckDB ⇄ PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from accountree.console import JsonOption, WorkspaceOption, console, print_json, run, run_on, workspace


def dump(
    folder: Annotated[Path, typer.Argument(help="New folder for the dump (Parquet files + manifest.json).")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write every table of the workspace (users, edits, migration state included) into FOLDER."""
    from accountree.store.dump import dump_workspace

    def action(ws) -> dict[str, Any]:
        manifest = dump_workspace(ws, folder)
        return {"folder": str(folder), "tables": len(manifest["tables"]),
                "rows": sum(t["rows"] for t in manifest["tables"]), "schema_version": manifest["schema_version"],
                "engine": manifest["engine"]}

    def show(result: dict[str, Any]) -> None:
        console.print(f"[bold green]✓[/] {result['tables']} tables, {result['rows']:,} rows dumped into "
                      f"{result['folder']} (schema {result['schema_version']}, from {result['engine']})")

    run_on(workspace_, as_json, action, show)


def restore(
    folder: Annotated[Path, typer.Argument(help="A folder written by `accountree dump`.")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore a dump into a new, empty workspace (any engine): all tables or nothing."""
    from accountree.store.dump import read_manifest, restore_workspace

    def action() -> None:
        read_manifest(folder)  # a dump from a newer schema, or damaged, is refused before the workspace is opened
        with workspace(workspace_) as ws:
            result = restore_workspace(ws, folder)
        if as_json:
            print_json(result)
        else:
            console.print(f"[bold green]✓[/] {result['tables']} tables, {result['rows']:,} rows restored "
                          f"(schema {result['schema_version']}, dumped from {result['from_engine']})")

    run(as_json, action)


def register(app: typer.Typer) -> None:
    app.command("dump")(dump)
    app.command("restore")(restore)
