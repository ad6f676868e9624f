"""Service functions over the built KAM tables, for the CLI, the API and the dashboard."""

from __future__ import annotations

from datetime import date
from typing import Any

from accountree.errors import NotFoundError
from accountree.kam.alerts import alerts
from accountree.kam.portfolio import QUADRANTS, coverage_report
from accountree.kam.settings import load_settings
from accountree.kam.stakeholders import buying_committee, org_chart
from accountree.store import Workspace

_HINT = "Run `accountree build` (the kam stage runs after hierarchy, KPIs and scores)."


def _portfolio(ws: Workspace) -> list[dict[str, Any]]:
    if not ws.engine.table_exists("kam_accounts"):
        raise NotFoundError("key accounts have not been computed in this workspace yet", hint=_HINT)
    return ws.engine.fetch_dicts("SELECT * FROM kam_accounts ORDER BY scope, account_id")


def coverage(ws: Workspace) -> dict[str, Any]:
    """Accounts per owner by segment against the recommended ratios; overloaded owners, light
    owners and accounts nobody covers."""
    return coverage_report(_portfolio(ws), load_settings(ws))


def matrix(ws: Workspace, scope: str = "account") -> dict[str, Any]:
    """The potential × effort matrix: the four quadrants with their reading and their accounts
    (highest potential first)."""
    settings = load_settings(ws)
    rows = [r for r in _portfolio(ws) if r["scope"] == scope]
    out = {}
    for (potential, effort), (name, reading) in QUADRANTS.items():
        members = sorted((r for r in rows if r["quadrant"] == name), key=lambda r: -(r["potential_3y"] or 0))
        out[name] = {"potential": potential, "effort": effort, "reading": reading, "count": len(members),
                     "potential_3y": round(sum(r["potential_3y"] or 0 for r in members), 2),
                     "accounts": [{k: r[k] for k in ("account_id", "name", "owner", "potential_3y", "effort", "tier")}
                                  for r in members]}
    return {"scope": scope, "high_potential_threshold": settings.high_potential_threshold,
            "high_effort_threshold": settings.high_effort_threshold, "quadrants": out}


def kam_view(ws: Workspace, account_id: str, as_of: date | None = None) -> dict[str, Any]:
    """Everything KAM about one account: its row (and its group's), buying committee, open deals'
    MEDDIC, stakeholders and open alerts."""
    rows = ws.engine.fetch_dicts("SELECT * FROM kam_accounts WHERE account_id = ? OR account_id = "
                                 "(SELECT group_head_id FROM kam_accounts WHERE account_id = ? AND scope = 'account')",
                                 [account_id, account_id]) if ws.engine.table_exists("kam_accounts") else []
    own = next((r for r in rows if r["account_id"] == account_id and r["scope"] == "account"), None)
    if own is None and ws.engine.table_exists("kam_accounts"):
        raise NotFoundError(f"no account {account_id!r} in the KAM results", hint=_HINT)
    group = next((r for r in rows if r["scope"] == "group"), None)
    deals = ws.engine.fetch_dicts("SELECT * FROM kam_meddic WHERE account_id = ? ORDER BY deal_id",
                                  [account_id]) if ws.engine.table_exists("kam_meddic") else []
    return {
        "account": own, "group": group,
        "buying_committee": buying_committee(ws, account_id, as_of=as_of),
        "org_chart": org_chart(ws, account_id, as_of=as_of),
        "meddic": deals,
        "alerts": alerts(ws, account_id=account_id) if ws.engine.table_exists("kam_alerts") else [],
    }
