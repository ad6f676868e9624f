WITH usable AS (
    SELECT child_id, parent_id, relation, ownership_pct, source, source_rank, origin,
           consolidates OR coalesce(ownership_pct > $threshold, relation <> 'joint_venture') AS claims_control
    FROM _hier_raw
    WHERE child_known AND parent_known AND child_id <> parent_id AND NOT head_stop AND NOT suppressed
), counted AS (
    SELECT child_id, count(*) AS n FROM usable GROUP BY child_id
), single AS (
    SELECT u.child_id, u.parent_id, u.relation, u.ownership_pct, u.source, u.source_rank,
           CAST(NULL AS VARCHAR) AS edge_text,
           u.claims_control, CAST(1 AS BIGINT) AS claim_order,
           CAST(CASE WHEN u.claims_control THEN 1 ELSE 0 END AS BIGINT) AS claims,
           u.ownership_pct AS total_pct, CAST(1 AS BIGINT) AS kept
    FROM usable u JOIN counted n ON n.child_id = u.child_id AND n.n = 1
), dedup AS (
    SELECT u.*, row_number() OVER (PARTITION BY u.child_id, u.parent_id ORDER BY u.source_rank, u.origin, u.source) AS dup
    FROM usable u JOIN counted n ON n.child_id = u.child_id AND n.n > 1
), best AS (
    SELECT *, min(source_rank) OVER (PARTITION BY child_id) AS best_rank FROM dedup WHERE dup = 1
), claimed AS (
    SELECT child_id, parent_id, relation, ownership_pct, source, source_rank,
           child_id || ' -> ' || parent_id || ' (' || source
               || CASE WHEN ownership_pct IS NULL THEN ''
                       ELSE ', ' || CAST(CAST(ownership_pct AS DECIMAL(9, 2)) AS VARCHAR) || ' %' END || ')' AS edge_text,
           claims_control
    FROM best WHERE source_rank = best_rank
), several AS (
    SELECT *,
           row_number() OVER (PARTITION BY child_id ORDER BY claims_control DESC, ownership_pct IS NULL,
                                                             ownership_pct DESC, parent_id) AS claim_order,
           sum(CASE WHEN claims_control THEN 1 ELSE 0 END) OVER (PARTITION BY child_id) AS claims,
           sum(ownership_pct) OVER (PARTITION BY child_id) AS total_pct,
           count(*) OVER (PARTITION BY child_id) AS n_best
    FROM claimed
)
SELECT * FROM single
UNION ALL
SELECT child_id, parent_id, relation, ownership_pct, source, source_rank, edge_text, claims_control,
       CAST(claim_order AS BIGINT), CAST(claims AS BIGINT), total_pct,
       CAST(n_best - greatest(claims - 1, 0) AS BIGINT) AS kept
FROM several;

DROP TABLE IF EXISTS "_hier_selected";
