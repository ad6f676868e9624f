"""`accountree kpis rules|refresh|account|group|cross-sell`: thin shells over `accountree.kpi`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    parse_day,
    print_json,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.store import Workspace

kpis_app = typer.Typer(help="KPI rules, incremental refresh, one account's or group's figures, cross-sell.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(kpis_app, name="kpis")


def _show(data: Any, columns: list[str] | None = None) -> None:
    """A list as a table; a dict as field / value rows, then each of its lists (an account's
    products, its status history, a group's children) as a table of its own."""
    if isinstance(data, list):
        console.print(table_of(data, columns=columns))
        return
    console.print(table_of([{"field": k, "value": v} for k, v in data.items() if not isinstance(v, list)]))
    for key, rows in data.items():
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            console.print(table_of(rows, title=key.replace("_", " ")))


@kpis_app.command("rules")
def rules_command(
    file: Annotated[Path | None, typer.Argument(help="YAML with the rules to change; omit to show the rules in force.")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the KPI rules in force, or save a workspace's overrides (validated first)."""
    from accountree.errors import ConfigError
    from accountree.kpi.rules import load_rules, save_rules

    def compute(ws: Workspace) -> dict[str, Any]:
        if file is None:
            return load_rules(ws).model_dump()
        if not file.is_file():
            raise ConfigError(f"no rules file at {file}", hint="Pass a YAML file (see accountree/kpi/rules.yaml).")
        return save_rules(ws, file.read_text(encoding="utf-8")).model_dump()

    def show(data: dict[str, Any]) -> None:
        import yaml

        console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        if file is not None:
            console.print("[bold green]✓[/] saved; run `accountree build` to apply")

    run_on(workspace_, as_json, compute, show)


@kpis_app.command("refresh")
def refresh_command(
    account_ids: Annotated[list[str], typer.Argument(help="Accounts whose deals, activities or links changed.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD [default: the last build's].")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the KPIs of these accounts and of every group they belong to (and the API's read
    model rows they show in, when that model was current)."""
    from accountree.kpi.pipeline import refresh_accounts

    def action() -> None:
        day = parse_day(as_of)
        from accountree.changes import changing

        # the change announced: the API's read model (its account 360s and trees show KPIs) follows
        with workspace(workspace_) as ws, changing(ws, account_ids, groups=True, by="kpis", as_of=day):
            result = refresh_accounts(ws, account_ids, day)
        print_json(result) if as_json else _show(result)

    run(as_json, action)


@kpis_app.command("account")
def account_command(account_id: str, workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """One account's KPIs, products and status history."""
    from accountree.kpi.service import account_kpis
    from accountree.search import resolve  # an id, or a name when it names one account

    run_on(workspace_, as_json, lambda ws: account_kpis(ws, resolve(ws, account_id)), _show)


@kpis_app.command("group")
def group_command(account_id: str, workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Roll-up of an account's subtree (any level): consolidated and ownership-weighted."""
    from accountree.kpi.service import group_rollup
    from accountree.search import resolve  # an id, or a name when it names one account

    run_on(workspace_, as_json, lambda ws: group_rollup(ws, resolve(ws, account_id)), _show)


@kpis_app.command("cross-sell")
def cross_sell_command(
    group_id: Annotated[str | None, typer.Argument(help="Any account of the group [default: all groups].")] = None,
    limit: Annotated[int, typer.Option(help="Targets to show.")] = 20,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cross-sell targets, best first, with the reason."""
    from accountree.kpi.service import cross_sell
    from accountree.search import resolve  # an id, or a name when it names one account

    run_on(workspace_, as_json, lambda ws: cross_sell(ws, resolve(ws, group_id) if group_id else None, limit),
           lambda rows: _show(rows, ["score", "account_id", "name", "icp_grade", "reason"]))


@kpis_app.command("transitions")
def transitions_command(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD) [default: all history].")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD) [default: today].")] = None,
    groups: Annotated[bool, typer.Option("--groups", help="Group statuses instead of account statuses.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Status changes between builds, counted by from → to (e.g. Opportunity → Customer)."""
    from accountree.kpi.service import transitions

    def compute(ws: Workspace) -> list[dict[str, Any]]:
        return transitions(ws, parse_day(since, "--since"), parse_day(until, "--until"), "group" if groups else "account")

    def show(rows: list[dict[str, Any]]) -> None:
        if rows:
            _show(rows)
        else:
            console.print("no status change recorded in that period (statuses change between builds at "
                          "different dates: `accountree build --as-of …`)")

    run_on(workspace_, as_json, compute, show)
