"""Read services for the API and the dashboard: one account, one group, whitespace, cross-sell."""

from __future__ import annotations

from datetime import date
from typing import Any

from accountree.errors import ConfigError, NotFoundError
from accountree.kpi.exports import CELLS, HINT, WHITESPACE
from accountree.store import Workspace


def _need(ws: Workspace, table: str) -> None:
    if not ws.engine.table_exists(table):
        raise NotFoundError(f"{table} has not been computed in this workspace yet", hint=HINT)


def account_kpis(ws: Workspace, account_id: str) -> dict[str, Any]:
    """The account's KPIs, the products it bought or has in pipeline, and its status history."""
    _need(ws, "account_kpis")
    rows = ws.engine.fetch_dicts("SELECT * FROM account_kpis WHERE account_id = ?", [account_id])
    if not rows:
        raise NotFoundError(f"no account {account_id!r}", hint="Check the id (`accountree export accounts`).")
    out = rows[0]
    out["product_detail"] = ws.engine.fetch_dicts(
        "SELECT product, first_purchase, last_purchase, revenue_total, won_deals, open_pipeline, open_deals "
        "FROM kpi_account_products WHERE account_id = ? AND product IS NOT NULL ORDER BY product", [account_id])
    out["status_history"] = ws.engine.fetch_dicts(
        "SELECT status, entered_on, left_on, previous_status FROM kpi_status_history "
        "WHERE scope = 'account' AND account_id = ? ORDER BY entered_on", [account_id])
    return out


def group_rollup(ws: Workspace, account_id: str) -> dict[str, Any]:
    """Roll-up of the account's subtree (any level), with its direct children's own figures."""
    _need(ws, "group_kpis")
    rows = ws.engine.fetch_dicts("SELECT * FROM group_kpis WHERE account_id = ?", [account_id])
    if not rows:
        known = ws.engine.scalar("SELECT count(*) FROM account_kpis WHERE account_id = ?", [account_id])
        if not known:
            raise NotFoundError(f"no account {account_id!r}")
        raise NotFoundError(f"account {account_id!r} has no subsidiaries, so no roll-up",
                            hint="Ask for its own KPIs instead (account_kpis).")
    out = rows[0]
    out["children"] = ws.engine.fetch_dicts(
        "SELECT k.account_id, k.name, k.status, e.relation, e.ownership_pct, e.is_control, "
        "coalesce(g.revenue_cy, k.revenue_cy) AS revenue_cy, coalesce(g.entities, 1) AS entities "
        "FROM hierarchy_edges e JOIN account_kpis k ON k.account_id = e.child_id "
        "LEFT JOIN group_kpis g ON g.account_id = e.child_id WHERE e.parent_id = ? ORDER BY k.account_id",
        [account_id])
    out["group_status_history"] = ws.engine.fetch_dicts(
        "SELECT status, entered_on, left_on, previous_status FROM kpi_status_history "
        "WHERE scope = 'group' AND account_id = ? ORDER BY entered_on", [account_id])
    return out


# One group's whitespace (the `whitespace` export's rows for it): the products view is read for the
# group's members only, by id (`kpi_account_products` is a view over the deals; joined to the
# members instead, it would aggregate every deal of the workspace first: ~2.5 s at 10M deals).
GROUP_WHITESPACE = """
WITH members AS (
    SELECT account_id, name, group_head_id AS group_id, status FROM account_kpis WHERE group_head_id = ?
), ap AS MATERIALIZED (
    SELECT * FROM kpi_account_products WHERE account_id IN (IDS)
), group_products AS (
    SELECT DISTINCT product FROM ap WHERE product IS NOT NULL
)
SELECT CELLS
FROM members m
CROSS JOIN group_products gp
LEFT JOIN ap ON ap.account_id = m.account_id AND ap.product = gp.product
LEFT JOIN account_kpis g ON g.account_id = m.group_id
LEFT JOIN products pr ON pr.product_id = gp.product
ORDER BY m.account_id, gp.product
""".replace("CELLS", CELLS)
MAX_IDS = 10_000  # a larger group is read through the export's query (PostgreSQL: 65,535 parameters)


def whitespace(ws: Workspace, group_id: str) -> dict[str, Any]:
    """The entity × product matrix of the group `group_id` (or of the group an account belongs to)."""
    _need(ws, "account_kpis")
    head = ws.engine.scalar("SELECT group_head_id FROM account_kpis WHERE account_id = ?", [group_id])
    if head is None:
        raise NotFoundError(f"no account {group_id!r} in a group")
    ids = [r[0] for r in ws.engine.fetchall("SELECT account_id FROM account_kpis WHERE group_head_id = ?", [head])]
    if len(ids) < 2:  # a standalone company has no whitespace (as in the export)
        cells: list[dict[str, Any]] = []
    elif len(ids) <= MAX_IDS:
        sql = GROUP_WHITESPACE.replace("IDS", ", ".join("?" for _ in ids))
        cells = ws.engine.fetch_dicts(sql, [head, *ids])
    else:
        cells = ws.engine.fetch_dicts(
            f"SELECT * FROM ({WHITESPACE}) w WHERE group_id = ? ORDER BY account_id, product", [head])  # noqa: S608
    products = sorted({c["product"] for c in cells})
    entities: dict[str, dict[str, Any]] = {}
    for c in cells:
        row = entities.setdefault(c["account_id"], {"account_id": c["account_id"], "name": c["name"],
                                                    "status": c["status"], "cells": {}})
        row["cells"][c["product"]] = c["state"]
    return {"group_id": head, "products": products, "entities": list(entities.values()), "cells": cells}


def cross_sell(ws: Workspace, group_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Cross-sell targets, best first; all groups or one group (an account id maps to its group)."""
    _need(ws, "cross_sell")
    if group_id is None:
        return ws.engine.fetch_dicts(
            "SELECT * FROM cross_sell ORDER BY score DESC, account_id, product LIMIT ?", [limit])
    head = ws.engine.scalar("SELECT group_head_id FROM account_kpis WHERE account_id = ?", [group_id])
    if head is None:
        raise NotFoundError(f"no account {group_id!r} in a group")
    return ws.engine.fetch_dicts(
        "SELECT * FROM cross_sell WHERE group_id = ? ORDER BY score DESC, account_id, product LIMIT ?", [head, limit])


def transitions(ws: Workspace, since: date | None = None, until: date | None = None,
                scope: str = "account") -> list[dict[str, Any]]:
    """Status changes recorded by the builds, counted by (from, to): the stays that began in
    [since, until] with a previous status. `scope` "account" or "group" (group statuses)."""
    _need(ws, "kpi_status_history")
    return ws.engine.fetch_dicts(TRANSITIONS, transition_params(since, until, scope))


# Status changes counted by (from, to) over the stays that began in a period (also read by the API).
TRANSITIONS = ("SELECT previous_status AS from_status, status AS to_status, count(*) AS accounts, "
               "min(entered_on) AS first_on, max(entered_on) AS last_on FROM kpi_status_history "
               "WHERE scope = ? AND previous_status IS NOT NULL AND entered_on >= ? AND entered_on <= ? "
               "GROUP BY previous_status, status ORDER BY accounts DESC, from_status, to_status")


def transition_params(since: date | None, until: date | None, scope: str) -> list[Any]:
    if scope not in ("account", "group"):
        raise ConfigError(f"scope must be account or group, not {scope!r}")
    return [scope, since or date.min, until or date.max]
