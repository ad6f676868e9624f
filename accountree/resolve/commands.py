"""`accountree resolve` (find and merge duplicates, `undo`) and `accountree review` (the queue)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    print_json,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.resolve.pipeline import DEFAULT_AUTO, DEFAULT_REVIEW

resolve_app = typer.Typer(help="Find duplicate accounts, merge the sure ones, queue the others for review.",
                          invoke_without_command=True, no_args_is_help=False)
_FIELDS = ("account_id", "name", "domain", "country", "city", "industry", "siren", "lei", "duns", "parent_id", "source")


def _options(auto_threshold: float | None, review_threshold: float | None, seed: int, ws, engine: str = "duckdb",
             spark_master: str | None = None) -> Any:
    from accountree.resolve.pipeline import ResolveOptions

    auto = auto_threshold if auto_threshold is not None else float(ws.meta("resolve.auto_threshold") or DEFAULT_AUTO)
    review = review_threshold if review_threshold is not None else float(
        ws.meta("resolve.review_threshold") or DEFAULT_REVIEW)
    options = ResolveOptions(auto_threshold=auto, review_threshold=min(review, auto), seed=seed, engine=engine,
                             spark_master=spark_master)
    options.check()
    return options


@resolve_app.callback()
def resolve_command(
    ctx: typer.Context,
    auto: Annotated[bool, typer.Option("--auto", help="Apply the automatic merges only; never prompt (scripts).")] = False,
    auto_threshold: Annotated[float | None, typer.Option(
        help=f"Merge automatically at or above this probability [default: {DEFAULT_AUTO}, or workspace setting].")] = None,
    review_threshold: Annotated[float | None, typer.Option(
        help=f"Queue for review at or above this probability [default: {DEFAULT_REVIEW}].")] = None,
    save_thresholds: Annotated[bool, typer.Option("--save-thresholds", help="Remember the thresholds given.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what `resolve --auto` would merge; write nothing.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the model's random sampling (same seed, same result).")] = 42,
    engine: Annotated[str, typer.Option(
        help="Where the model scores the pairs: 'duckdb' (in memory) or 'spark' (splink's Spark backend; "
             "needs accountree[spark]). Same pairs, same weights.")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", help="Spark master URL for --engine spark [default: local[*]].")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find duplicates (splink), merge those above the auto threshold, queue the rest for review."""
    if ctx.invoked_subcommand is not None:
        return
    from accountree.resolve.service import resolve

    def action() -> None:
        with workspace(workspace_) as ws:
            options = _options(auto_threshold, review_threshold, seed, ws, engine, spark_master)
            if save_thresholds:
                ws.set_meta("resolve.auto_threshold", str(options.auto_threshold))
                ws.set_meta("resolve.review_threshold", str(options.review_threshold))
            with console.status("scoring candidate pairs…") if not as_json else _nothing():
                summary = resolve(ws, options, apply=not dry_run)
            if as_json:
                print_json(summary)
                return
            merged = "would be merged (dry run: nothing written)" if dry_run else "merged automatically"
            console.print(f"[bold green]✓[/] {summary['accounts']:,} accounts, {summary['pairs_scored']:,} pairs scored; "
                          f"{summary['merged_records']:,} records {merged} (≥ {options.auto_threshold}); "
                          f"{summary['review_pending']:,} pairs to review; "
                          f"{summary['held_by_guard']:,} pairs held apart by the sibling guard")
            if dry_run and summary.get("would_merge"):
                console.print(table_of([{"records": len(g), "accounts": "; ".join(
                    f"{m['name']} ({m['account_id']})" for m in g[:4]) + (" …" if len(g) > 4 else "")}
                    for g in summary["would_merge"][:20]], title="largest merges it would make"))
            if dry_run:
                return
            if not auto and summary["review_pending"] and console.is_terminal and typer.confirm("Review now?", default=True):
                _review_loop(ws, limit=None)

    run(as_json, action)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@resolve_app.command("undo")
def undo_command(
    merge_id: Annotated[int, typer.Argument(help="The merge to undo (see `accountree export merges`).")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo a merge: the merged account comes back with its deals, contacts, activities and children."""
    from accountree.resolve.undo import undo_merge

    def show(result: dict[str, Any]) -> None:
        console.print(f"[bold green]✓[/] merge #{merge_id} undone: {result['restored']} is back "
                      f"(the pair will not be proposed again)")

    run_on(workspace_, as_json, lambda ws: undo_merge(ws, merge_id), show)


def _show_pair(pair: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table("", "left", "right", title=f"pair {pair['pair_id']} — match probability {pair['match_probability']:.3f}")
    for field in _FIELDS:
        left, right = pair["left"].get(field), pair["right"].get(field)
        style = "green" if left and left == right else None
        table.add_row(field, "" if left is None else str(left), "" if right is None else str(right), style=style)
    console.print(table)
    evidence = ", ".join(f"{k}: {v['level']} ({v['weight']:+.1f})" for k, v in sorted(pair["evidence"].items()))
    console.print(f"[dim]evidence: {evidence}[/]")
    if pair.get("guard"):
        console.print(f"[yellow]held for review: {pair['guard']}[/]")


def _review_loop(ws, limit: int | None) -> dict[str, int]:
    from rich.prompt import Prompt

    from accountree.resolve.service import candidates, decide

    counts = {"accept": 0, "reject": 0, "skip": 0}
    seen: set[str] = set()
    while limit is None or sum(counts.values()) < limit:
        batch = [p for p in candidates(ws, "pending", limit=20) if p["pair_id"] not in seen]
        if not batch:
            break
        for pair in batch:
            seen.add(pair["pair_id"])
            _show_pair(pair)
            answer = Prompt.ask("[bold]a[/]ccept / [bold]r[/]eject / [bold]s[/]kip / [bold]q[/]uit",
                                choices=["a", "r", "s", "q"], default="s", console=console)
            if answer == "q":
                return counts
            decision = {"a": "accept", "r": "reject", "s": "skip"}[answer]
            result = decide(ws, pair["pair_id"], decision)
            counts[decision] += 1
            if result["merge_ids"]:
                console.print(f"[green]merged (merge #{', #'.join(map(str, result['merge_ids']))})[/]")
            if limit is not None and sum(counts.values()) >= limit:
                break
    return counts


def review_command(
    limit: Annotated[int | None, typer.Option(help="Stop after this many decisions.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the queue instead of prompting.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Review candidate duplicates one by one: accept (merge), reject (never again) or skip."""
    from accountree.resolve.service import candidates

    def action() -> None:
        with workspace(workspace_) as ws:
            if list_ or as_json or not console.is_terminal:
                pairs = candidates(ws, "pending", limit=limit or 100)
                if as_json:
                    print_json(pairs)
                    return
                console.print(table_of([{"pair_id": p["pair_id"], "probability": f"{p['match_probability']:.3f}",
                                         "left": _named(p["left"], p["account_id_l"]),
                                         "right": _named(p["right"], p["account_id_r"]),
                                         "guard": p["guard"] or ""} for p in pairs], title="review queue"))
                return
            counts = _review_loop(ws, limit)
        err_console.print(f"{counts['accept']} accepted, {counts['reject']} rejected, {counts['skip']} skipped")

    run(as_json, action)


def _named(account: dict[str, Any], account_id: str) -> str:
    """"Name (ID)", and where a merged account went: "Name (ID → merged into SURVIVOR)"."""
    into = f" → merged into {account['merged_into']}" if account.get("merged_into") else ""
    return f"{account.get('name') or '(unknown)'} ({account_id}{into})"


def register(app: typer.Typer) -> None:
    app.add_typer(resolve_app, name="resolve")
    app.command("review")(review_command)
