SELECT value FROM workspace_meta WHERE key = %s;

SELECT deal_id FROM meddic WHERE source <> 'import';

SELECT deal_id, attributes FROM kam_meddic_candidates_step WHERE NOT plain ORDER BY deal_id;

SELECT COUNT(*) FROM meddic WHERE source = 'import';

SELECT CURRENT_SCHEMA;

SELECT account_id, attributes FROM accounts WHERE LOWER(CAST(attributes AS TEXT)) LIKE '%potential%' ORDER BY account_id;

SELECT contact_id, attributes FROM contacts WHERE LOWER(CAST(attributes AS TEXT)) LIKE '%sentiment%' OR LOWER(CAST(attributes AS TEXT)) LIKE '%relationship%';

SELECT COUNT(*) FROM kam_stakeholders;

SELECT COUNT(*) FROM kam_meddic;

SELECT account_id, champion, champion_source FROM kam_meddic WHERE NOT champion IS NULL AND champion_source IS DISTINCT FROM 'inferred from contacts';

WITH c AS (SELECT c.contact_id, c.account_id, c.name, c.title, COALESCE(r.buying_role, c.buying_role) AS buying_role, c.start_date, c.end_date, c.seller_bu, COALESCE(c.end_date <= CAST(%s AS DATE), FALSE) AS "left" FROM contacts AS c LEFT JOIN kam_contact_roles AS r ON r.contact_id = c.contact_id), known AS (SELECT DISTINCT account_id FROM kam_snapshot_contacts) SELECT c.*, NOT p.contact_id IS NULL AS before_seen, p.title AS before_title, p.buying_role AS before_role, p.end_date AS before_end_date, NOT k.account_id IS NULL AS account_known, NOT a.account_id IS NULL AS account_exists, a.owner AS account_owner FROM c LEFT JOIN kam_snapshot_contacts AS p ON p.contact_id = c.contact_id LEFT JOIN known AS k ON k.account_id = c.account_id LEFT JOIN accounts AS a ON a.account_id = c.account_id WHERE CASE WHEN c."left" THEN (NOT p.contact_id IS NULL AND p.end_date IS NULL) OR c.end_date >= CAST(%s AS DATE) ELSE (c.start_date >= CAST(%s AS DATE) AND c.start_date <= CAST(%s AS DATE)) OR (p.contact_id IS NULL AND NOT k.account_id IS NULL) OR (NOT p.contact_id IS NULL AND (p.title IS DISTINCT FROM c.title OR p.buying_role IS DISTINCT FROM c.buying_role)) END ORDER BY c.contact_id;

SELECT c.account_id, c.seller_bu, COUNT(*) AS n FROM contacts AS c LEFT JOIN kam_contact_roles AS r ON r.contact_id = c.contact_id WHERE (c.end_date IS NULL OR c.end_date > CAST(%s AS DATE)) AND COALESCE(r.buying_role, c.buying_role) = 'champion' AND c.account_id IN (SELECT account_id FROM contacts WHERE end_date <= CAST(%s AS DATE)) GROUP BY c.account_id, c.seller_bu;

WITH progress AS (SELECT d.account_id, MAX(GREATEST(d.created_at, s.since, CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(%s AS DATE) THEN d.close_date END)) AS last_progress, MAX(CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(%s AS DATE) THEN 0 ELSE 1 END) AS has_open FROM deals AS d LEFT JOIN kam_deal_stages AS s ON s.deal_id = d.deal_id GROUP BY d.account_id), activity AS (SELECT account_id, COUNT(*) AS activities FROM activities WHERE "date" > CAST(%s AS DATE) AND "date" <= CAST(%s AS DATE) GROUP BY account_id) SELECT p.account_id, p.last_progress, p.has_open, a.activities, NOT k.account_id IS NULL AS known, k.owner, k.relationship FROM progress AS p JOIN activity AS a ON a.account_id = p.account_id LEFT JOIN kam_accounts AS k ON k.account_id = p.account_id AND k.scope = 'account' WHERE p.last_progress <= CAST(%s AS DATE) AND a.activities >= %s ORDER BY p.account_id;

SELECT scope, account_id, owner, nrr_now, nrr_prev, nrr_period, kam_unit FROM kam_accounts WHERE kam_unit AND nrr_prev > 0 AND nrr_now <= nrr_prev * (1 - CAST(%s AS DOUBLE PRECISION)) ORDER BY scope DESC NULLS LAST, account_id;

SELECT b.account_id, b.name, b.owner, b.parent_id, b.group_head_id, s.parent_id AS before_parent_id, s.group_head_id AS before_group_head_id, COALESCE(NOT pb.account_id IS NULL AND ps.group_head_id IS DISTINCT FROM pb.group_head_id, FALSE) AS carried FROM kam_base_step AS b JOIN kam_snapshot_parents AS s ON s.account_id = b.account_id LEFT JOIN kam_base_step AS pb ON pb.account_id = b.parent_id LEFT JOIN kam_snapshot_parents AS ps ON ps.account_id = b.parent_id WHERE s.parent_id IS DISTINCT FROM b.parent_id OR s.group_head_id IS DISTINCT FROM b.group_head_id ORDER BY b.account_id;

SELECT m.old_id, m.survivor_id, a.name, a.owner FROM account_aliases AS m JOIN kam_snapshot_parents AS s ON s.account_id = m.old_id JOIN accounts AS a ON a.account_id = m.survivor_id WHERE NOT m.old_id IN (SELECT account_id FROM accounts) ORDER BY m.old_id;

WITH x AS (SELECT u.account_id AS unit_id, u.name AS unit_name, u.owner AS unit_owner, x.account_id, COALESCE(NULLIF(x.product, ''), '') AS product, x.product_name FROM cross_sell AS x JOIN kam_accounts AS e ON e.account_id = x.account_id AND e.scope = 'account' JOIN kam_accounts AS u ON u.account_id = e.kam_unit_id AND u.kam_unit WHERE x.entity_rank <= %s AND COALESCE(u.tier, 3) <= %s), p AS (SELECT unit_id, product, COUNT(DISTINCT account_id) AS entities, MAX(product_name) AS product_name FROM x GROUP BY unit_id, product), r AS (SELECT p.*, RANK() OVER (PARTITION BY unit_id ORDER BY entities DESC NULLS LAST) AS place, COUNT(*) OVER (PARTITION BY unit_id) AS products FROM p), u AS (SELECT unit_id, MAX(unit_name) AS unit_name, MAX(unit_owner) AS unit_owner, COUNT(DISTINCT account_id) AS unit_entities FROM x GROUP BY unit_id) SELECT r.unit_id, u.unit_name, u.unit_owner, u.unit_entities, r.products, r.product, r.entities, r.product_name FROM r JOIN u ON u.unit_id = r.unit_id WHERE r.place <= 3 ORDER BY r.unit_id;

SELECT e.account_id, e.kam_unit_id, u.relationship, u.tier, u.potential_3y FROM kam_alert_accounts_step AS s JOIN kam_accounts AS e ON e.account_id = s.account_id AND e.scope = 'account' LEFT JOIN kam_accounts AS u ON u.account_id = e.kam_unit_id AND u.kam_unit;

SELECT COUNT(*) FILTER(WHERE scope = 'account') AS accounts, COUNT(*) FILTER(WHERE scope = 'group') AS groups, COUNT(*) FILTER(WHERE kam_unit) AS units, COUNT(*) FILTER(WHERE kam_unit AND tier = 1) AS tier1, COUNT(*) FILTER(WHERE kam_unit AND tier = 2) AS tier2 FROM kam_accounts;
