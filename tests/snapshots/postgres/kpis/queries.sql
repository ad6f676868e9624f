SELECT CURRENT_SCHEMA;

SELECT value FROM workspace_meta WHERE key = %s;

SELECT (SELECT COALESCE(MAX(word), 0) + 1 FROM kpi_product_bits), (SELECT COALESCE(MAX(word), 0) + 1 FROM kpi_bu_bits);

SELECT x.group_id, g.name AS group_name, x.account_id, k.name, k.status, x.product, COALESCE(pr.name, x.product) AS product_name, x.score, x.entity_rank, x.buyers, x.sisters, x.sibling_buyers, x.parent_buys, x.adoption, x.proximity, x.size_factor, x.icp_grade, x.icp_factor, k.open_pipeline, k.status_code <> 'customer' AS non_customer, CAST(x.buyers AS TEXT) || ' of ' || CAST(x.sisters AS TEXT) || CASE WHEN x.account_id = x.group_id THEN ' entities of its group ' WHEN x.sisters = 1 THEN ' other entity in ' ELSE ' other entities in ' END || COALESCE(g.name, x.group_id) || CASE WHEN x.buyers = 1 THEN ' buys ' ELSE ' buy ' END || COALESCE(pr.name, x.product) || CASE WHEN x.parent_buys AND x.sibling_buyers > 0 THEN ' (its parent and ' || CAST(x.sibling_buyers AS TEXT) || ' direct sibling' || CASE WHEN x.sibling_buyers > 1 THEN 's)' ELSE ')' END WHEN x.parent_buys THEN ' (its parent does)' WHEN x.sibling_buyers > 0 THEN ' (' || CAST(x.sibling_buyers AS TEXT) || ' direct sibling' || CASE WHEN x.sibling_buyers > 1 THEN 's)' ELSE ')' END ELSE '' END || '; this one is ' || k.status || CASE WHEN k.open_deals > 0 THEN ' with open pipeline on other products' ELSE '' END AS reason FROM kpi_cross_sell AS x JOIN account_kpis AS k ON k.account_id = x.account_id LEFT JOIN account_kpis AS g ON g.account_id = x.group_id LEFT JOIN products AS pr ON pr.product_id = x.product;

SELECT account_id, product, MIN(CASE WHEN won THEN close_date END) AS first_purchase, MAX(CASE WHEN won THEN close_date END) AS last_purchase, SUM(CASE WHEN won THEN amount ELSE 0 END) AS revenue_total, CAST(SUM(CASE WHEN won THEN 1 ELSE 0 END) AS BIGINT) AS won_deals, SUM(CASE WHEN is_open THEN amount ELSE 0 END) AS open_pipeline, CAST(SUM(CASE WHEN is_open THEN 1 ELSE 0 END) AS BIGINT) AS open_deals FROM (SELECT account_id, product, stage = 'won' AND close_date <= CAST('2026-11-23' AS DATE) AS won, NOT stage IN ('won', 'lost') AS is_open, close_date, COALESCE(amount_rc, 0) AS amount FROM deals) AS d GROUP BY account_id, product HAVING SUM(CASE WHEN won OR is_open THEN 1 ELSE 0 END) > 0;

SELECT COUNT(*) FROM "account_kpis";

SELECT COUNT(*) FROM "group_kpis";

SELECT COUNT(*) FROM "kpi_cross_sell";
