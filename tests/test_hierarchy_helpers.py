"""Builders shared by the hierarchy tests (no tests here): accounts and links straight into the tables."""

from __future__ import annotations

import pyarrow as pa

from accountree.hierarchy.stage import build_hierarchy


def put(ws, accounts, links=()) -> None:
    """accounts: (id, parent_id | None[, is_group_head[, revenue]]); links: (child, parent, relation, pct[, source])."""
    rows = [dict(zip(["account_id", "parent_id", "is_group_head", "annual_revenue_rc"], a, strict=False)) for a in accounts]
    table = pa.table({
        "account_id": [r["account_id"] for r in rows],
        "name": [f"{r['account_id']} Ltd" for r in rows],
        "parent_id": pa.array([r.get("parent_id") for r in rows], pa.string()),
        "is_group_head": pa.array([r.get("is_group_head") for r in rows], pa.bool_()),
        "annual_revenue_rc": pa.array([r.get("annual_revenue_rc") for r in rows], pa.float64()),
    })
    ws.engine.insert_arrow("accounts", table)
    if links:
        links = [(*link, "crm")[:5] for link in links]
        ws.engine.insert_arrow("relationships", pa.table({
            "child_id": [link[0] for link in links], "parent_id": [link[1] for link in links],
            "relation": [link[2] for link in links],
            "ownership_pct": pa.array([link[3] for link in links], pa.float64()),
            "source": [link[4] for link in links],
        }))


def build(ws) -> dict:
    return build_hierarchy(ws)


def hierarchy(ws) -> dict[str, dict]:
    return {r["account_id"]: r for r in ws.engine.fetch_dicts("SELECT * FROM hierarchy ORDER BY account_id")}


def closure(ws) -> dict[tuple[str, str], tuple[int, float, bool]]:
    rows = ws.engine.fetchall("SELECT ancestor_id, descendant_id, depth, weight, consolidated FROM hierarchy_closure")
    return {(a, d): (int(depth), round(float(w), 6), bool(c)) for a, d, depth, w, c in rows}


def issues(ws) -> list[dict]:
    return ws.engine.fetch_dicts("SELECT * FROM hierarchy_issues ORDER BY issue_id")
