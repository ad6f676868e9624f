SELECT *, child_id || ' -> ' || parent_id || ' (' || source
          || CASE WHEN ownership_pct IS NULL THEN ''
                  ELSE ', ' || CAST(CAST(ownership_pct AS DECIMAL(9, 2)) AS VARCHAR) || ' %' END || ')' AS edge_text
FROM _hier_raw
WHERE NOT suppressed AND NOT (child_known AND parent_known AND child_id <> parent_id AND NOT head_stop);

DROP TABLE IF EXISTS "_hier_rejected";
