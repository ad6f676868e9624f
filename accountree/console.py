"""What every command shares: the workspace and --json options, output, and error handling.

Commands are thin: they parse options, call one service function, and print its result
(`run_on` does all of that for the usual command). `run` turns an `AccountreeError` into a clear
message and its exit code, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accountree.errors import AccountreeError, ConfigError, WorkspaceError, missing_dependency
from accountree.store import Workspace, open_workspace
from accountree.store.duckdb_engine import DEFAULT_MEMORY_LIMIT

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

T = TypeVar("T")

WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", envvar="ACCOUNTREE_WORKSPACE", show_envvar=True,
        help="DuckDB file path or postgresql:// URL [default: ./accountree.duckdb]",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return str(value)


def parse_day(value: str | None, option: str = "--as-of", default: date | None = None) -> date | None:
    """A date option's value (YYYY-MM-DD), `default` when not given; a clear error otherwise."""
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


def print_json(data: Any) -> None:
    from accountree.numbers import tidy  # money to the cent, no float noise

    sys.stdout.write(json.dumps(tidy(data), default=_default, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def workspace(location: str | None, *, through_server: bool = True) -> Iterator[Workspace]:
    """The workspace, closed at the end; a DuckDB file held by `accountree serve` through it."""
    ws = open_workspace(location, through_server=through_server)
    try:
        yield ws
    finally:
        ws.close()


def run(as_json: bool, action: Callable[[], Any]) -> Any:
    """Run a command body; user errors become a message (or JSON) and the error's exit code."""
    try:
        try:
            return action()
        except duckdb.OutOfMemoryException as err:  # the workspace's bounded memory (DuckDBEngine)
            raise WorkspaceError(
                "the work needed more memory than DuckDB is allowed; nothing was written "
                f"({str(err).splitlines()[0]})",  # its other lines are SQL settings a user cannot pass
                hint="Raise the limit, e.g. ACCOUNTREE_MEMORY_LIMIT=4GB (default "
                     f"{DEFAULT_MEMORY_LIMIT}; beyond it DuckDB spills to disk where it can).") from err
    except ModuleNotFoundError as err:  # an optional part not installed: the pip line, never a traceback
        user_error = missing_dependency(err)
        if user_error is None:
            raise
        if as_json:
            print_json(user_error.to_dict())
        else:
            show_error(user_error)
        raise typer.Exit(user_error.exit_code) from None
    except AccountreeError as err:
        if as_json:
            print_json(err.to_dict())
        else:
            show_error(err)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted; nothing more was written[/]")
        raise typer.Exit(130) from None


def run_on(
    location: str | None, as_json: bool, compute: Callable[[Workspace], T], show: Callable[[T], None]
) -> T:
    """The usual command body: open the workspace, `compute` on it, close it, then print the result.

    The result is printed as JSON with --json, else by `show`. All of it runs under `run`, so user
    errors become a message (or JSON) and the error's exit code.
    """

    def action() -> T:
        with workspace(location) as ws:
            result = compute(ws)
        if as_json:
            print_json(result)
        else:
            show(result)
        return result

    return run(as_json, action)


def show_error(err: AccountreeError) -> None:
    err_console.print(f"[bold red]Error:[/] {escape(err.message)}")
    problems = getattr(err, "problems", None)
    if problems:
        if hasattr(problems[0], "file"):
            table = Table("file", "row", "column", "value", "expected", title=f"{getattr(err, 'total', len(problems))} problem(s)")
            for p in problems[:200]:
                table.add_row(*[escape(v) for v in (p.file, str(p.row or ""), p.column or "",
                                                     "" if p.value is None else str(p.value), p.expected)])
            err_console.print(table)
            if len(problems) > 200:
                err_console.print(f"… and {len(problems) - 200} more (use --report FILE or --json for all of them)")
        else:
            for p in problems:
                err_console.print(f"  - {escape(str(p))}")
    if err.hint:
        err_console.print(f"[dim]{escape(err.hint)}[/]")


def progress_bar(transient: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=transient, disable=not err_console.is_terminal,
    )


def cell(value: Any) -> str:
    """A value as a terminal shows it: amounts with thousands separators and cents, small ratios
    with four significant digits (`88118.40000000001` → `88,118.40`, `0.29634787` → `0.2963`)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


def table_of(rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None) -> Table:
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*[escape(cell(row.get(c))) for c in columns])
    return table
