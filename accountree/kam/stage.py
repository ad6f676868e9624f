"""The `kam` build stage: portfolio (potential, tiers, matrix, KPIs), stakeholders, MEDDIC and
alerts, written to `kam_accounts`, `kam_stakeholders`, `kam_meddic`, `kam_alerts`; then the
snapshot the next build diffs against. Runs after hierarchy, KPIs and scores; without them it
falls back on the core tables and says which step is missing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from accountree.build import BuildOptions, BuildStage
from accountree.kam import portfolio_steps, steps
from accountree.kam.alerts import (
    carry_over,
    cross_sell_by_unit,
    falling_revenue,
    no_progress,
    org_changes,
    people_of_active_units,
    rank,
    restructuring,
)
from accountree.kam.inputs import NEEDS
from accountree.kam.meddic import NAMED_CHAMPIONS, build_meddic, sync_from_deals
from accountree.kam.settings import BUILT_AS_OF, KamSettings, load_settings
from accountree.kam.tables import write_table
from accountree.store import Workspace


def _alerts(ws: Workspace, as_of: date, meddic: list[dict[str, Any]], settings: KamSettings,
            missing: list[str]) -> list[dict[str, Any]]:
    """The alerts: candidates found by SQL steps (`steps.py`), worded here; then carried over from
    the previous build and ranked by their key account."""
    engine = ws.engine
    changed, champions = steps.changed_contacts(ws, as_of, settings)
    found = [
        *no_progress(steps.no_progress_candidates(ws, as_of, settings), settings),
        *falling_revenue(engine.fetch_dicts(steps.FALLING_REVENUE, [settings.falling_revenue_drop]), as_of, settings),
        *org_changes(as_of, changed, champions, meddic, settings),
        *restructuring(engine.fetch_dicts(steps.MOVED), engine.fetch_dicts(steps.MERGED), as_of),
    ]
    if engine.table_exists("cross_sell"):
        named = "product_name" in engine.table_columns("cross_sell")
        found += cross_sell_by_unit(engine.fetchall(steps.CROSS_SELL if named else steps.CROSS_SELL_UNNAMED,
                                                    [int(settings.cross_sell_per_account),
                                                     settings.cross_sell_max_tier]), as_of)
    else:
        missing.append(NEEDS["cross_sell"])
    previous = engine.fetch_dicts("SELECT * FROM kam_alerts") if engine.table_exists("kam_alerts") else []
    carried = carry_over(found, previous, as_of, settings.event_lookback_days)
    engine.materialize("kam_alert_accounts_step", "SELECT CAST(NULL AS VARCHAR) AS account_id WHERE FALSE",
                       temporary=True)
    engine.insert_arrow("kam_alert_accounts_step", pa.table(
        {"account_id": pa.array(sorted({a["account_id"] for a in carried}), pa.string())}))
    unit_of, units = {}, {}
    for r in engine.fetch_dicts(steps.ALERT_UNITS):
        unit_of[r["account_id"]] = r["kam_unit_id"]
        if r["relationship"] is not None:
            units[r["kam_unit_id"]] = r
    engine.drop_table("kam_alert_accounts_step")
    kept = people_of_active_units(carried, unit_of, units, settings)
    rank(kept, unit_of, units)
    return kept


_SNAPSHOT_PARENTS = """
SELECT account_id, parent_id, group_head_id, CAST(? AS DATE) AS snapshot_at FROM kam_base_step
"""

_SUMMARY = """
SELECT count(*) FILTER (WHERE scope = 'account') AS accounts, count(*) FILTER (WHERE scope = 'group') AS groups,
       count(*) FILTER (WHERE kam_unit) AS units, count(*) FILTER (WHERE kam_unit AND tier = 1) AS tier1,
       count(*) FILTER (WHERE kam_unit AND tier = 2) AS tier2
FROM kam_accounts
"""


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    settings = load_settings(ws)
    as_of = options.as_of
    # whole tables written from queries: no insertion order kept (readers sort what they show)
    with ws.engine.bulk_work(), ws.engine.transaction():
        synced = sync_from_deals(ws)
        missing = portfolio_steps.build_accounts(ws, settings, as_of)
        people = steps.stakeholders(ws, as_of, settings)
        open_deals = build_meddic(ws, as_of)
        steps.deal_stages(ws, as_of)
        found = _alerts(ws, as_of, ws.engine.fetch_dicts(NAMED_CHAMPIONS), settings, missing)
        write_table(ws, "kam_alerts", found)
        steps.snapshot(ws, as_of, parents=_SNAPSHOT_PARENTS)
        ws.engine.drop_table("kam_base_step")
        ws.set_meta(BUILT_AS_OF, as_of.isoformat())
        accounts, groups, units, tier1, tier2 = ws.engine.fetchone(_SUMMARY)
    summary: dict[str, Any] = {
        "accounts": accounts, "groups": groups, "KAM units": units, "tier 1 units": tier1, "tier 2 units": tier2,
        "stakeholders": people, "open deals (MEDDIC)": open_deals, "MEDDIC from deals": synced,
        "alerts": len(found),
    }
    if missing:
        summary["missing"] = "; ".join(missing)
    return summary


STAGE = BuildStage("kam", "key accounts: potential, tiers, matrix, stakeholders, MEDDIC, alerts", run)
