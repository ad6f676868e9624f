SELECT value FROM workspace_meta WHERE key = %s;

SELECT COUNT(*) FROM "hierarchy_edges";

SELECT e.child_id, e.parent_id, e.source, e.source_rank, e.ownership_pct FROM hierarchy_edges AS e WHERE e.is_control AND NOT EXISTS(SELECT 1 FROM _hier_tree AS t WHERE t.account_id = e.child_id);

SELECT child_id, parent_id, source, source_rank, ownership_pct FROM hierarchy_edges WHERE NOT is_control;

SELECT COUNT(*) AS accounts, COUNT(*) FILTER(WHERE is_group_head AND descendants > 0) AS groups, COUNT(*) FILTER(WHERE is_group_head AND descendants = 0 AND NOT is_joint_venture) AS standalone, COALESCE(MAX(level), 0) AS max_depth, COALESCE(MAX(descendants), 0) + 1 AS largest_group, COUNT(*) FILTER(WHERE is_joint_venture) AS joint_ventures FROM hierarchy;

SELECT kind, COUNT(*) FROM hierarchy_issues GROUP BY kind ORDER BY kind;
