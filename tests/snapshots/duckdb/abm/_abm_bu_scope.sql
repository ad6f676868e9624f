WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
)
SELECT 'account' AS scope, b.account_id, b.bu, b.open_deals, b.pipeline, b.revenue, b.history, b.active, b.first_day,
    b.r
FROM _abm_bu_account b
UNION ALL
SELECT 'group', m.group_id, b.bu, sum(b.open_deals), sum(b.pipeline), sum(b.revenue), sum(b.history),
    max(b.active), min(b.first_day), b.r
FROM _abm_bu_account b JOIN _abm_members m ON m.account_id = b.account_id
WHERE m.group_id IN (SELECT group_id FROM groups)
GROUP BY m.group_id, b.bu, b.r;

DROP TABLE IF EXISTS "_abm_bu_scope";
