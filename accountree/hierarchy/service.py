"""What the CLI, the API and the dashboard call: group trees, manual links, issues, history.

Manual links are stored as decisions (`manual_links`), never written into `accounts` or
`relationships`, so the next import of a CRM or registry file cannot undo them; every decision is
appended to `hierarchy_changes` with who, when, and the child's parent links before and after.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

from accountree.changes import changed
from accountree.errors import AccountreeError, NotFoundError
from accountree.store import Workspace, current_user

RELATIONS = ("subsidiary", "business_unit", "branch", "joint_venture")
KPI_COLUMNS = ("status", "revenue_cy", "margin_cy")
_NOT_BUILT = "Run `accountree build` (or `accountree build --stage hierarchy`) first."


class LinkError(AccountreeError):
    """A manual link that cannot be recorded as asked (self-link, circle, bad share or relation)."""


def _require_built(ws: Workspace) -> None:
    if not ws.engine.table_exists("hierarchy"):
        raise NotFoundError("the hierarchy has not been built in this workspace yet", hint=_NOT_BUILT)


def _resolve(ws: Workspace, account_id: str) -> str:
    """The account's id, following merges (an old id lands on its survivor)."""
    survivor = ws.engine.scalar("SELECT survivor_id FROM account_aliases WHERE old_id = ?", [account_id])
    found = survivor or account_id
    if not ws.engine.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [found]):
        raise NotFoundError(f"no account {account_id!r} in this workspace",
                            hint="Check the id (accountree export accounts lists them).")
    return found


# -- trees -----------------------------------------------------------------------------------------
_MEMBER_COLUMNS = ["account_id", "name", "parent_id", "group_head_id", "level", "relation", "ownership_pct",
                   "is_joint_venture", "descendants", "has_issue"]


# The group itself, and the groups of the joint ventures its members hold (one `?`: the head).
_OWN_GROUP = "h.group_head_id = ?"
_HELD_GROUPS = ("h.group_head_id IN (SELECT e.child_id FROM hierarchy_edges e JOIN hierarchy p "
                "ON p.account_id = e.parent_id WHERE p.group_head_id = ? AND NOT e.is_control)")


def _members_query(kpis: list[str], condition: str) -> exp.Select:
    """Rows of `hierarchy` for the groups `condition` selects, with the KPI columns when built."""
    query = exp.select(*[exp.column(c, table="h", quoted=True) for c in _MEMBER_COLUMNS]).from_(
        exp.table_("hierarchy", alias="h", quoted=True))
    if kpis:
        query = query.select(*[exp.column(c, table="k", quoted=True) for c in kpis]).join(
            exp.table_("account_kpis", alias="k", quoted=True), on="k.account_id = h.account_id", join_type="left")
    return query.where(exp.condition(condition)).order_by("h.level", "h.name", "h.account_id")


def kpi_columns(ws: Workspace) -> list[str]:
    """The KPI columns shown per node, once the KPI stage has built `account_kpis`."""
    if not ws.engine.table_exists("account_kpis"):
        return []
    present = set(ws.engine.table_columns("account_kpis"))
    return [c for c in KPI_COLUMNS if c in present] if "account_id" in present else []


def group_tree(ws: Workspace, account_id: str, *, max_depth: int | None = None,
               max_children: int | None = None) -> dict[str, Any]:
    """The whole group of an account as nested dicts, from its group head down.

    Joint ventures and minority stakes held by members appear under each holder with
    `stake: true` and the share held (their own subsidiaries below them), but they are counted in
    `group_size` of their own group only. `more` counts the children a node has but does not show
    (cut by `max_children`, or below `max_depth` levels).
    """
    _require_built(ws)
    account_id = _resolve(ws, account_id)
    engine = ws.engine
    focus = engine.fetch_dicts("SELECT group_head_id, path FROM hierarchy WHERE account_id = ?", [account_id])
    if not focus:
        raise NotFoundError(f"{account_id} is not in the hierarchy yet", hint=_NOT_BUILT)
    head = focus[0]["group_head_id"]
    kpis = kpi_columns(ws)
    rows = engine.fetch_dicts(_members_query(kpis, _OWN_GROUP), [head])
    stakes = engine.fetch_dicts(
        "SELECT e.child_id, e.parent_id, e.relation, e.ownership_pct, c.group_head_id AS child_group, "
        "c.name AS child_name "
        "FROM hierarchy_edges e JOIN hierarchy h ON h.account_id = e.parent_id "
        "JOIN hierarchy c ON c.account_id = e.child_id "
        "WHERE h.group_head_id = ? AND NOT e.is_control ORDER BY e.parent_id, e.child_id", [head])
    if any(s["child_group"] == s["child_id"] for s in stakes):  # subtrees of the JVs the group holds
        rows += engine.fetch_dicts(_members_query(kpis, _HELD_GROUPS), [head])
    nodes = {r["account_id"]: {**r, "stake": False, "children": [], "more": 0} for r in rows}
    children: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["parent_id"] is not None and r["account_id"] != head:
            children[r["parent_id"]].append(r["account_id"])
    stake_edges: dict[str, list[dict]] = defaultdict(list)
    for s in stakes:
        stake_edges[s["parent_id"]].append(s)
    tree = _assemble(nodes, children, stake_edges, head, max_depth, max_children)
    owners = engine.fetch_dicts(
        "SELECT parent_id, relation, ownership_pct, source FROM hierarchy_edges "
        "WHERE child_id = ? AND NOT is_control ORDER BY parent_id", [head])
    return {"account_id": account_id, "group_head_id": head, "path": focus[0]["path"],
            "group_size": int(nodes[head]["descendants"]) + 1, "kpi_columns": kpis,
            "group_kpis": _group_totals(ws, head),
            "owners": owners, "tree": tree, "issues": issues(ws, group_head_id=head)}


GROUP_TOTALS = ("group_status", "entities", "customer_entities", "revenue_cy", "margin_cy")


def _group_totals(ws: Workspace, head: str) -> dict[str, Any] | None:
    """The group's consolidated roll-up (the KPI stage's `group_kpis` row of its head), when built."""
    if not ws.engine.table_exists("group_kpis") or not set(GROUP_TOTALS) <= set(ws.engine.table_columns("group_kpis")):
        return None
    rows = ws.engine.fetch_dicts(f"SELECT {', '.join(GROUP_TOTALS)} FROM group_kpis WHERE account_id = ?", [head])  # noqa: S608 - fixed names
    return rows[0] if rows else None


def _assemble(nodes: dict[str, dict], children: dict[str, list[str]], stake_edges: dict[str, list[dict]],
              head: str, max_depth: int | None, max_children: int | None) -> dict:
    """Nest iteratively (groups can be deeper than Python's recursion limit)."""
    def fresh(account: str, stake: dict | None) -> dict:
        node = {k: v for k, v in nodes[account].items() if k != "children"} | {"children": [], "more": 0}
        if stake is not None:
            node.update(stake=True, relation=stake["relation"], ownership_pct=stake["ownership_pct"])
        return node

    root = fresh(head, None)
    todo = [(root, 0)]
    while todo:
        node, depth = todo.pop()
        if max_depth is not None and depth >= max_depth:
            node["more"] = len(children.get(node["account_id"], [])) + len(stake_edges.get(node["account_id"], []))
            continue
        kids = [fresh(c, None) for c in children.get(node["account_id"], [])]
        kids += [fresh(s["child_id"], s) if s["child_id"] in nodes else _outside(s)
                 for s in stake_edges.get(node["account_id"], [])]
        if max_children is not None and len(kids) > max_children:
            node["more"] = len(kids) - max_children
            kids = kids[:max_children]
        node["children"] = kids
        todo.extend((k, depth + 1) for k in kids if k["account_id"] in nodes)
    return root


def _outside(stake: dict) -> dict:
    """A stake in a company consolidated by another group: shown as a leaf naming that group."""
    return {"account_id": stake["child_id"], "name": stake["child_name"], "stake": True,
            "relation": stake["relation"], "ownership_pct": stake["ownership_pct"],
            "group_head_id": stake["child_group"], "children": [], "more": 0}


# -- issues and history ----------------------------------------------------------------------------
def issues(ws: Workspace, *, group_head_id: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Hierarchy issues of the last build: all, one kind, or those touching one group."""
    _require_built(ws)
    sql = ("SELECT i.issue_id, i.kind, i.severity, i.account_ids, i.edges, i.message, i.suggested_fix "
           "FROM hierarchy_issues i WHERE (CAST(? AS VARCHAR) IS NULL OR i.kind = ?) AND (CAST(? AS VARCHAR) IS NULL "
           "OR i.issue_id IN (SELECT ia.issue_id FROM hierarchy_issue_accounts ia "
           "JOIN hierarchy h ON h.account_id = ia.account_id WHERE h.group_head_id = ?)) ORDER BY i.issue_id")
    return ws.engine.fetch_dicts(sql, [kind, kind, group_head_id, group_head_id])


def changes(ws: Workspace, account_id: str | None = None) -> list[dict[str, Any]]:
    """The audit trail of manual hierarchy decisions, newest first."""
    return ws.engine.fetch_dicts(
        "SELECT change_id, changed_at, changed_by, action, child_id, parent_id, before, after, note "
        "FROM hierarchy_changes WHERE CAST(? AS VARCHAR) IS NULL OR child_id = ? OR parent_id = ? "
        "ORDER BY change_id DESC", [account_id, account_id, account_id])


# -- manual links ----------------------------------------------------------------------------------
def _state(ws: Workspace, child_id: str) -> dict[str, Any]:
    """The child's parents per the last build, and the manual decisions recorded for it."""
    parents = None
    if ws.engine.table_exists("hierarchy_edges"):
        parents = ws.engine.fetch_dicts(
            "SELECT parent_id, relation, ownership_pct, source, is_control FROM hierarchy_edges "
            "WHERE child_id = ? ORDER BY parent_id", [child_id])
    manual = ws.engine.fetch_dicts(
        "SELECT action, parent_id, relation, ownership_pct FROM manual_links WHERE child_id = ? "
        "ORDER BY action, parent_id", [child_id])
    return {"parents": parents, "manual": manual}


def _record(ws: Workspace, action: str, child_id: str, parent_id: str | None, user: str | None,
            note: str | None, before: dict, rebuild: bool) -> dict[str, Any]:
    kpis = None
    if rebuild:
        from accountree.hierarchy.stage import build_hierarchy

        build_hierarchy(ws)
        kpis = _refresh_kpis(ws, child_id, parent_id, before)
    after = _state(ws, child_id)
    change_id = int(ws.engine.scalar("SELECT coalesce(max(change_id), 0) + 1 FROM hierarchy_changes"))
    change = {"change_id": change_id, "changed_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
              "changed_by": user or current_user(), "action": action, "child_id": child_id, "parent_id": parent_id,
              "before": json.dumps(before, default=str), "after": json.dumps(after, default=str), "note": note}
    ws.engine.execute("INSERT INTO hierarchy_changes (change_id, changed_at, changed_by, action, child_id, parent_id, "
                      "before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(change.values()))
    if kpis is not None:
        change["kpis"] = kpis
    return change


def _refresh_kpis(ws: Workspace, child_id: str, parent_id: str | None, before: dict) -> dict[str, Any] | None:
    """Once the hierarchy is rebuilt: the change announced (`accountree.changes`) with the child and
    its old and new parents, in the change's transaction; the KPIs react (their subtree's and every
    group's it left or joined: roll-ups never show the old structure). None without KPIs."""
    touched = {child_id, *(p["parent_id"] for p in before["parents"]), *([parent_id] if parent_id else [])}
    return changed(ws, sorted(touched), groups=True, by="hierarchy").get("kpis")


def link(ws: Workspace, child_id: str, parent_id: str, relation: str = "subsidiary",
         ownership_pct: float | None = None, user: str | None = None, note: str | None = None,
         rebuild: bool = True) -> dict[str, Any]:
    """Make `parent_id` a parent of `child_id`, above any CRM or registry link (default precedence).

    Several manual links on one child describe its shareholders (a JV: two links at 50 %). The
    hierarchy is rebuilt at once unless `rebuild=False`, and the KPIs of the groups the child
    leaves and joins are refreshed (when the KPIs are built).
    """
    child_id, parent_id = _resolve(ws, child_id), _resolve(ws, parent_id)
    if child_id == parent_id:
        raise LinkError(f"{child_id} cannot be its own parent")
    if relation not in RELATIONS:
        raise LinkError(f"unknown relation {relation!r}", hint=f"Use one of: {', '.join(RELATIONS)}.")
    if ownership_pct is not None and not 0 < ownership_pct <= 100:
        raise LinkError(f"--pct must be a share above 0 and at most 100, not {ownership_pct:g}")
    if ws.engine.table_exists("hierarchy_closure") and ws.engine.scalar(
            "SELECT count(*) FROM hierarchy_closure WHERE ancestor_id = ? AND descendant_id = ?", [child_id, parent_id]):
        raise LinkError(f"{parent_id} is below {child_id} in the hierarchy: the link would make a circle",
                        hint=f"Unlink {parent_id} from its parent first, or link it elsewhere.")
    with ws.engine.transaction():
        before = _state(ws, child_id)
        ws.engine.execute("DELETE FROM manual_links WHERE child_id = ? AND (parent_id = ? OR action = 'detach')",
                          [child_id, parent_id])
        ws.engine.execute("INSERT INTO manual_links (child_id, parent_id, action, relation, ownership_pct, note, "
                          "created_by, created_at) VALUES (?, ?, 'link', ?, ?, ?, ?, ?)",
                          [child_id, parent_id, relation, ownership_pct, note, user or current_user(),
                           datetime.now(UTC).replace(tzinfo=None, microsecond=0)])
        return _record(ws, "link", child_id, parent_id, user, note, before, rebuild)


def unlink(ws: Workspace, child_id: str, parent_id: str | None = None, user: str | None = None,
           note: str | None = None, rebuild: bool = True) -> dict[str, Any]:
    """Remove one parent of `child_id` (or, without `parent_id`, all of them) for good.

    The decision is kept, so a later import restating the link does not bring it back; `link`
    the same pair again to undo it. The parent may be an unknown id (to silence a bad CRM link).
    """
    child_id = _resolve(ws, child_id)
    action = "unlink" if parent_id is not None else "detach"
    with ws.engine.transaction():
        before = _state(ws, child_id)
        if parent_id is None:
            ws.engine.execute("DELETE FROM manual_links WHERE child_id = ?", [child_id])
        else:
            ws.engine.execute("DELETE FROM manual_links WHERE child_id = ? AND parent_id = ?", [child_id, parent_id])
        ws.engine.execute("INSERT INTO manual_links (child_id, parent_id, action, created_by, created_at, note) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          [child_id, parent_id, action, user or current_user(),
                           datetime.now(UTC).replace(tzinfo=None, microsecond=0), note])
        return _record(ws, action, child_id, parent_id, user, note, before, rebuild)
