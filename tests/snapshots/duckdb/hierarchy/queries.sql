SELECT value FROM workspace_meta WHERE key = ?;

SELECT COUNT(*) FROM "hierarchy_edges";

SELECT e.child_id, e.parent_id, e.source, e.source_rank, e.ownership_pct FROM hierarchy_edges e
WHERE e.is_control AND NOT EXISTS (SELECT 1 FROM _hier_tree t WHERE t.account_id = e.child_id);

SELECT child_id, parent_id, source, source_rank, ownership_pct FROM hierarchy_edges WHERE NOT is_control;

SELECT count(*) AS accounts,
       count(*) FILTER (WHERE is_group_head AND descendants > 0) AS groups,
       count(*) FILTER (WHERE is_group_head AND descendants = 0 AND NOT is_joint_venture) AS standalone,
       coalesce(max(level), 0) AS max_depth,
       coalesce(max(descendants), 0) + 1 AS largest_group,
       count(*) FILTER (WHERE is_joint_venture) AS joint_ventures
FROM hierarchy;

SELECT kind, count(*) FROM hierarchy_issues GROUP BY kind ORDER BY kind;
