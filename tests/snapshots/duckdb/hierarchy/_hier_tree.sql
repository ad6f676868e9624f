WITH RECURSIVE t(account_id, group_head_id, level, path, parent_id, relation, ownership_pct, link_source) AS (
    SELECT a.account_id, a.account_id, 0, CAST(a.account_id AS VARCHAR), CAST(NULL AS VARCHAR),
           CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE), CAST(NULL AS VARCHAR)
    FROM accounts a
    WHERE NOT EXISTS (SELECT 1 FROM hierarchy_edges e WHERE e.child_id = a.account_id AND e.is_control)
    UNION ALL
    SELECT e.child_id, t.group_head_id, t.level + 1, t.path || ' > ' || e.child_id, e.parent_id,
           e.relation, e.ownership_pct, e.source
    FROM t JOIN hierarchy_edges e ON e.parent_id = t.account_id AND e.is_control
    WHERE t.level < $max_depth
)
SELECT * FROM t;

DROP TABLE IF EXISTS "_hier_tree";
