"""`accountree tree`, `link`, `unlink` and `accountree hierarchy issues|changes|settings`.

Thin shells over `accountree.hierarchy.service`: parse options, call one function, print.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from accountree.console import JsonOption, WorkspaceOption, console, run_on, table_of
from accountree.store import Workspace

hierarchy_app = typer.Typer(help="Hierarchy issues, manual-link history and settings.", no_args_is_help=True)

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f" {value:g} %"


def _label(node: dict[str, Any], kpis: list[str]) -> str:
    parts = [f"[bold]{escape(str(node.get('name') or '?'))}[/] [dim]{escape(node['account_id'])}[/]"]
    if node.get("stake"):
        parts.append(f"[magenta]{escape(node.get('relation') or 'stake')}{_pct(node.get('ownership_pct'))}[/]")
        if node.get("group_head_id") and node["group_head_id"] != node["account_id"]:
            parts.append(f"[dim](group {escape(node['group_head_id'])})[/]")
    elif node.get("is_joint_venture"):
        parts.append("[magenta]joint venture[/]")
    elif node.get("relation"):
        parts.append(f"[dim]{escape(node['relation'])}{_pct(node.get('ownership_pct'))}[/]")
    for column in kpis:
        value = node.get(column)
        if value is not None:
            parts.append(f"{column} {value:,.0f}" if isinstance(value, float) else f"{column} {escape(str(value))}")
    if node.get("has_issue"):
        parts.append("[bold red]⚠ issue[/]")
    if node.get("more"):
        parts.append(f"[dim]… {node['more']:,} more below[/]")
    return "  ".join(parts)


def render_tree(result: dict[str, Any]) -> Tree:
    """The group as a Rich tree, built iteratively (groups can be thousands of levels deep)."""
    kpis = result["kpi_columns"]
    root = Tree(_label(result["tree"], kpis))
    todo = [(root, result["tree"])]
    while todo:
        branch, node = todo.pop()
        for child in node["children"]:
            todo.append((branch.add(_label(child, kpis)), child))
    return root


def _print_issues(found: list[dict[str, Any]]) -> None:
    for issue in found:
        style = _SEVERITY_STYLE.get(issue["severity"], "")
        console.print(f"[{style}]#{issue['issue_id']} {issue['kind']}[/] {escape(issue['message'])}")
        if issue["edges"]:
            console.print(f"    links: {escape(issue['edges'])}")
        console.print(f"    fix: {escape(issue['suggested_fix'])}")


def register(app: typer.Typer) -> None:
    app.command("tree")(tree)
    app.command("link")(link)
    app.command("unlink")(unlink)
    app.add_typer(hierarchy_app, name="hierarchy")


def tree(
    account_id: Annotated[str, typer.Argument(help="Any account of the group: its id, or its name when unique.")],
    depth: Annotated[int | None, typer.Option(help="Show this many levels below the head.")] = None,
    max_children: Annotated[int, typer.Option("--max-children", help="Children shown per account (0: all).")] = 100,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the group of an account as a tree: heads, subsidiaries, joint ventures, issues."""
    from accountree.hierarchy.service import group_tree
    from accountree.search import resolve  # an id, or a name when it names one account

    def show(result: dict[str, Any]) -> None:
        console.print(f"group of [bold]{escape(result['account_id'])}[/]: head {escape(result['group_head_id'])}, "
                      f"{result['group_size']:,} consolidated account(s); path {escape(result['path'])}")
        totals = result.get("group_kpis")
        if totals:
            console.print(f"{escape(totals['group_status'])}, consolidated: revenue_cy {_money(totals['revenue_cy'])}  "
                          f"margin_cy {_money(totals['margin_cy'])}  customer entities "
                          f"{totals['customer_entities']:,} of {totals['entities']:,}")
        if result["owners"]:
            owners = ", ".join(f"{o['parent_id']}{_pct(o['ownership_pct'])}" for o in result["owners"])
            console.print(f"[magenta]joint venture[/] held by {escape(owners)}")
        console.print(render_tree(result))
        if result["issues"]:
            console.print(f"[bold red]{len(result['issues'])} hierarchy issue(s) in this group[/]")
            _print_issues(result["issues"])

    run_on(workspace_, as_json,
           lambda ws: group_tree(ws, resolve(ws, account_id), max_depth=depth, max_children=max_children or None), show)


def _print_change(change: dict[str, Any]) -> None:
    import json

    after = json.loads(change["after"])
    parents = after.get("parents")
    now = ", ".join(f"{p['parent_id']} ({p['relation']}{_pct(p['ownership_pct'])}, {p['source']}"
                    f"{', controls' if p['is_control'] else ''})" for p in parents or []) or "none"
    console.print(f"[bold green]✓[/] change #{change['change_id']} by {escape(change['changed_by'])}: "
                  f"{change['action']} {escape(change['child_id'])} {escape(change['parent_id'] or '')}")
    if parents is not None:
        console.print(f"  parents of {escape(change['child_id'])} now: {escape(now)}")
    kpis = change.get("kpis")
    if kpis and "groups" in kpis:
        console.print(f"  KPIs refreshed: {kpis['accounts']} account(s) in {kpis['groups']} group(s)")
    elif kpis:
        console.print("  KPIs rebuilt (built by an earlier version: a full build)")
    else:
        console.print("  [dim]KPIs: run `accountree build` to compute them[/]")


def link(
    child: Annotated[str, typer.Argument(help="The account to attach.")],
    parent: Annotated[str, typer.Argument(help="Its parent.")],
    relation: Annotated[str, typer.Option(help="subsidiary, business_unit, branch or joint_venture.")] = "subsidiary",
    pct: Annotated[float | None, typer.Option("--pct", help="Share of CHILD held by PARENT (0-100).")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
    no_rebuild: Annotated[bool, typer.Option("--no-rebuild", help="Record only; apply at the next build.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a parent by hand; it wins over CRM and registry links and survives later imports."""
    from accountree.hierarchy import service

    run_on(workspace_, as_json, lambda ws: service.link(ws, child, parent, relation, pct, note=note,
                                                        rebuild=not no_rebuild), _print_change)


def unlink(
    child: Annotated[str, typer.Argument(help="The account to detach.")],
    parent: Annotated[str | None, typer.Argument(help="The parent to remove [default: every parent].")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
    no_rebuild: Annotated[bool, typer.Option("--no-rebuild", help="Record only; apply at the next build.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a parent by hand (or all of them); later imports restating it do not bring it back."""
    from accountree.hierarchy import service

    run_on(workspace_, as_json, lambda ws: service.unlink(ws, child, parent, note=note, rebuild=not no_rebuild),
           _print_change)


@hierarchy_app.command("issues")
def issues_command(
    kind: Annotated[str | None, typer.Option(help="Only this kind (cycle, unknown_parent, …).")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bad structures found by the last build: which accounts, which links, the suggested fix."""
    from accountree.hierarchy.service import issues

    def show(found: list[dict[str, Any]]) -> None:
        if not found:
            console.print("[bold green]✓[/] no hierarchy issue")
        else:
            _print_issues(found)

    run_on(workspace_, as_json, lambda ws: issues(ws, kind=kind), show)


@hierarchy_app.command("changes")
def changes_command(
    account_id: Annotated[str | None, typer.Argument(help="Only changes touching this account.")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who linked or unlinked what, when (newest first)."""
    from accountree.hierarchy.service import changes

    def show(found: list[dict[str, Any]]) -> None:
        console.print(table_of(found, columns=["change_id", "changed_at", "changed_by", "action", "child_id",
                                               "parent_id", "note"]))

    run_on(workspace_, as_json, lambda ws: changes(ws, account_id), show)


@hierarchy_app.command("settings")
def settings_command(
    control_threshold: Annotated[float | None, typer.Option(help="Share (%) strictly above which a parent consolidates.")] = None,
    precedence: Annotated[str | None, typer.Option(help="Source classes, best first, e.g. manual,registry,crm.")] = None,
    max_depth: Annotated[int | None, typer.Option("--max-depth", help="Levels an account may hang below its head.")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show or change the control threshold and the precedence of link sources."""
    from accountree.hierarchy.settings import load_settings, save_settings

    changed = control_threshold is not None or precedence is not None or max_depth is not None

    def compute(ws: Workspace) -> dict[str, Any]:
        settings = (save_settings(ws, control_threshold=control_threshold, precedence=precedence,
                                  max_depth=max_depth) if changed else load_settings(ws))
        return settings.model_dump()

    def show(settings: dict[str, Any]) -> None:
        console.print(f"control threshold: above {settings['control_threshold']:g} %")
        console.print(f"precedence: {' > '.join(settings['precedence'])}")
        console.print(f"max depth: {settings['max_depth']} levels below the group head")
        if changed:
            console.print("[dim]run `accountree build` to apply[/]")

    run_on(workspace_, as_json, compute, show)
