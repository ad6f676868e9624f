"""Hand-made hierarchy tables for the KPI tests, following the hierarchy stage's contract.

Until the hierarchy stage lands, the KPI tests create `hierarchy`, `hierarchy_edges` and
`hierarchy_closure` themselves from a list of links, so the KPI code depends on the contract only:
- control links (anything but `joint_venture`) form the tree; a JV heads its own group;
- closure: self rows (depth 0, weight 1, consolidated); one row per (ancestor, descendant) with
  weight = product of shares along the path (summed over paths, at most 1) and consolidated =
  reached through control links only.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from accountree.store import Workspace

Link = tuple[str, str, str, float | None]  # child, parent, relation, ownership_pct

_DDL = [
    "CREATE TABLE hierarchy (account_id VARCHAR, name VARCHAR, parent_id VARCHAR, group_head_id VARCHAR, "
    "level INTEGER, path VARCHAR, relation VARCHAR, ownership_pct DOUBLE, is_joint_venture BOOLEAN, "
    "descendants INTEGER, is_group_head BOOLEAN, has_issue BOOLEAN)",
    "CREATE TABLE hierarchy_edges (child_id VARCHAR, parent_id VARCHAR, relation VARCHAR, ownership_pct DOUBLE, "
    "is_control BOOLEAN, source VARCHAR)",
    "CREATE TABLE hierarchy_closure (ancestor_id VARCHAR, descendant_id VARCHAR, depth INTEGER, weight DOUBLE, "
    "consolidated BOOLEAN)",
]


def closure_rows(accounts: list[str], links: list[Link]) -> dict[tuple[str, str], dict]:
    parents: dict[str, list[Link]] = {}
    for link in links:
        parents.setdefault(link[0], []).append(link)
    out: dict[tuple[str, str], dict] = {}

    def climb(start: str, node: str, depth: int, weight: float, control: bool, seen: frozenset) -> None:
        row = out.setdefault((node, start), {"depth": depth, "weight": 0.0, "consolidated": False})
        row["depth"] = min(row["depth"], depth)
        row["weight"] = min(1.0, row["weight"] + weight)
        row["consolidated"] = row["consolidated"] or control
        for _child, parent, relation, pct in parents.get(node, []):
            if parent in seen:
                continue
            share = (pct if pct is not None else 100.0) / 100.0
            climb(start, parent, depth + 1, weight * share, control and relation != "joint_venture", seen | {parent})

    for account in accounts:
        climb(account, account, 0, 1.0, True, frozenset({account}))
    return out


def make_hierarchy(ws: Workspace, links: list[Link]) -> None:
    """(Re)create the three hierarchy tables for every account of the workspace."""
    names = dict(ws.engine.fetchall("SELECT account_id, name FROM accounts"))
    accounts = sorted(names)
    for table in ("hierarchy", "hierarchy_edges", "hierarchy_closure"):
        ws.engine.execute(f"DROP TABLE IF EXISTS {table}")
    for ddl in _DDL:
        ws.engine.execute(ddl)
    # As the hierarchy stage does: the tree follows control links only, so a JV (no controlling
    # parent) heads its own group and reaches its owners' subtrees through the closure alone.
    primary = {link[0]: link for link in links if link[2] != "joint_venture"}
    stakes = {link[0] for link in links if link[2] == "joint_venture"}

    def head(account: str) -> tuple[str, int, list[str]]:
        path = [account]
        while path[-1] in primary and primary[path[-1]][1] not in path:
            path.append(primary[path[-1]][1])
        return path[-1], len(path) - 1, path[::-1]

    closure = closure_rows(accounts, links)
    descendants = {a: sum(1 for (anc, d) in closure if anc == a and d != a) for a in accounts}
    rows = []
    for a in accounts:
        top, level, path = head(a)
        link = primary.get(a)
        rows.append({"account_id": a, "name": names[a], "parent_id": link[1] if link else None, "group_head_id": top,
                     "level": level, "path": " > ".join(path),
                     "relation": link[2] if link else ("joint_venture" if a in stakes else None),
                     "ownership_pct": link[3] if link else None,
                     "is_joint_venture": link is None and a in stakes,
                     "descendants": descendants[a], "is_group_head": top == a, "has_issue": False})
    ws.engine.insert_arrow("hierarchy", pa.Table.from_pylist(rows))
    if links:
        ws.engine.insert_arrow("hierarchy_edges", pa.Table.from_pylist([
            {"child_id": c, "parent_id": p, "relation": r, "ownership_pct": pct,
             "is_control": r != "joint_venture", "source": "crm"} for c, p, r, pct in links]))
    ws.engine.insert_arrow("hierarchy_closure", pa.Table.from_pylist([
        {"ancestor_id": anc, "descendant_id": d, **v} for (anc, d), v in sorted(closure.items())]))


def insert_accounts(ws: Workspace, rows: list[dict]) -> None:
    base = {"employees": None, "industry": None, "annual_revenue_rc": None, "attributes": None}
    ws.engine.insert_arrow("accounts", pa.Table.from_pylist([{**base, **r} for r in rows]))


def insert_deals(ws: Workspace, rows: list[dict]) -> None:
    """Deals as (deal_id, account_id, product, stage, amount_rc, gross_margin_rc, close_date)."""
    table = pa.table({
        "deal_id": [r["deal_id"] for r in rows], "account_id": [r["account_id"] for r in rows],
        "product": [r.get("product") for r in rows], "stage": [r["stage"] for r in rows],
        "amount": pa.array([r["amount_rc"] for r in rows], pa.float64()),
        "amount_rc": pa.array([r["amount_rc"] for r in rows], pa.float64()),
        "gross_margin_rc": pa.array([r.get("gross_margin_rc") for r in rows], pa.float64()),
        "seller_bu": [r.get("seller_bu") for r in rows],
        "close_date": pa.array([r.get("close_date") for r in rows], pa.date32()),
    })
    if rows:
        ws.engine.insert_arrow("deals", table)


def table_rows(ws: Workspace, table: str, key: str = "account_id") -> list[dict]:
    rows = ws.engine.fetch_dicts(f"SELECT * FROM {table}")
    return sorted(rows, key=lambda r: tuple(str(r.get(k)) for k in key.split(",")))


AS_OF = date(2026, 6, 30)
