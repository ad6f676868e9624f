WITH groups AS (SELECT group_id FROM _abm_members GROUP BY group_id HAVING COUNT(*) >= 2) SELECT 'account' AS scope, b.account_id, b.bu, b.open_deals, b.pipeline, b.revenue, b.history, b.active, b.first_day, b.r FROM _abm_bu_account AS b UNION ALL SELECT 'group', m.group_id, b.bu, SUM(b.open_deals), SUM(b.pipeline), SUM(b.revenue), SUM(b.history), MAX(b.active), MIN(b.first_day), b.r FROM _abm_bu_account AS b JOIN _abm_members AS m ON m.account_id = b.account_id WHERE m.group_id IN (SELECT group_id FROM groups) GROUP BY m.group_id, b.bu, b.r;

DROP TABLE IF EXISTS "_abm_bu_scope";
