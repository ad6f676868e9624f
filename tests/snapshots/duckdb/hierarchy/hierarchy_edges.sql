SELECT child_id, parent_id, relation, ownership_pct,
       claims_control AND claim_order = 1 AS is_control, source,
       CASE WHEN ownership_pct IS NOT NULL THEN ownership_pct / 100.0
            WHEN claims_control THEN CAST(1.0 AS DOUBLE)
            ELSE CAST(1.0 AS DOUBLE) / kept END AS weight,
       source_rank
FROM _hier_selected
WHERE NOT (claims_control AND claim_order > 1);
