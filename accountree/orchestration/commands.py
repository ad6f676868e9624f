"""`accountree abm …`: lead-bu, strategic, conflicts, calendar, attribution, synergies, teams, handover,
coverage, settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from accountree.console import JsonOption, WorkspaceOption, console, print_json, run, table_of, workspace
from accountree.errors import NotFoundError
from accountree.store import Workspace


def _need(ws: Workspace, table: str) -> None:
    if not ws.engine.table_exists(table):
        raise NotFoundError("the ABM tables are not built yet", hint="Run `accountree build` (the abm stage).")


def calendar(ws: Workspace, bu: str | None = None, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """Campaigns per BU on a timeline, with the accounts each targets and the collisions they are part of."""
    _need(ws, "abm_collisions")
    campaigns = ws.engine.fetch_dicts(
        "SELECT c.campaign_id, c.name, c.seller_bu, c.channel, c.start_date, coalesce(c.end_date, c.start_date) AS end_date,"
        " (SELECT count(*) FROM campaign_accounts t WHERE t.campaign_id = c.campaign_id) AS accounts,"
        " (SELECT count(*) FROM abm_collisions k WHERE ',' || k.campaign_ids || ',' LIKE '%,' || c.campaign_id || ',%')"
        " AS collisions"
        " FROM campaigns c WHERE c.start_date IS NOT NULL AND (CAST(? AS VARCHAR) IS NULL OR c.seller_bu = ?)"
        " AND (CAST(? AS DATE) IS NULL OR coalesce(c.end_date, c.start_date) >= CAST(? AS DATE))"
        " AND (CAST(? AS DATE) IS NULL OR c.start_date <= CAST(? AS DATE))"
        " ORDER BY c.start_date, c.seller_bu, c.campaign_id", [bu, bu, start, start, end, end])
    collisions = ws.engine.fetch_dicts(
        "SELECT account_id, campaign_ids, bus, first_date, last_date, status, reason, suggested_sequence"
        " FROM abm_collisions WHERE (CAST(? AS VARCHAR) IS NULL OR ',' || bus || ',' LIKE '%,' || ? || ',%')"
        " AND (CAST(? AS DATE) IS NULL OR last_date >= CAST(? AS DATE))"
        " AND (CAST(? AS DATE) IS NULL OR first_date <= CAST(? AS DATE))"
        " ORDER BY first_date, account_id, campaign_ids", [bu, bu, start, start, end, end])
    return {"campaigns": campaigns, "collisions": collisions}


def attribution_by_bu(ws: Workspace) -> list[dict[str, Any]]:
    _need(ws, "abm_attribution")
    return ws.engine.fetch_dicts(
        "SELECT seller_bu, rule, count(DISTINCT deal_id) AS deals, sum(amount_cents) / 100.0 AS attributed_rc,"
        " sum(CASE WHEN lead_bu = seller_bu THEN amount_cents ELSE 0 END) / 100.0 AS as_lead_bu_rc"
        " FROM abm_attribution GROUP BY seller_bu, rule ORDER BY attributed_rc DESC, seller_bu")


def register(app: typer.Typer) -> None:
    abm = typer.Typer(help="Multi-BU ABM: lead BU, conflicts, campaign calendar, attribution, synergies.",
                      no_args_is_help=True)
    app.add_typer(abm, name="abm")

    @abm.command("lead-bu")
    def lead_bu(
        account_id: Annotated[str, typer.Argument(help="Account (or group head with --group).")],
        bu: Annotated[str | None, typer.Argument(help="The BU to lead it; omit to show the decisions.")] = None,
        why: Annotated[str | None, typer.Option("--why", help="Why (recorded with who, when and the previous lead BU).")] = None,
        group: Annotated[bool, typer.Option("--group", help="Decide for the whole group headed by ACCOUNT.")] = False,
        undo: Annotated[bool, typer.Option("--undo", help="Undo the decision in force: the rule applies again.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Set the lead BU of an account by hand (wins over the rule until undone), undo it, or list decisions."""
        from accountree.orchestration import service

        def action() -> None:
            scope = "group" if group else "account"
            with workspace(workspace_) as ws:
                if undo:
                    result: Any = service.undo_lead_bu(ws, account_id, scope)
                elif bu:
                    result = service.set_lead_bu(ws, account_id, bu, why or "", scope)
                else:
                    result = service.decisions(ws, account_id)
            if as_json:
                print_json(result)
            elif isinstance(result, list):
                console.print(table_of(result, title=f"lead-BU decisions on {account_id}"))
            elif undo:
                console.print(f"undone: {result['undone_lead_bu']} no longer leads {account_id}; run `accountree build`")
            else:
                console.print(f"{bu} leads {scope} {account_id} (was {result['previous_lead_bu'] or 'none'}); "
                              "run `accountree build` to apply")

        run(as_json, action)

    @abm.command("strategic")
    def strategic(
        account_id: Annotated[str, typer.Argument(help="Account (or group head with --group).")],
        why: Annotated[str | None, typer.Option("--why")] = None,
        group: Annotated[bool, typer.Option("--group")] = False,
        remove: Annotated[bool, typer.Option("--remove", help="Remove the mark.")] = False,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Mark an account or group strategic: it gets a lead BU and the group_strategic class."""
        from accountree.orchestration import service

        def action() -> None:
            with workspace(workspace_) as ws:
                service.mark_strategic(ws, account_id, why, "group" if group else "account", remove)
            if as_json:
                print_json({"account_id": account_id, "strategic": not remove})
            else:
                console.print(f"{account_id}: {'no longer ' if remove else ''}marked strategic; run `accountree build`")

        run(as_json, action)

    @abm.command("substitutes")
    def substitutes(
        product_a: Annotated[str, typer.Argument()], product_b: Annotated[str, typer.Argument()],
        workspace_: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Mark two products as substitutes: open deals of two BUs with them on one account are competing offers."""
        from accountree.orchestration import service

        def action() -> None:
            with workspace(workspace_) as ws:
                service.mark_substitutes(ws, product_a, product_b)
            if as_json:
                print_json({"substitutes": sorted((product_a, product_b))})
            else:
                console.print(f"{product_a} and {product_b} are substitutes; run `accountree build`")

        run(as_json, action)

    @abm.command("conflicts")
    def conflicts(
        conflict_id: Annotated[str | None, typer.Argument(help="A conflict id (or its first 6+ characters).")] = None,
        state: Annotated[str | None, typer.Option("--state", help="With an id: set open, arbitrated or resolved. "
                                                                  "Without: list only this state.")] = None,
        note: Annotated[str | None, typer.Option("--note", help="With an id: add a private note of --bu.")] = None,
        bu: Annotated[str | None, typer.Option("--bu", help="Only conflicts of this BU; the BU of a --note.")] = None,
        kind: Annotated[str | None, typer.Option("--kind")] = None,
        account: Annotated[str | None, typer.Option("--account")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """List BU conflicts, or change one's escalation state (open → arbitrated → resolved)."""
        from accountree.orchestration import service

        def action() -> None:
            with workspace(workspace_) as ws:
                if conflict_id and (state or note):
                    result: Any = {}
                    if state:
                        result = service.set_conflict_state(ws, conflict_id, state)
                    if note:
                        result["note"] = service.add_conflict_note(ws, conflict_id, note, bu)
                    if as_json:
                        print_json(result)
                    else:
                        console.print(f"conflict {conflict_id}: " + (f"state {state}" if state else "note added"))
                    return
                _need(ws, "abm_conflicts")
                rows = ws.engine.fetch_dicts(
                    "SELECT conflict_id, account_id, kind, bus, state, detected_at, reason FROM abm_conflicts"
                    " WHERE (CAST(? AS VARCHAR) IS NULL OR conflict_id LIKE ? || '%')"
                    " AND (CAST(? AS VARCHAR) IS NULL OR state = ?)"
                    " AND (CAST(? AS VARCHAR) IS NULL OR ',' || notify_bus || ',' LIKE '%,' || ? || ',%')"
                    " AND (CAST(? AS VARCHAR) IS NULL OR kind = ?) AND (CAST(? AS VARCHAR) IS NULL OR account_id = ?)"
                    " ORDER BY state, detected_at DESC, account_id, kind",
                    [conflict_id, conflict_id, state, state, bu, bu, kind, kind, account, account])
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title=f"{len(rows)} conflict(s)"))

        run(as_json, action)

    @abm.command("calendar")
    def calendar_command(
        bu: Annotated[str | None, typer.Option("--bu", help="Only this BU's campaigns and collisions.")] = None,
        start: Annotated[str | None, typer.Option("--from", help="From this date (YYYY-MM-DD).")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Up to this date (YYYY-MM-DD).")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The group marketing calendar: campaigns per BU and the collisions with a suggested sequence."""
        from accountree.console import parse_day

        def action() -> None:
            first, last = parse_day(start, "--from"), parse_day(end, "--to")
            with workspace(workspace_) as ws:
                result = calendar(ws, bu, first.isoformat() if first else None, last.isoformat() if last else None)
            if as_json:
                print_json(result)
                return
            console.print(table_of(result["campaigns"], title=f"{len(result['campaigns'])} campaign(s)"))
            console.print(table_of(result["collisions"], title=f"{len(result['collisions'])} collision(s)",
                                   columns=["account_id", "campaign_ids", "bus", "first_date", "last_date", "status",
                                            "suggested_sequence"]))

        run(as_json, action)

    @abm.command("attribution")
    def attribution(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Won revenue attributed to each BU (fractional, no double counting); the rule is a setting."""

        def action() -> None:
            with workspace(workspace_) as ws:
                rows = attribution_by_bu(ws)
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title="attribution by BU"))

        run(as_json, action)

    @abm.command("synergies")
    def synergies_command(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Coordinated (multi-BU with a lead BU) vs silo (mono-BU) accounts, with the test of each difference."""
        from accountree.orchestration.synergy import synergies

        def action() -> None:
            with workspace(workspace_) as ws:
                result = synergies(ws)
            if as_json:
                print_json(result)
                return
            console.print(f"{result['coordinated_accounts']} coordinated vs {result['silo_accounts']} silo accounts "
                          f"(as of {result['as_of']})")
            console.print(table_of(result["metrics"], columns=[
                "metric", "coordinated_n", "silo_n", "coordinated_mean", "silo_mean", "coordinated_median",
                "silo_median", "lift", "mann_whitney_p", "verdict"]))
            console.print(result["note"])

        run(as_json, action)

    @abm.command("evaluate")
    def evaluate_command(
        truth_dir: Annotated[str, typer.Argument(help="The truth/ folder of a demo bundle.")],
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Precision and recall of the conflicts and collisions found against a demo's planted truth."""
        from pathlib import Path

        from accountree.orchestration.evaluate import evaluate_demo

        def action() -> None:
            with workspace(workspace_) as ws:
                result = evaluate_demo(ws, Path(truth_dir))
            if as_json:
                print_json(result)
            else:
                console.print(table_of([{"what": k, **{m: v[m] for m in ("found", "truth", "precision", "recall",
                                                                          "planted", "planted_recall")}}
                                        for k, v in result.items()]))

        run(as_json, action)

    @abm.command("team")
    def team(
        account_id: Annotated[str, typer.Argument()],
        role: Annotated[str | None, typer.Argument(help="ae, se, csm or group_account_manager")] = None,
        member: Annotated[str | None, typer.Argument()] = None,
        bu: Annotated[str | None, typer.Option("--bu")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show an account's team, or name a member (wins over the owner-derived one)."""
        from accountree.orchestration import service

        def action() -> None:
            with workspace(workspace_) as ws:
                if role and member:
                    service.set_team_member(ws, account_id, role, member, bu)
                _need(ws, "abm_account_teams")
                rows = ws.engine.fetch_dicts("SELECT account_id, role, member, member_bu AS seller_bu, source "
                                             "FROM abm_account_teams WHERE account_id = ? ORDER BY role, seller_bu",
                                             [account_id])
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title=f"team of {account_id}"))

        run(as_json, action)

    @abm.command("handover")
    def handover(
        deal_id: Annotated[str | None, typer.Argument(help="The won deal handed over (none: list handovers due).")] = None,
        csm: Annotated[str | None, typer.Option("--csm", help="The CSM who takes the account over.")] = None,
        context: Annotated[str | None, typer.Option("--context", help="Decision context: why they bought.")] = None,
        objectives: Annotated[str | None, typer.Option("--objectives", help="Value objectives promised.")] = None,
        stakeholders: Annotated[str | None, typer.Option("--stakeholders", help="Who matters on the customer side.")] = None,
        commitments: Annotated[str | None, typer.Option("--commitments", help="What was committed.")] = None,
        meeting: Annotated[str | None, typer.Option("--meeting", help="Three-way meeting (AE, CSM, customer): date.")] = None,
        customer: Annotated[str | None, typer.Option("--customer", help="The customer attendee of the meeting.")] = None,
        state: Annotated[str | None, typer.Option("--state", help="List only: missing, incomplete, meeting_planned, done.")] = None,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record the AE → CSM handover of a won deal, or list the handovers due and their state."""
        from datetime import datetime

        from accountree.errors import ConfigError
        from accountree.orchestration import service

        def action() -> None:
            with workspace(workspace_) as ws:
                if deal_id:
                    if not csm:
                        raise ConfigError("a handover names the CSM", hint="Give --csm NAME.")
                    try:
                        when = datetime.fromisoformat(meeting) if meeting else None
                    except ValueError:
                        raise ConfigError(f"--meeting must be a date (YYYY-MM-DD[ HH:MM]), not {meeting!r}") from None
                    row = service.record_handover(ws, deal_id, csm, decision_context=context, value_objectives=objectives,
                                                  stakeholders=stakeholders, commitments=commitments, meeting_at=when,
                                                  meeting_customer=customer)
                    rows = [row]
                else:
                    _need(ws, "abm_handovers_due")
                    rows = ws.engine.fetch_dicts(
                        "SELECT deal_id, account_id, seller_bu, from_ae, to_csm, signed_at, state, reason "
                        "FROM abm_handovers_due WHERE (CAST(? AS VARCHAR) IS NULL OR state = ?) "
                        "ORDER BY signed_at DESC, deal_id", [state, state])
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title="handover recorded (the next build updates teams)" if deal_id
                                       else "AE → CSM handovers"))

        run(as_json, action)

    @abm.command("coverage")
    def coverage(
        role: Annotated[str, typer.Option("--role", help="ae, se, csm or group_account_manager.")] = "ae",
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Accounts and group_strategic accounts per team member, against the coverage target (AEs)."""

        def action() -> None:
            with workspace(workspace_) as ws:
                _need(ws, "abm_coverage")
                rows = ws.engine.fetch_dicts(
                    "SELECT member, role, member_bu AS seller_bu, accounts, strategic_accounts, coverage, reason "
                    "FROM abm_coverage WHERE role = ? ORDER BY strategic_accounts DESC, member", [role])
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title=f"coverage ({role})"))

        run(as_json, action)

    @abm.command("settings")
    def settings_command(
        name: Annotated[str | None, typer.Argument()] = None, value: Annotated[str | None, typer.Argument()] = None,
        workspace_: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Show the ABM settings, or set NAME to VALUE (the next build uses it)."""
        from accountree.orchestration.settings import load_settings, set_setting

        def action() -> None:
            with workspace(workspace_) as ws:
                current = set_setting(ws, name, value) if name and value is not None else load_settings(ws)
            data = asdict(current)
            if as_json:
                print_json(data)
            else:
                console.print(table_of([{"setting": k, "value": v} for k, v in data.items()]))

        run(as_json, action)


def _register_bench() -> None:
    """`accountree bench abm`, added to the bench group from here (no edit to the bench module)."""
    from accountree.bench.commands import _call, _show, bench_app

    @bench_app.command("abm")
    def bench_abm(
        accounts: Annotated[int, typer.Option(help="Accounts to generate (the issue's target is 1000000).")] = 100_000,
        deals_per_account: Annotated[int, typer.Option(help="Deals per account.")] = 10,
        workspace: Annotated[str | None, typer.Option(
            help="DuckDB file to keep the generated workspace in: generated there when missing, reused when it "
                 "exists (1M accounts take minutes to generate).")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """The abm build stage's time and peak memory, side by side with a GROUP BY floor, and per step."""
        def action() -> None:
            result = _call("abm_bench", "run_abm_bench", accounts=accounts, deals_per_account=deals_per_account,
                           workspace=workspace)
            if as_json:
                print_json(result)
                return
            steps = result.pop("steps")
            _show(result, False, "bench abm")
            console.print(table_of(steps, title="abm stage per step (peak_mb: the process's peak after the step)"))

        run(as_json, action)


_register_bench()
