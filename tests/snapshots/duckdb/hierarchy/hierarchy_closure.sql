WITH RECURSIVE c(ancestor_id, descendant_id, depth, weight) AS (
    SELECT account_id, account_id, 0, CAST(1.0 AS DOUBLE) FROM _hier_tree
    UNION ALL
    SELECT c.ancestor_id, e.child_id, c.depth + 1, c.weight * e.weight
    FROM c JOIN hierarchy_edges e ON e.parent_id = c.descendant_id AND e.is_control
    WHERE c.depth < $max_depth
)
SELECT ancestor_id, descendant_id, depth, weight, TRUE AS consolidated FROM c;
