"""Account mapping: who is who at a customer, how strong our relationship is, which buying roles
are covered — per account, per group and per open deal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from accountree.errors import ConfigError, NotFoundError
from accountree.kam.inputs import attribute
from accountree.kam.meddic import departed
from accountree.kam.portfolio import COMMITTEE_ROLES
from accountree.kam.settings import KamSettings, load_settings, reference_date
from accountree.store import Workspace, current_user

BUYING_ROLES = ("economic_buyer", "champion", "influencer", "user", "buyer", "blocker", "other")
ROLE_LABELS = {"economic_buyer": "economic buyer", "champion": "champion", "influencer": "technical influencer",
               "user": "end user", "buyer": "purchaser", "blocker": "blocker", "other": "other"}


def strength(recent_points: float, year_points: float, settings: KamSettings) -> str:
    """Relationship strength from the contact's activities: the last 12 months' weights, the last
    90 days counted twice (a relationship cools without contact)."""
    points = float(recent_points or 0) + float(year_points or 0)
    if points >= settings.strong_points:
        return "strong"
    if points >= settings.medium_points:
        return "medium"
    return "weak" if points > 0 else "none"


def stakeholder_row(contact: dict[str, Any], activity: dict[str, Any] | None, settings: KamSettings) -> dict[str, Any]:
    activity = activity or {}
    return {
        "contact_id": contact["contact_id"], "account_id": contact["account_id"], "name": contact["name"],
        "title": contact["title"], "buying_role": contact["buying_role"], "reports_to": contact["reports_to"],
        "strength": strength(activity.get("recent_points", 0), activity.get("year_points", 0), settings),
        "last_interaction": activity.get("last_interaction"), "interactions": activity.get("interactions", 0),
        "sentiment": None if contact.get("sentiment") is None else str(contact["sentiment"]),
        "start_date": contact["start_date"], "end_date": contact["end_date"], "left_company": contact["left"],
    }


def _members(ws: Workspace, account_id: str, group: bool) -> list[str]:
    if not group:
        return [account_id]
    if ws.engine.table_exists("hierarchy"):
        head = ws.engine.scalar("SELECT group_head_id FROM hierarchy WHERE account_id = ?", [account_id]) or account_id
        rows = ws.engine.fetchall("SELECT account_id FROM hierarchy WHERE group_head_id = ? ORDER BY account_id", [head])
        return sorted({account_id, head, *(r[0] for r in rows)})
    rows = ws.engine.fetchall(
        "WITH RECURSIVE sub(account_id) AS (SELECT CAST(? AS VARCHAR) UNION "
        "SELECT a.account_id FROM accounts a JOIN sub ON a.parent_id = sub.account_id) SELECT account_id FROM sub",
        [account_id],
    )
    return sorted(r[0] for r in rows)


def _where_in(sql: str, column: str, n: int) -> exp.Expression:
    """`sql` (static, DuckDB dialect) with `AND column IN (?, …)` for n parameters appended."""
    table, _, name = column.rpartition(".")
    return sqlglot.parse_one(sql, read="duckdb").where(
        exp.column(name, table=table or None).isin(*[exp.Placeholder() for _ in range(n)]))


def people(ws: Workspace, account_ids: list[str], as_of: date | None = None) -> list[dict[str, Any]]:
    """Stakeholder rows of these accounts, computed live (buying-role edits show at once)."""
    as_of = reference_date(ws, as_of)
    settings = load_settings(ws)
    out: list[dict[str, Any]] = []
    for start in range(0, len(account_ids), 500):
        chunk = account_ids[start:start + 500]
        contacts = ws.engine.fetch_dicts(_where_in(
            "SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role, "
            "c.reports_to, c.start_date, c.end_date, c.attributes FROM contacts c "
            "LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id ORDER BY c.contact_id", "c.account_id",
            len(chunk)), chunk)
        activity = {r["contact_id"]: r for r in ws.engine.fetch_dicts(_where_in(
            'SELECT a.contact_id, max(a."date") AS last_interaction, count(*) AS interactions, '
            'coalesce(sum(coalesce(a.weight, 1)) FILTER (WHERE a."date" > ?), 0) AS recent_points, '
            'coalesce(sum(coalesce(a.weight, 1)) FILTER (WHERE a."date" > ?), 0) AS year_points '
            'FROM activities a JOIN contacts c ON c.contact_id = a.contact_id '
            'WHERE a."date" <= ? GROUP BY a.contact_id', "c.account_id", len(chunk)),
            [as_of - timedelta(days=90), as_of - timedelta(days=365), as_of, *chunk])}
        for c in contacts:
            attrs = c.pop("attributes")
            c["sentiment"] = attribute(attrs, "sentiment") or attribute(attrs, "relationship")
            c["left"] = c["end_date"] is not None and c["end_date"] <= as_of
            out.append(stakeholder_row(c, activity.get(c["contact_id"]), settings))
    return out


def _account(ws: Workspace, account_id: str) -> dict[str, Any]:
    rows = ws.engine.fetch_dicts("SELECT account_id, name, owner FROM accounts WHERE account_id = ?", [account_id])
    if not rows:
        raise NotFoundError(f"no account {account_id!r} in this workspace", hint="Check the id with `accountree export accounts`.")
    return rows[0]


def tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest people under their manager (`reports_to`); anyone whose manager is unknown, outside the
    scope or part of a reporting cycle is a root, so nobody is ever dropped."""
    nodes = {r["contact_id"]: {**r, "reports": []} for r in rows}
    roots = []
    for cid, node in nodes.items():
        boss, seen, on_cycle = node["reports_to"], {cid}, False
        while boss in nodes:
            if boss == cid:
                on_cycle = True
                break
            if boss in seen:
                break
            seen.add(boss)
            boss = nodes[boss]["reports_to"]
        if node["reports_to"] in nodes and not on_cycle:
            nodes[node["reports_to"]]["reports"].append(node)
        else:
            roots.append(node)
    return roots


def org_chart(ws: Workspace, account_id: str, group: bool = False, as_of: date | None = None) -> dict[str, Any]:
    """The client org chart as a nested dict: `roots` → `reports` → …, each person with buying
    role, strength, last interaction and whether they left; `group=True` spans the whole group."""
    account = _account(ws, account_id)
    members = _members(ws, account_id, group)
    rows = people(ws, members, as_of)
    return {**account, "scope": "group" if group else "account", "accounts": members, "people": len(rows),
            "left": sum(1 for r in rows if r["left_company"]), "roots": tree(rows)}


def _open_deals(ws: Workspace, account_ids: list[str]) -> list[dict[str, Any]]:
    return ws.engine.fetch_dicts(_where_in(
        "SELECT d.deal_id, d.account_id, d.stage, d.amount_rc, m.economic_buyer, m.champion FROM deals d "
        "LEFT JOIN meddic m ON m.deal_id = d.deal_id WHERE d.stage NOT IN ('won', 'lost') ORDER BY d.deal_id",
        "d.account_id", len(account_ids)), account_ids)


def committee_messages(name: str, missing: list[str], deals: list[dict[str, Any]]) -> list[str]:
    if not deals:
        return [f"no {ROLE_LABELS[r]} identified at {name}" for r in missing]
    out = []
    for role in COMMITTEE_ROLES:
        lacking = sum(1 for d in deals if role in d["missing"])
        if lacking == len(deals):
            which = "the open deal" if lacking == 1 else f"the {lacking} open deals"
            out.append(f"no {ROLE_LABELS[role]} identified on {which} of {name}")
        elif lacking:
            out.append(f"no {ROLE_LABELS[role]} identified on {lacking} of the {len(deals)} open deals of {name}")
    return out


def buying_committee(ws: Workspace, account_id: str, group: bool = False, as_of: date | None = None) -> dict[str, Any]:
    """Which buying roles are held by people still in place, which are missing, per account and
    per open deal (a deal also counts the economic buyer and champion written in its MEDDIC,
    unless they left)."""
    account = _account(ws, account_id)
    members = _members(ws, account_id, group)
    everyone = people(ws, members, as_of)
    rows = [r for r in everyone if not r["left_company"]]
    gone = {(r["name"] or "").strip().lower() for r in everyone if r["left_company"] and r["name"]}
    holders: dict[str, list[str]] = {role: [] for role in BUYING_ROLES}
    for r in rows:
        if r["buying_role"] in holders:
            holders[r["buying_role"]].append(r["name"] or r["contact_id"])
    identified = [role for role in BUYING_ROLES if holders[role]]
    missing = [role for role in COMMITTEE_ROLES if not holders[role]]
    deals = []
    for d in _open_deals(ws, members):
        have = set(identified) | {k for k in ("economic_buyer", "champion") if d[k] and not departed(d[k], gone)}
        deals.append({**d, "identified": sorted(have & set(COMMITTEE_ROLES)),
                      "missing": [r for r in COMMITTEE_ROLES if r not in have]})
    return {**account, "scope": "group" if group else "account", "roles": holders, "identified": identified,
            "missing": missing, "deals": deals, "messages": committee_messages(account["name"], missing, deals)}


def set_buying_role(ws: Workspace, contact_id: str, role: str, user: str | None = None) -> dict[str, Any]:
    """Set a contact's buying role in accountree (kept over CRM re-imports until cleared with role '')."""
    role = role.strip().lower().replace(" ", "_")
    if role and role not in BUYING_ROLES:
        raise ConfigError(f"unknown buying role {role!r}", hint=f"Roles: {', '.join(BUYING_ROLES)}.")
    if ws.engine.scalar("SELECT count(*) FROM contacts WHERE contact_id = ?", [contact_id]) == 0:
        raise NotFoundError(f"no contact {contact_id!r} in this workspace")
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM kam_contact_roles WHERE contact_id = ?", [contact_id])
        if role:
            ws.engine.execute("INSERT INTO kam_contact_roles VALUES (?, ?, ?, ?)",
                              [contact_id, role, user or current_user(), datetime.now(UTC).replace(tzinfo=None)])
    return {"contact_id": contact_id, "buying_role": role or None, "set_by": user or current_user()}
