"""The `kam` build stage: portfolio (potential, tiers, matrix, KPIs), stakeholders, MEDDIC and
alerts, written to `kam_accounts`, `kam_stakeholders`, `kam_meddic`, `kam_alerts`; then the
snapshot the next build diffs against. Runs after hierarchy, KPIs and scores; without them it
falls back on the core tables and says which step is missing."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from accountree.build import BuildOptions, BuildStage
from accountree.kam import steps, wallet
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
from accountree.kam.inputs import NEEDS, KamInputs, load_inputs
from accountree.kam.meddic import meddic_rows, stored_rows, sync_from_deals
from accountree.kam.portfolio import portfolio_rows
from accountree.kam.settings import BUILT_AS_OF, load_settings
from accountree.kam.tables import write_table
from accountree.store import Workspace


def _snapshot_fallback(ws: Workspace, inputs: KamInputs) -> None:
    """The snapshot without the hierarchy stage: group heads as `load_inputs` climbed them."""
    ws.engine.execute("DELETE FROM kam_snapshot_contacts")
    ws.engine.execute("DELETE FROM kam_snapshot_parents")
    ws.engine.execute(steps.SNAPSHOT_CONTACTS, [inputs.as_of])
    parents = [{"account_id": a, "parent_id": acc["parent_id"], "group_head_id": acc["group_head_id"],
                "snapshot_at": inputs.as_of} for a, acc in inputs.accounts.items()]
    text, day = pa.string(), pa.date32()
    ws.engine.insert_arrow("kam_snapshot_parents", pa.Table.from_pylist(parents, schema=pa.schema(
        [("account_id", text), ("parent_id", text), ("group_head_id", text), ("snapshot_at", day)])))


def _alerts(ws: Workspace, inputs: KamInputs, portfolio: list[dict[str, Any]], meddic: list[dict[str, Any]],
            settings: Any) -> list[dict[str, Any]]:
    engine = ws.engine
    changed, champions = steps.changed_contacts(ws, inputs.as_of, settings)
    previous_parents = {r["account_id"]: r for r in engine.fetch_dicts(
        "SELECT account_id, parent_id, group_head_id FROM kam_snapshot_parents")}
    merged = dict(engine.fetchall("SELECT old_id, survivor_id FROM account_aliases"))
    unit_of = {r["account_id"]: r.get("kam_unit_id") or r["account_id"] for r in portfolio if r["scope"] == "account"}
    units = {r["account_id"]: r for r in portfolio if r.get("kam_unit")}
    found = [
        *no_progress(inputs, steps.no_progress_candidates(ws, inputs.as_of, settings), settings),
        *falling_revenue(portfolio, inputs, settings),
        *org_changes(inputs, changed, champions, meddic, settings),
        *restructuring(inputs, previous_parents, merged),
    ]
    if engine.table_exists("cross_sell"):
        per_account = int(settings.cross_sell_per_account)  # only the best few of each account are read
        found += cross_sell_by_unit(engine.fetch_dicts("SELECT * FROM cross_sell WHERE entity_rank <= ?", [per_account]),
                                    inputs, unit_of, units, settings)
    else:
        inputs.missing.append(NEEDS["cross_sell"])
    previous = engine.fetch_dicts("SELECT * FROM kam_alerts") if engine.table_exists("kam_alerts") else []
    kept = people_of_active_units(carry_over(found, previous, inputs.as_of, settings.event_lookback_days),
                                  unit_of, units, settings)
    rank(kept, unit_of, units)
    return kept


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    settings = load_settings(ws)
    inputs = load_inputs(ws, options.as_of)
    with ws.engine.transaction():
        synced = sync_from_deals(ws)
        facts = steps.account_facts(ws, inputs)
        if wallet.available(ws):
            wallets = wallet.unit_wallets(ws, settings.wallet_quantile, int(settings.wallet_min_peers))
            portfolio = portfolio_rows(inputs, settings, facts, wallets, wallet.units_of(ws))
        else:
            portfolio = portfolio_rows(inputs, settings, facts)
        people = steps.stakeholders(ws, inputs.as_of, settings)
        meddic = meddic_rows(inputs, stored_rows(ws))
        steps.deal_stages(ws, inputs.as_of)
        found = _alerts(ws, inputs, portfolio, meddic, settings)
        write_table(ws, "kam_accounts", portfolio)
        write_table(ws, "kam_meddic", meddic)
        write_table(ws, "kam_alerts", found)
        if ws.engine.table_exists("hierarchy"):
            steps.snapshot(ws, inputs.as_of)
        else:
            _snapshot_fallback(ws, inputs)
        ws.set_meta(BUILT_AS_OF, inputs.as_of.isoformat())
    accounts = [r for r in portfolio if r["scope"] == "account"]
    units = [r for r in portfolio if r.get("kam_unit")]
    summary: dict[str, Any] = {
        "accounts": len(accounts), "groups": len(portfolio) - len(accounts), "KAM units": len(units),
        "tier 1 units": sum(1 for r in units if r["tier"] == 1), "tier 2 units": sum(1 for r in units if r["tier"] == 2),
        "stakeholders": people, "open deals (MEDDIC)": len(meddic), "MEDDIC from deals": synced,
        "alerts": len(found),
    }
    if inputs.missing:
        summary["missing"] = "; ".join(inputs.missing)
    return summary


STAGE = BuildStage("kam", "key accounts: potential, tiers, matrix, stakeholders, MEDDIC, alerts", run)
