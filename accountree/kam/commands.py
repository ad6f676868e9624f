"""KAM commands: `map`, `alerts` / `alerts ack`, and `kam coverage|matrix|committee|meddic|role|designate|settings`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    print_json,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.store import Workspace

_STRENGTH = {"strong": "green", "medium": "yellow", "weak": "dark_orange", "none": "bright_black"}


def _label(person: dict[str, Any]) -> str:
    name = person["name"] or person["contact_id"]
    details = [person["title"] or "", person["buying_role"] or ""]
    if person["left_company"]:
        extra = " · ".join(d for d in [*details, f"left {person['end_date'].isoformat()}"] if d)
        return f"[bright_black][strike]{name}[/strike] — {extra}[/]"
    last = person["last_interaction"]
    parts = [f"[bold]{name}[/]" + (f" — {details[0]}" if details[0] else "")]
    if details[1]:
        parts.append(f"[cyan]{details[1]}[/]")
    parts.append(f"[{_STRENGTH[person['strength']]}]{person['strength']}[/]")
    parts.append(f"last {last.isoformat()}" if last else "no interaction")
    return " · ".join(parts)


def _grow(node: Tree, people: list[dict[str, Any]]) -> None:
    for person in sorted(people, key=lambda p: (p["left_company"], p["name"] or "")):
        _grow(node.add(_label(person)), person["reports"])


def chart_tree(chart: dict[str, Any]) -> Tree:
    title = f"[bold]{chart['name']}[/] ({chart['account_id']}) — {chart['people']} people, {chart['left']} left"
    if chart["scope"] == "group":
        title += f", {len(chart['accounts'])} entities"
    root = Tree(title)
    _grow(root, chart["roots"])
    return root


def alerts_table(rows: list[dict[str, Any]], with_ack: bool) -> Table:
    """Ids never wrap: they are what `alerts ack` takes."""
    table = Table(title=f"{len(rows)} alert(s)")
    for name in ("alert id", "date", "kind", "account", "owner"):
        table.add_column(name, no_wrap=True)
    table.add_column("reason", ratio=1)
    if with_ack:
        table.add_column("ack", no_wrap=True)
    for r in rows:
        cells = [r["alert_id"], r["created_at"].isoformat(), r["kind"], r["account_id"], r["owner"] or "", r["reason"]]
        table.add_row(*cells, *(["✓" if r["acknowledged"] else ""] if with_ack else []))
    return table


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(help="KAM alerts: exit criteria, org changes, cross-sell.", invoke_without_command=True)
    kam_app = typer.Typer(help="Key-account management: coverage, matrix, buying committee, MEDDIC.", no_args_is_help=True)
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(kam_app, name="kam")

    @app.command("map")
    def map_command(
        account_id: Annotated[str, typer.Argument(help="The account to map: its id, or its name when unique.")],
        group: Annotated[bool, typer.Option("--group", help="Map the whole group of the account.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Print the client org chart: roles, relationship strength, last interaction; people who left greyed."""
        from accountree.kam.stakeholders import buying_committee, org_chart

        def compute(ws: Workspace) -> dict[str, Any]:
            from accountree.search import resolve  # an id, or a name when it names one account

            target = resolve(ws, account_id)
            chart = org_chart(ws, target, group=group)
            return {**chart, "buying_committee": buying_committee(ws, target, group=group)}

        def show(chart: dict[str, Any]) -> None:
            console.print(chart_tree(chart))
            for message in chart["buying_committee"]["messages"]:
                console.print(f"[yellow]![/] {message}")

        run_on(workspace_, as_json, compute, show)

    @alerts_app.callback()
    def alerts_command(
        ctx: typer.Context,
        owner: Annotated[str | None, typer.Option(help="Only the alerts of this account owner.")] = None,
        account: Annotated[str | None, typer.Option(help="Only the alerts of this account.")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """List the open alerts (newest first); `alerts ack ALERT_ID` acknowledges one."""
        if ctx.invoked_subcommand is not None:
            return
        from accountree.kam.alerts import alerts

        run_on(workspace_, as_json,
               lambda ws: alerts(ws, owner=owner, include_acknowledged=all_, account_id=account),
               lambda rows: console.print(alerts_table(rows, all_)))

    @alerts_app.command("ack")
    def ack_command(
        alert_id: Annotated[str, typer.Argument(help="The alert to acknowledge.")],
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Acknowledge an alert; it stays acknowledged across rebuilds."""
        from accountree.kam.alerts import acknowledge

        def show(result: dict[str, Any]) -> None:
            console.print(f"[bold green]✓[/] alert {alert_id} acknowledged by {result['acknowledged_by']}")

        run_on(workspace_, as_json, lambda ws: acknowledge(ws, alert_id), show)

    @alerts_app.command("digest")
    def digest_command(
        days: Annotated[int, typer.Option(help="New alerts of the last N days.")] = 7,
        owner: Annotated[str | None, typer.Option(help="Only this owner's digest.")] = None,
        per_owner: Annotated[int, typer.Option("--per-owner", help="Alerts listed per owner.")] = 10,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The weekly digest per owner: new alerts of the week, most important first."""
        from accountree.kam.alerts import digest

        def show(entries: list[dict[str, Any]]) -> None:
            for e in entries:
                console.print(f"[bold]{e['owner'] or '(no owner)'}[/]: {e['new']} new in {days} days, {e['open']} open")
                for a in e["alerts"]:
                    console.print(f"  [{'red' if a.get('severity') == 'high' else 'yellow'}]{a.get('severity') or ''}[/] "
                                  f"{a['kind'].replace('_', ' ')} · {a['account_id']} — {a['reason']}")
                if e["new"] > len(e["alerts"]):
                    console.print(f"  … and {e['new'] - len(e['alerts'])} more (`accountree alerts --owner`)")

        run_on(workspace_, as_json, lambda ws: digest(ws, days, owner, per_owner), show)

    @kam_app.command("coverage")
    def coverage_command(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Accounts per owner against 3–5 strategic / 20–50 mid-market / 100+ SMB per AE."""
        from accountree.kam.views import coverage

        def show(report: dict[str, Any]) -> None:
            console.print(table_of(report["owners"], title="accounts per owner"))
            unc = report["uncovered"]
            console.print(f"overloaded: {', '.join(report['overloaded']) or 'nobody'}; "
                          f"uncovered accounts: {unc['accounts']} ({unc['strategic']} strategic, "
                          f"{unc['midmarket']} mid-market, {unc['smb']} SMB)")

        run_on(workspace_, as_json, coverage, show)

    @kam_app.command("matrix")
    def matrix_command(
        group: Annotated[bool, typer.Option("--group", help="Groups instead of accounts.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The potential × effort matrix, with the reading of each quadrant."""
        from accountree.kam.views import matrix

        def show(result: dict[str, Any]) -> None:
            rows = [{"quadrant": name, "potential": q["potential"], "effort": q["effort"], "accounts": q["count"],
                     "potential 3y": f"{q['potential_3y']:,.0f}", "reading": q["reading"]}
                    for name, q in result["quadrants"].items()]
            console.print(table_of(rows, title="potential × effort"))

        run_on(workspace_, as_json, lambda ws: matrix(ws, "group" if group else "account"), show)

    @kam_app.command("meddic")
    def meddic_command(
        deal_id: Annotated[str, typer.Argument(help="The opportunity.")],
        set_: Annotated[list[str] | None, typer.Option("--set", help="ELEMENT=VALUE to write (empty clears).")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show (or edit with --set) the MEDDIC of a deal: elements, completeness, gaps."""
        from accountree.errors import ConfigError
        from accountree.kam.meddic import ELEMENTS, meddic, update_meddic

        def action() -> None:
            fields = {}
            for item in set_ or []:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ConfigError(f"--set takes ELEMENT=VALUE, not {item!r}")
                fields[key.strip()] = value
            with workspace(workspace_) as ws:
                result = update_meddic(ws, deal_id, fields) if fields else meddic(ws, deal_id)
            if as_json:
                print_json(result)
                return
            rows = [{"element": e, "value": result[e] or "—",
                     "source": result.get(f"{e}_source") or ("" if result[e] is None else "stored")} for e in ELEMENTS]
            console.print(table_of(rows, title=f"MEDDIC {deal_id}: {result['completeness']} % complete"))
            if result["gaps"]:
                console.print(f"[yellow]gaps:[/] {result['gaps']}")

        run(as_json, action)

    @kam_app.command("role")
    def role_command(
        contact_id: Annotated[str, typer.Argument(help="The contact.")],
        role: Annotated[str, typer.Argument(help="economic_buyer, champion, influencer, user, buyer, blocker, other; '' clears.")],
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Set a contact's buying role (kept over CRM re-imports)."""
        from accountree.kam.stakeholders import set_buying_role

        def show(result: dict[str, Any]) -> None:
            console.print(f"[bold green]✓[/] {contact_id}: {result['buying_role'] or 'role cleared'}")

        run_on(workspace_, as_json, lambda ws: set_buying_role(ws, contact_id, role), show)

    @kam_app.command("designate")
    def designate_command(
        account_id: Annotated[str, typer.Argument(help="The entity to manage as its own key account.")],
        remove: Annotated[bool, typer.Option("--remove", help="Give it back to its group's key account.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Manage an entity (and its subtree) as its own key account instead of as part of its group."""
        import getpass

        from accountree.kam.wallet import designate

        def show(result: dict[str, Any]) -> None:
            state = "is now its own key account" if result["designated"] else "is back in its group's key account"
            console.print(f"[bold green]✓[/] {result['name']} ({result['account_id']}) {state}. {result['next']}")

        run_on(workspace_, as_json, lambda ws: designate(ws, account_id, getpass.getuser(), remove), show)

    @kam_app.command("settings")
    def settings_command(
        name: Annotated[str | None, typer.Argument(help="Setting to change.")] = None,
        value: Annotated[str | None, typer.Argument(help="New value (reporting currency for amounts).")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show the KAM settings (tier thresholds, ratios, alert windows) or change one."""
        from dataclasses import asdict

        from accountree.kam.settings import load_settings, set_setting

        def compute(ws: Workspace) -> dict[str, Any]:
            return asdict(set_setting(ws, name, value or "") if name else load_settings(ws))

        def show(settings: dict[str, Any]) -> None:
            console.print(table_of([{"setting": k, "value": f"{v:g}"} for k, v in settings.items()]))

        run_on(workspace_, as_json, compute, show)
