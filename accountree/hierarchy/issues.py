"""Bad structures, found and explained: each issue names the accounts, the links, and a fix.

A bad link never stops the build: it is set aside by a deterministic rule (documented in the
message), the rest of the hierarchy is computed, and the issue is written to
`hierarchy_issues` (one row per issue) and `hierarchy_issue_accounts` (which accounts it flags,
for `hierarchy.has_issue` and for showing a group's issues in `accountree tree`).
"""

from __future__ import annotations

from accountree.hierarchy import worktables
from accountree.store import Workspace

COLUMNS = ["kind", "severity", "issue_key", "account_ids", "edges", "message", "suggested_fix"]
SEVERITY = {
    "cycle": "error", "self_parent": "error", "two_controlling_parents": "error", "ownership_cycle": "error",
    "unknown_parent": "warning", "unknown_child": "warning", "shares_over_100": "warning",
    "group_head_with_parent": "warning", "too_deep": "warning",
}

# (issue rows, flagged accounts): static SQL over the build's scratch tables.
FROM_LINKS = [
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'self_parent', 'error', 'self_parent:' || child_id, child_id, string_agg(edge_text, '; ' ORDER BY source),
       child_id || ' is recorded as its own parent; the link is ignored',
       'clear the parent of ' || child_id || ' in the source, or run: accountree unlink ' || child_id || ' ' || child_id
FROM _hier_rejected WHERE child_id = parent_id AND NOT suppressed GROUP BY child_id""",
     """
INSERT INTO _hier_issue_members (issue_key, account_id)
SELECT DISTINCT 'self_parent:' || child_id, child_id FROM _hier_rejected WHERE child_id = parent_id AND NOT suppressed"""),
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'unknown_parent', 'warning', 'unknown_parent:' || parent_id, string_agg(DISTINCT child_id, ', ' ORDER BY child_id),
       string_agg(edge_text, '; ' ORDER BY edge_text),
       'parent ' || parent_id || ' is not an account of the workspace (' || CAST(count(DISTINCT child_id) AS VARCHAR)
           || ' account(s) point at it); those links are ignored',
       'import account ' || parent_id || ' (or fix the parent id in the source), or run: accountree unlink CHILD '
           || parent_id
FROM _hier_rejected WHERE child_known AND NOT parent_known AND NOT suppressed GROUP BY parent_id""",
     """
INSERT INTO _hier_issue_members (issue_key, account_id)
SELECT DISTINCT 'unknown_parent:' || parent_id, child_id FROM _hier_rejected
WHERE child_known AND NOT parent_known AND NOT suppressed"""),
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'unknown_child', 'warning', 'unknown_child:' || child_id, '', string_agg(edge_text, '; ' ORDER BY edge_text),
       'link(s) from ' || child_id || ', which is not an account of the workspace; ignored',
       'import account ' || child_id || ' or remove the relationship rows'
FROM _hier_rejected WHERE NOT child_known GROUP BY child_id""",
     None),
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'group_head_with_parent', 'warning', 'group_head_with_parent:' || child_id, child_id,
       string_agg(edge_text, '; ' ORDER BY edge_text),
       child_id || ' is marked is_group_head, so the hierarchy stops there and its parent link(s) are ignored',
       'if ' || child_id || ' belongs to ' || min(parent_id) || ', clear is_group_head in the source or run: accountree link '
           || child_id || ' ' || min(parent_id)
FROM _hier_rejected WHERE head_stop AND parent_known AND child_id <> parent_id AND NOT suppressed GROUP BY child_id""",
     """
INSERT INTO _hier_issue_members (issue_key, account_id)
SELECT DISTINCT 'group_head_with_parent:' || child_id, child_id FROM _hier_rejected
WHERE head_stop AND parent_known AND child_id <> parent_id AND NOT suppressed"""),
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'two_controlling_parents', 'error', 'two_controlling_parents:' || child_id, child_id,
       string_agg(edge_text, '; ' ORDER BY claim_order),
       child_id || ' is claimed by ' || CAST(count(*) AS VARCHAR) || ' parents, each with control (share above '
           || $threshold_text || ' % or none given); consolidated into '
           || min(CASE WHEN claim_order = 1 THEN parent_id END)
           || ' (largest share, then lowest id), the other claims are ignored',
       'choose the parent: accountree link ' || child_id || ' PARENT [--pct N], or correct the shares in the source'
FROM _hier_selected WHERE claims_control AND claims > 1 GROUP BY child_id""",
     """
INSERT INTO _hier_issue_members (issue_key, account_id)
SELECT DISTINCT 'two_controlling_parents:' || child_id, child_id FROM _hier_selected
WHERE claims_control AND claims > 1"""),
    ("""
INSERT INTO _hier_issue_rows (kind, severity, issue_key, account_ids, edges, message, suggested_fix)
SELECT 'shares_over_100', 'warning', 'shares_over_100:' || child_id, child_id,
       string_agg(edge_text, '; ' ORDER BY parent_id),
       'the shares held in ' || child_id || ' add up to ' || CAST(CAST(max(total_pct) AS DECIMAL(9, 2)) AS VARCHAR)
           || ' %; ownership-weighted totals are capped at 100 %',
       'correct the ownership_pct of the links of ' || child_id
FROM _hier_selected WHERE total_pct > 100.001 GROUP BY child_id""",
     """
INSERT INTO _hier_issue_members (issue_key, account_id)
SELECT DISTINCT 'shares_over_100:' || child_id, child_id FROM _hier_selected WHERE total_pct > 100.001"""),
]


def start(ws: Workspace) -> None:
    worktables.create_empty(ws.engine, "_hier_issue_rows", dict.fromkeys(COLUMNS, "VARCHAR"))
    worktables.create_empty(ws.engine, "_hier_issue_members", {"issue_key": "VARCHAR", "account_id": "VARCHAR"})


def collect_link_issues(ws: Workspace, threshold: float) -> None:
    for rows_sql, members_sql in FROM_LINKS:
        ws.engine.execute(rows_sql, {"threshold_text": f"{threshold:g}"} if "$threshold_text" in rows_sql else None)
        if members_sql:
            ws.engine.execute(members_sql)


def add(ws: Workspace, found: list[dict[str, str]]) -> None:
    """Issues found outside SQL (cycles): dicts with COLUMNS plus `members` (list of account ids)."""
    worktables.insert_rows(ws.engine, "_hier_issue_rows", found, COLUMNS)
    members = [{"issue_key": f["issue_key"], "account_id": a} for f in found for a in f["members"]]
    worktables.insert_rows(ws.engine, "_hier_issue_members", members, ["issue_key", "account_id"])


def publish(ws: Workspace) -> None:
    """The public tables; issue ids are stable for the same data (ordered by kind and key)."""
    worktables.replace_output(ws.engine, "hierarchy_issues", """
        SELECT CAST(row_number() OVER (ORDER BY kind, issue_key) AS BIGINT) AS issue_id, kind, severity,
               account_ids, edges, message, suggested_fix, issue_key
        FROM _hier_issue_rows""")
    worktables.replace_output(ws.engine, "hierarchy_issue_accounts", """
        SELECT DISTINCT i.issue_id, m.account_id FROM _hier_issue_members m
        JOIN hierarchy_issues i ON i.issue_key = m.issue_key""")
