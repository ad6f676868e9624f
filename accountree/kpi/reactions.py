"""The KPIs' reactions to a change (`accountree.changes`): refresh the touched accounts' KPIs and
their groups' roll-ups; regrade the cross-sell targets when grades changed."""

from __future__ import annotations

from typing import Any

from accountree.changes import Change, Reaction
from accountree.kpi.pipeline import refresh_accounts, regrade_cross_sell
from accountree.kpi.refresh import known_ids
from accountree.store import Workspace


def _refresh(ws: Workspace, change: Change) -> dict[str, Any] | None:
    """The KPIs of the accounts' subtrees and of every group they left or joined, in the change's
    transaction — so roll-ups never show the old structure. None without KPIs (never built)."""
    if not ws.engine.table_exists("account_kpis"):
        return None
    return refresh_accounts(ws, sorted(known_ids(ws, change.accounts)), change.as_of)  # an unlinked parent may be no account


def _regrade(ws: Workspace, change: Change) -> int | None:
    return regrade_cross_sell(ws)


REACTIONS = [
    Reaction("kpis", "account KPIs and group roll-ups of the touched accounts", after=_refresh, kinds=("rows",)),
    Reaction("cross_sell", "cross-sell targets scored with the new grades", after=_regrade, kinds=("grades",)),
]
