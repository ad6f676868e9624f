SELECT value FROM workspace_meta WHERE key = ?;

SELECT deal_id FROM meddic WHERE source <> 'import';

SELECT deal_id, attributes FROM kam_meddic_candidates_step WHERE NOT plain ORDER BY deal_id;

SELECT count(*) FROM meddic WHERE source = 'import';

SELECT account_id, attributes FROM accounts WHERE lower(CAST(attributes AS VARCHAR)) LIKE '%potential%' ORDER BY account_id;

SELECT contact_id, attributes FROM contacts
WHERE lower(CAST(attributes AS VARCHAR)) LIKE '%sentiment%' OR lower(CAST(attributes AS VARCHAR)) LIKE '%relationship%';

SELECT count(*) FROM kam_stakeholders;

SELECT count(*) FROM kam_meddic;

SELECT account_id, champion, champion_source FROM kam_meddic WHERE champion IS NOT NULL AND champion_source IS DISTINCT FROM 'inferred from contacts';

WITH c AS (
    SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role,
           c.start_date, c.end_date, c.seller_bu, coalesce(c.end_date <= CAST(? AS DATE), FALSE) AS "left"
    FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
), known AS (SELECT DISTINCT account_id FROM kam_snapshot_contacts)
SELECT c.*, p.contact_id IS NOT NULL AS before_seen, p.title AS before_title, p.buying_role AS before_role,
       p.end_date AS before_end_date, k.account_id IS NOT NULL AS account_known,
       a.account_id IS NOT NULL AS account_exists, a.owner AS account_owner
FROM c LEFT JOIN kam_snapshot_contacts p ON p.contact_id = c.contact_id
LEFT JOIN known k ON k.account_id = c.account_id
LEFT JOIN accounts a ON a.account_id = c.account_id
WHERE CASE WHEN c."left" THEN (p.contact_id IS NOT NULL AND p.end_date IS NULL) OR c.end_date >= CAST(? AS DATE)
      ELSE (c.start_date >= CAST(? AS DATE) AND c.start_date <= CAST(? AS DATE))
           OR (p.contact_id IS NULL AND k.account_id IS NOT NULL)
           OR (p.contact_id IS NOT NULL AND (p.title IS DISTINCT FROM c.title
                                             OR p.buying_role IS DISTINCT FROM c.buying_role)) END
ORDER BY c.contact_id;

SELECT c.account_id, c.seller_bu, count(*) AS n
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
WHERE (c.end_date IS NULL OR c.end_date > CAST(? AS DATE)) AND coalesce(r.buying_role, c.buying_role) = 'champion'
  AND c.account_id IN (SELECT account_id FROM contacts WHERE end_date <= CAST(? AS DATE))
GROUP BY c.account_id, c.seller_bu;

WITH progress AS (
    SELECT d.account_id,
           max(greatest(d.created_at, s.since,
                        CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(? AS DATE)
                             THEN d.close_date END)) AS last_progress,
           max(CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(? AS DATE) THEN 0 ELSE 1 END) AS has_open
    FROM deals d LEFT JOIN kam_deal_stages s ON s.deal_id = d.deal_id
    GROUP BY d.account_id
), activity AS (
    SELECT account_id, count(*) AS activities FROM activities
    WHERE "date" > CAST(? AS DATE) AND "date" <= CAST(? AS DATE) GROUP BY account_id
)
SELECT p.account_id, p.last_progress, p.has_open, a.activities, k.account_id IS NOT NULL AS known, k.owner,
       k.relationship
FROM progress p JOIN activity a ON a.account_id = p.account_id
LEFT JOIN kam_accounts k ON k.account_id = p.account_id AND k.scope = 'account'
WHERE p.last_progress <= CAST(? AS DATE) AND a.activities >= ?
ORDER BY p.account_id;

SELECT scope, account_id, owner, nrr_now, nrr_prev, nrr_period, kam_unit FROM kam_accounts
WHERE kam_unit AND nrr_prev > 0 AND nrr_now <= nrr_prev * (1 - CAST(? AS DOUBLE))
ORDER BY scope DESC, account_id;

SELECT b.account_id, b.name, b.owner, b.parent_id, b.group_head_id, s.parent_id AS before_parent_id,
       s.group_head_id AS before_group_head_id,
       coalesce(pb.account_id IS NOT NULL AND ps.group_head_id IS DISTINCT FROM pb.group_head_id, FALSE) AS carried
FROM kam_base_step b JOIN kam_snapshot_parents s ON s.account_id = b.account_id
LEFT JOIN kam_base_step pb ON pb.account_id = b.parent_id
LEFT JOIN kam_snapshot_parents ps ON ps.account_id = b.parent_id
WHERE s.parent_id IS DISTINCT FROM b.parent_id OR s.group_head_id IS DISTINCT FROM b.group_head_id
ORDER BY b.account_id;

SELECT m.old_id, m.survivor_id, a.name, a.owner
FROM account_aliases m JOIN kam_snapshot_parents s ON s.account_id = m.old_id
JOIN accounts a ON a.account_id = m.survivor_id
WHERE m.old_id NOT IN (SELECT account_id FROM accounts)
ORDER BY m.old_id;

WITH x AS (
    SELECT u.account_id AS unit_id, u.name AS unit_name, u.owner AS unit_owner, x.account_id,
           coalesce(nullif(x.product, ''), '') AS product, x.product_name
    FROM cross_sell x JOIN kam_accounts e ON e.account_id = x.account_id AND e.scope = 'account'
    JOIN kam_accounts u ON u.account_id = e.kam_unit_id AND u.kam_unit
    WHERE x.entity_rank <= ? AND coalesce(u.tier, 3) <= ?
), p AS (
    SELECT unit_id, product, count(DISTINCT account_id) AS entities, max(product_name) AS product_name
    FROM x GROUP BY unit_id, product
), r AS (
    SELECT p.*, rank() OVER (PARTITION BY unit_id ORDER BY entities DESC) AS place,
           count(*) OVER (PARTITION BY unit_id) AS products
    FROM p
), u AS (
    SELECT unit_id, max(unit_name) AS unit_name, max(unit_owner) AS unit_owner,
           count(DISTINCT account_id) AS unit_entities
    FROM x GROUP BY unit_id
)
SELECT r.unit_id, u.unit_name, u.unit_owner, u.unit_entities, r.products, r.product, r.entities, r.product_name
FROM r JOIN u ON u.unit_id = r.unit_id
WHERE r.place <= 3
ORDER BY r.unit_id;

SELECT e.account_id, e.kam_unit_id, u.relationship, u.tier, u.potential_3y
FROM kam_alert_accounts_step s JOIN kam_accounts e ON e.account_id = s.account_id AND e.scope = 'account'
LEFT JOIN kam_accounts u ON u.account_id = e.kam_unit_id AND u.kam_unit;

SELECT count(*) FILTER (WHERE scope = 'account') AS accounts, count(*) FILTER (WHERE scope = 'group') AS groups,
       count(*) FILTER (WHERE kam_unit) AS units, count(*) FILTER (WHERE kam_unit AND tier = 1) AS tier1,
       count(*) FILTER (WHERE kam_unit AND tier = 2) AS tier2
FROM kam_accounts;
