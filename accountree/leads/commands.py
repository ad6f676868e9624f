"""`accountree leads match | route | review | decide | show`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from accountree.console import JsonOption, WorkspaceOption, console, run_on, table_of


def _summary(title: str):
    def show(result: dict[str, Any]) -> None:
        console.print(table_of([{"": k, "value": v} for k, v in result.items()], title=title))
    return show


def register(app: typer.Typer) -> None:
    leads_app = typer.Typer(help="Inbound leads: match to accounts, review, route to BUs and owners.",
                            no_args_is_help=True)
    app.add_typer(leads_app, name="leads")
    _register_bench()

    @leads_app.command("match")
    def match_command(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Match every lead to its account (contact, e-mail domain, name, website, country); every
        decision explained. Also the `leads` stage of `accountree build`."""
        from accountree.leads.match import match

        run_on(workspace_, as_json, match, _summary("lead matching"))

    @leads_app.command("route")
    def route_command(
        rules: Annotated[Path | None, typer.Option(help="YAML routing rules (see accountree/leads/routing.yaml).")] = None,
        save: Annotated[bool, typer.Option("--save", help="Keep these rules in the workspace.")] = False,
        all_: Annotated[bool, typer.Option("--all", help="Route every lead again, not only new ones.")] = False,
        workspace_: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Route the leads not routed yet to BU(s) and owners, with rule, reason and SLA."""
        from accountree.leads.route import load_rules, route

        run_on(workspace_, as_json, lambda ws: route(ws, load_rules(ws, rules, save), everything=all_),
               _summary("lead routing"))

    @leads_app.command("review")
    def review_command(
        limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
        workspace_: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """The leads whose match needs a person (ambiguous or low confidence)."""
        from accountree.leads.service import matches

        cols = ["lead_id", "account_id", "method", "confidence", "candidates", "evidence"]
        run_on(workspace_, as_json, lambda ws: matches(ws, review_only=True, limit=limit),
               lambda rows: console.print(table_of(rows, f"{len(rows)} lead(s) to review", cols)))

    @leads_app.command("decide")
    def decide_command(
        lead_id: Annotated[str, typer.Argument(help="The lead.")],
        account_id: Annotated[str, typer.Argument(help="The account.")],
        reject: Annotated[bool, typer.Option("--reject", help="Never match this lead to this account.")] = False,
        workspace_: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Accept (default) or reject a lead's account; remembered, then every lead is matched again."""
        from accountree.leads.service import decide

        run_on(workspace_, as_json, lambda ws: decide(ws, lead_id, account_id, "reject" if reject else "accept"),
               lambda r: console.print(f"{r['decision']}ed: {r['lead_id']} → {r['account_id']}"))

    @leads_app.command("show")
    def show_command(lead_id: Annotated[str, typer.Argument(help="The lead.")],
                     workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """One lead: its match and evidence, its routes, the review decisions on it."""
        from accountree.leads.service import lead

        def show(r: dict[str, Any]) -> None:
            console.print(table_of([{"": k, "value": v} for k, v in r.items() if k not in ("match", "routes", "decisions")],
                                   title=f"lead {r['lead_id']}"))
            if r["match"]:
                console.print(table_of([r["match"]], "match"))
            if r["routes"]:
                console.print(table_of(r["routes"], "routes"))
            if r["decisions"]:
                console.print(table_of(r["decisions"], "review decisions"))

        run_on(workspace_, as_json, lambda ws: lead(ws, lead_id), show)


def _register_bench() -> None:
    """`accountree bench leads`, added to the bench commands' group (no edit of the bench module)."""
    try:
        from accountree.bench.commands import bench_app
    except ImportError:  # pragma: no cover - a build without the bench capability
        return

    @bench_app.command("leads")
    def bench_leads(
        accounts: Annotated[int, typer.Option(help="Demo accounts to generate.")] = 10_000,
        leads: Annotated[int | None, typer.Option(help="Leads to generate (default 3 % of accounts).")] = None,
        seed: Annotated[int, typer.Option(help="Demo seed.")] = 7,
        ror: Annotated[bool, typer.Option(help="Also score the real ROR affiliation strings.")] = True,
        keep: Annotated[Path | None, typer.Option(help="Keep the generated demo workspace in this folder and reuse it "
                                                       "on the next run with the same sizes and seed.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Lead matching: right / wrong rates against the demo truth and the ROR strings, time, memory."""
        from accountree.bench.leads_bench import run_leads_bench
        from accountree.console import print_json, run

        def show(result: dict[str, Any]) -> None:
            if as_json:
                print_json(result)
                return
            for part, values in result.items():
                if not isinstance(values, dict):
                    console.print(f"{part}: {values}")
                    continue
                flat = {k: v for k, v in values.items() if k != "by method"}
                console.print(table_of([{"measure": k, "value": v} for k, v in flat.items()], title=part))
                if "by method" in values:
                    console.print(table_of([{"method": m, **v} for m, v in values["by method"].items()],
                                           title=f"{part}: by method"))

        run(as_json, lambda: show(run_leads_bench(accounts=accounts, leads=leads, seed=seed, ror=ror, keep=keep)))
