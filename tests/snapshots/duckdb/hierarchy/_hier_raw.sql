WITH declared AS (
    SELECT child_id, trim(parent_id) AS parent_id, coalesce(relation, 'subsidiary') AS relation, ownership_pct,
           lower(source) AS source
    FROM relationships
    UNION ALL
    SELECT child_id, parent_id, coalesce(relation, 'subsidiary'), ownership_pct, 'manual'
    FROM manual_links WHERE action = 'link'
), links AS (
    SELECT account_id AS child_id, trim(parent_id) AS parent_id, 'subsidiary' AS relation,
           CAST(NULL AS DOUBLE) AS ownership_pct, lower(source) AS source, 1 AS origin,
           TRUE AS child_known, coalesce(is_group_head, FALSE) AS child_is_head
    FROM accounts WHERE parent_id IS NOT NULL AND trim(parent_id) <> ''
    UNION ALL
    SELECT coalesce(ac.survivor_id, d.child_id), d.parent_id, d.relation, d.ownership_pct, d.source, 0,
           c.account_id IS NOT NULL, coalesce(c.is_group_head, FALSE)
    FROM declared d
    LEFT JOIN account_aliases ac ON ac.old_id = d.child_id
    LEFT JOIN accounts c ON c.account_id = coalesce(ac.survivor_id, d.child_id)
), removed AS (
    SELECT DISTINCT child_id, parent_id, action FROM manual_links WHERE action IN ('unlink', 'detach')
), aliased AS (
    SELECT l.child_id, coalesce(ap.survivor_id, l.parent_id) AS parent_id, l.relation, l.ownership_pct, l.source,
           l.origin, l.child_known, l.child_is_head
    FROM links l LEFT JOIN account_aliases ap ON ap.old_id = l.parent_id
)
SELECT a.child_id, a.parent_id, a.relation, a.ownership_pct, a.source, a.origin,
       CASE WHEN a.source = 'manual' THEN $rank_manual
            WHEN a.source IN ('gleif', 'dnb', 'sirene') THEN $rank_registry
            ELSE $rank_crm END AS source_rank,
       a.child_known,
       p.account_id IS NOT NULL AS parent_known,
       a.child_is_head AND a.source <> 'manual' AS head_stop,
       a.source IN ('gleif', 'dnb', 'sirene') AND a.relation <> 'joint_venture' AS consolidates,
       a.source <> 'manual' AND (u.child_id IS NOT NULL OR d.child_id IS NOT NULL) AS suppressed
FROM aliased a
LEFT JOIN accounts p ON p.account_id = a.parent_id
LEFT JOIN removed u ON u.action = 'unlink' AND u.child_id = a.child_id AND u.parent_id = a.parent_id
LEFT JOIN removed d ON d.action = 'detach' AND d.child_id = a.child_id;

DROP TABLE IF EXISTS "_hier_raw";
