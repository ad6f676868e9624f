WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
), s AS (
    SELECT 'account' AS scope, b.* FROM _abm_bu_account b
    UNION ALL
    SELECT 'group', m.group_id,
        sum(b.rev1), sum(b.pip1), sum(b.his1), min(b.fd1), max(b.ac1)
    FROM _abm_bu_account b JOIN _abm_members m ON m.account_id = b.account_id
    WHERE m.group_id IN (SELECT group_id FROM groups)
    GROUP BY m.group_id
), p AS (
    SELECT s.scope, s.account_id, coalesce(rev1, 0) AS tr,
        coalesce(pip1, 0) AS tp, coalesce(his1, 0) AS th,
        CAST(CASE WHEN ac1 = 1 THEN 1 ELSE 0 END AS BIGINT) AS n_active,
        CASE WHEN ac1 = 1 THEN 1 END AS f1,
        rev1, pip1, his1, fd1
    FROM s
), scored AS (
    SELECT p.*,
        CASE WHEN his1 IS NOT NULL THEN $weight_revenue * coalesce(rev1 / nullif(tr, 0), 0) + $weight_pipeline * coalesce(pip1 / nullif(tp, 0), 0) + $weight_history * coalesce(CAST(his1 AS DOUBLE) / nullif(th, 0), 0) END AS sc1
    FROM p
), best AS (
    SELECT scored.*, greatest(sc1) AS best FROM scored
), won AS (
    SELECT best.*, CASE WHEN sc1 = best AND 0 = 0 THEN 1 END AS lead_r FROM best
)
SELECT w.scope, w.account_id, CASE w.lead_r WHEN 1 THEN b.bu1 END AS bu,
    CASE w.lead_r WHEN 1 THEN w.sc1 END AS score, 1 AS rank, w.n_active,
    CASE WHEN w.n_active > 0 THEN concat_ws(',', CASE WHEN w.f1 = 1 THEN b.bu1 END) END AS bus_active
FROM won w CROSS JOIN (SELECT max(CASE WHEN r = 1 THEN bu END) AS bu1 FROM _abm_bu_rank) b;

DROP TABLE IF EXISTS "_abm_lead_rule";
