"""The `abm` build stage: BUs active per account and group, lead BU, priority class, conflicts,
campaign collisions, fractional attribution and account teams — each one set-based SQL step
(`accountree.orchestration.sql`) run with `replace_table` inside the build's transaction."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from accountree.build import BuildOptions, BuildStage
from accountree.orchestration import sql
from accountree.orchestration.settings import BUILT_AS_OF, AbmSettings, grade_list, load_settings
from accountree.store import Workspace

# Public tables of the stage (exports and the API read them).
OUTPUTS = ("abm_accounts", "abm_conflicts", "abm_collisions", "abm_attribution", "abm_handovers_due",
           "abm_account_teams", "abm_coverage")
_SCRATCH = ("_abm_members", "_abm_bu_account", "_abm_bu_scope", "_abm_lead_scores", "_abm_lead_rule", "_abm_kam", "_abm_grade",
            "_abm_open_deals", "_abm_bu_rank")


def _used(text: str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", text)}


def parameters(settings: AbmSettings, as_of: date) -> dict[str, Any]:
    def days(n: float) -> timedelta:
        return timedelta(days=round(n))

    return {
        "as_of": as_of,
        "active_from": as_of - days(settings.active_window_days),
        "active_to": as_of + days(settings.active_window_days),
        "revenue_from": as_of - days(365.25 * settings.revenue_years),
        "conflict_from": as_of - days(settings.conflict_window_days),
        "conflict_window_days": float(settings.conflict_window_days),
        "active_window_days": float(settings.active_window_days),
        "collision_days": float(settings.collision_days),
        "touch_window_days": float(settings.touch_window_days),
        "weight_revenue": float(settings.weight_revenue),
        "weight_pipeline": float(settings.weight_pipeline),
        "weight_history": float(settings.weight_history),
        "strategic_min_bus": float(settings.strategic_min_bus),
        "strategic_potential": float(settings.strategic_potential),
        "strategic_kam_tier": float(settings.strategic_kam_tier),
        "strategic_grades": ",".join(grade_list(settings)),
        "rule": settings.attribution_rule,
        "lead_bu_bonus": float(settings.lead_bu_bonus),
        "handover_from": as_of - days(settings.handover_window_days),
        "coverage_min": float(settings.coverage_min),
        "coverage_max": float(settings.coverage_max),
    }


class _Steps:
    """Runs the steps; with `timings` (a list) appends each step's {step, seconds, cpu_s, rows}
    (rows when the engine reports them): what `accountree bench abm` prints per step."""

    def __init__(self, ws: Workspace, params: dict[str, Any], timings: list[dict[str, Any]] | None) -> None:
        self.ws, self.params, self.timings = ws, params, timings

    def __call__(self, table: str, text: str) -> None:
        """Public tables: `materialize`. Scratch tables (`_abm_…`): temporary, so they are never
        written to the workspace file and a failed build leaves none behind, and analyzed where the
        engine plans from statistics (PostgreSQL does not analyze temporary tables by itself)."""
        started = time.perf_counter(), time.process_time()
        rows = self.ws.engine.materialize(table, text, params=_used(text, self.params),
                                          temporary=table.startswith("_abm_"), analyze=table.startswith("_abm_"))
        self.note(table, started, rows)

    def run(self, name: str, text: str) -> None:
        started = time.perf_counter(), time.process_time()
        self.ws.engine.execute(text, _used(text, self.params))
        self.note(name, started, None)

    def note(self, name: str, started: tuple[float, float], rows: int | None) -> None:
        if self.timings is not None:  # cpu_s: this process's CPU time (all threads), steadier than wall time on a busy machine
            self.timings.append({"step": name, "seconds": round(time.perf_counter() - started[0], 3),
                                 "cpu_s": round(time.process_time() - started[1], 3), "rows": rows})


def _step(ws: Workspace, table: str, text: str, params: dict[str, Any]) -> None:
    """One step outside `compute` (tests)."""
    _Steps(ws, params, None)(table, text)


def _drop(ws: Workspace, *tables: str) -> None:
    for table in tables:
        ws.engine.execute(exp.Drop(tables=[exp.table_(table, quoted=True)], kind="TABLE", exists=True))


def compute(ws: Workspace, as_of: date, settings: AbmSettings | None = None,
            timings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run every step; returns counts. The caller holds the transaction. `timings`: a list to
    append each step's seconds and rows to."""
    settings = settings or load_settings(ws)
    params = parameters(settings, as_of)
    engine = ws.engine
    step = _Steps(ws, params, timings)
    missing = []
    step("_abm_members", sql.MEMBERS_FROM_HIERARCHY if engine.table_exists("hierarchy") else sql.MEMBERS_FROM_ACCOUNTS)
    if not engine.table_exists("hierarchy"):
        missing.append("hierarchy (run `accountree build --stage hierarchy`): no group rows")
    step("_abm_bu_rank", sql.BU_RANK)
    n_bus = int(engine.scalar("SELECT count(*) FROM _abm_bu_rank"))
    step("_abm_bu_account", sql.bu_account(n_bus))
    if sql.pivots(n_bus):  # the BU rows per scope read once, by the lead rule
        step("_abm_lead_rule", sql.lead_rule(n_bus))
        _drop(ws, "_abm_bu_account")  # scratch tables go as soon as read: DuckDB holds them in memory
    else:
        step("_abm_bu_scope", sql.BU_SCOPE)
        _drop(ws, "_abm_bu_account")
        step("_abm_lead_scores", sql.LEAD_SCORES)
        step("_abm_lead_rule", sql.LEAD_RULE)
        _drop(ws, "_abm_lead_scores")
    has_kam = engine.table_exists("kam_accounts")
    step("_abm_kam", sql.KAM_FROM_TABLE if has_kam else sql.KAM_EMPTY)
    has_scores = engine.table_exists("scores")
    step("_abm_grade", sql.GRADE_FROM_SCORES if has_scores else sql.GRADE_EMPTY)
    if not has_kam:
        missing.append("kam_accounts (run `accountree build --stage kam`): no tier nor potential in the classes")
    if not has_scores:
        missing.append("scores (run `accountree build --stage scoring`): no ICP grade in the classes")
    step("abm_accounts", sql.accounts(n_bus))
    _drop(ws, "_abm_bu_scope", "_abm_lead_rule", "_abm_kam", "_abm_grade")
    step("_abm_open_deals", sql.OPEN_DEALS)
    step("abm_conflicts", sql.conflicts(n_bus))  # detected_at: first seen, else this build's date
    step.run("remember conflicts", sql.REMEMBER_CONFLICTS)
    _drop(ws, "_abm_open_deals")
    step("abm_collisions", sql.COLLISIONS)
    step("abm_attribution", sql.attribution(n_bus))
    step("abm_handovers_due", sql.HANDOVERS)
    step("abm_account_teams", sql.TEAMS)
    step("abm_coverage", sql.COVERAGE)
    _drop(ws, *_SCRATCH)
    ws.set_meta(BUILT_AS_OF, as_of.isoformat())
    started = time.perf_counter(), time.process_time()
    summary: dict[str, Any] = {}
    for scope, cls, n in engine.fetchall(
            "SELECT scope, priority_class, count(*) FROM abm_accounts GROUP BY scope, priority_class "
            "ORDER BY scope, priority_class"):
        summary[f"{scope}s {cls}"] = int(n)
    summary["conflicts"] = int(engine.scalar("SELECT count(*) FROM abm_conflicts") or 0)
    summary["open conflicts"] = int(engine.scalar("SELECT count(*) FROM abm_conflicts WHERE state = 'open'") or 0)
    summary["campaign collisions"] = int(engine.scalar("SELECT count(*) FROM abm_collisions") or 0)
    # every won deal has a part (its own BU's): counted on the deals, not as distinct ids of every part
    summary["won deals attributed"] = int(engine.scalar(sql.WON_DEALS, _used(sql.WON_DEALS, params)) or 0)
    summary["attribution rule"] = settings.attribution_rule
    for state, n in engine.fetchall("SELECT state, count(*) FROM abm_handovers_due GROUP BY state ORDER BY state"):
        summary[f"handovers {state}"] = int(n)
    if missing:
        summary["missing"] = "; ".join(missing)
    step.note("summary", started, None)
    return summary


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    # the whole process within the workspace's memory limit (the 2 GB at 1M accounts)
    with ws.engine.bulk_work(within_limit=True), ws.engine.transaction():
        return compute(ws, options.as_of)


STAGE = BuildStage("abm", "multi-BU ABM: lead BU, priority classes, conflicts, collisions, attribution, teams", run)
