"""The `hierarchy` build stage: links → effective edges → tree → closure → public tables.

Runs in one transaction: readers see the previous hierarchy until the new one is complete, and a
failure leaves the previous one in place. Public tables (column names are contracts):
`hierarchy`, `hierarchy_edges`, `hierarchy_closure`, `hierarchy_issues`,
`hierarchy_issue_accounts`. See README.md in this folder for the rule.
"""

from __future__ import annotations

from typing import Any

from accountree.build import BuildOptions, BuildStage
from accountree.hierarchy import closure, edges, issues, worktables
from accountree.hierarchy.settings import HierarchySettings, load_settings
from accountree.store import Workspace

HIERARCHY = """
WITH stakes AS (
    SELECT child_id, count(*) AS stakeholder_count,
           -- a joint venture: several holders none of which controls, or a link marked joint_venture
           count(*) > 1 OR count(*) FILTER (WHERE relation = 'joint_venture') > 0 AS is_jv,
           string_agg(parent_id || CASE WHEN ownership_pct IS NULL THEN ''
                      ELSE ' (' || CAST(CAST(ownership_pct AS DECIMAL(9, 2)) AS VARCHAR) || ' %)' END,
                      '; ' ORDER BY parent_id) AS stakeholders
    FROM hierarchy_edges WHERE NOT is_control GROUP BY child_id
),
sizes AS (SELECT ancestor_id, count(*) AS descendants FROM hierarchy_closure WHERE consolidated AND depth > 0
          GROUP BY ancestor_id),  -- leaves (most accounts) have no row: 0
flagged AS (SELECT DISTINCT account_id FROM _hier_issue_members)
SELECT a.account_id, a.name, t.parent_id, t.group_head_id, t.level, t.path,
       CASE WHEN t.parent_id IS NOT NULL THEN t.relation WHEN s.is_jv THEN 'joint_venture' END AS relation,
       t.ownership_pct,
       t.parent_id IS NULL AND coalesce(s.is_jv, FALSE) AS is_joint_venture,
       CAST(coalesce(z.descendants, 0) AS BIGINT) AS descendants,
       t.level = 0 AS is_group_head,
       f.account_id IS NOT NULL AS has_issue,
       t.link_source,
       s.stakeholders,
       CAST(coalesce(s.stakeholder_count, 0) AS BIGINT) AS stakeholder_count
FROM accounts a
JOIN _hier_tree t ON t.account_id = a.account_id
LEFT JOIN stakes s ON s.child_id = a.account_id
LEFT JOIN sizes z ON z.ancestor_id = a.account_id
LEFT JOIN flagged f ON f.account_id = a.account_id
"""

SUMMARY = """
SELECT count(*) AS accounts,
       count(*) FILTER (WHERE is_group_head AND descendants > 0) AS groups,
       count(*) FILTER (WHERE is_group_head AND descendants = 0 AND NOT is_joint_venture) AS standalone,
       coalesce(max(level), 0) AS max_depth,
       coalesce(max(descendants), 0) + 1 AS largest_group,
       count(*) FILTER (WHERE is_joint_venture) AS joint_ventures
FROM hierarchy
"""

SCRATCH = ("_hier_raw", "_hier_rejected", "_hier_selected", "_hier_tree", "_hier_tree_cut", "_hier_cut", "_hier_stake_pairs",
           "_hier_stake_ends", "_hier_stake_rows", "_hier_round", "_hier_next", "_hier_issue_rows",
           "_hier_issue_members")


def build_hierarchy(ws: Workspace, settings: HierarchySettings | None = None) -> dict[str, Any]:
    """Rebuild every hierarchy table from accounts, relationships and manual links."""
    settings = settings or load_settings(ws)
    engine = ws.engine
    max_depth = settings.max_depth
    # Scratch tables are temporary and created inside the transaction: a failure rolls them back
    # with everything else, so there is nothing to clean up on the error path.
    with engine.transaction(), engine.large_statements():
        issues.start(ws)
        edges.build_edges(ws, settings)
        issues.collect_link_issues(ws, settings.control_threshold)
        cycles_found = closure.build_tree(ws, max_depth)
        stake_info = closure.build_closure(ws, max_depth)
        issues.publish(ws)
        worktables.replace_output(engine, "hierarchy", HIERARCHY, index=("account_id", "group_head_id"))
        worktables.drop(engine, *SCRATCH)
    summary = engine.fetch_dicts(SUMMARY)[0]
    kinds = engine.fetchall("SELECT kind, count(*) FROM hierarchy_issues GROUP BY kind ORDER BY kind")
    out = {**{k: int(v) for k, v in summary.items()}, "cycles": cycles_found,
           "stake_cycles": stake_info["stake_cycles"],
           "issues": sum(int(n) for _, n in kinds), "issue_kinds": {k: int(n) for k, n in kinds}}
    if out["issues"]:
        out["details"] = "accountree hierarchy issues"
    return out


def _run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    return build_hierarchy(ws)


STAGE = BuildStage("hierarchy", "group heads, paths, joint ventures, closure for roll-ups, hierarchy issues", _run)
