WITH a AS (
    SELECT a.account_id, a.name, a.owner, CASE WHEN h.account_id IS NULL THEN a.parent_id ELSE h.parent_id END AS parent_id, coalesce(h.group_head_id, a.account_id) AS group_head_id,
           p.potential_field, CAST($nrr_period AS VARCHAR) AS nrr_period, k.status, k.status_code, k.revenue_cy, k.revenue_py1, k.revenue_py2, k.revenue_ttm, k.nrr, k.share_of_wallet, k.wallet, k.wallet_source, g.entities, g.customer_entities, s.fit_score AS grid_score
    FROM accounts a LEFT JOIN hierarchy h ON h.account_id = a.account_id
    LEFT JOIN kam_potential_step p ON p.account_id = a.account_id LEFT JOIN account_kpis k ON k.account_id = a.account_id LEFT JOIN group_kpis g ON g.account_id = a.account_id LEFT JOIN scores s ON s.account_id = a.account_id
), k AS (
    SELECT a.*, coalesce(revenue_ttm, revenue_cy, 0) AS run_rate, coalesce(revenue_py1, 0) AS rev_now, coalesce(revenue_py2, 0) AS rev_prev,
           CASE WHEN coalesce(nullif(status_code, ''), nullif(lower(CAST(status AS VARCHAR)), '')) IS NOT NULL THEN coalesce(nullif(status_code, ''), nullif(lower(CAST(status AS VARCHAR)), '')) = 'customer' ELSE coalesce(revenue_ttm, revenue_cy, 0) > 0 END AS is_customer,
           coalesce(d.cycle_sum, 0) AS cycle_sum, coalesce(d.cycle_n, 0) AS cycle_n,
           coalesce(d.bu_sum, 0) AS bu_sum, coalesce(d.bu_n, 0) AS bu_n, coalesce(d.open_deals, 0) AS open_deals,
           coalesce(r.has_economic_buyer, 0) AS has_economic_buyer, coalesce(r.has_champion, 0) AS has_champion, coalesce(r.has_influencer, 0) AS has_influencer, coalesce(r.has_user, 0) AS has_user, coalesce(r.has_buyer, 0) AS has_buyer
    FROM a LEFT JOIN (
SELECT d.account_id,
       coalesce(sum(CASE WHEN d.stage = 'won' THEN greatest(d.close_date - d.created_at, 0) END), 0) AS cycle_sum,
       count(CASE WHEN d.stage = 'won' THEN d.close_date - d.created_at END) AS cycle_n,
       coalesce(sum(b.sales_cycle_days), 0) AS bu_sum, count(b.sales_cycle_days) AS bu_n,
       sum(CASE WHEN d.stage IN ('won', 'lost') THEN 0 ELSE 1 END) AS open_deals
FROM deals d LEFT JOIN seller_bus b ON b.bu_id = d.seller_bu
GROUP BY d.account_id
) d ON d.account_id = a.account_id
    LEFT JOIN (
    SELECT account_id, max(CASE WHEN role = 'economic_buyer' THEN 1 ELSE 0 END) AS has_economic_buyer, max(CASE WHEN role = 'champion' THEN 1 ELSE 0 END) AS has_champion, max(CASE WHEN role = 'influencer' THEN 1 ELSE 0 END) AS has_influencer, max(CASE WHEN role = 'user' THEN 1 ELSE 0 END) AS has_user, max(CASE WHEN role = 'buyer' THEN 1 ELSE 0 END) AS has_buyer FROM (
        SELECT DISTINCT c.account_id, coalesce(r.buying_role, c.buying_role) AS role
        FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
        WHERE (c.end_date IS NULL OR c.end_date > CAST($as_of AS DATE))) x
    GROUP BY account_id) r ON r.account_id = a.account_id
), s AS (
    SELECT k.*, CASE WHEN is_customer THEN 'customer'
                     WHEN open_deals > 0 OR status_code = 'opportunity' THEN 'pipeline' ELSE 'prospect' END AS stage,
           CASE WHEN wallet_source IS NULL OR wallet_source = 'attribute' THEN wallet END AS given_wallet
    FROM k
)
SELECT s.*,
       CASE WHEN potential_field IS NOT NULL THEN greatest(potential_field, 0)
            WHEN coalesce(given_wallet, 0) <> 0 THEN 3 * greatest(greatest(run_rate, 0), given_wallet * CAST(
                CASE stage WHEN 'customer' THEN $share_customer WHEN 'pipeline' THEN $share_pipeline
                ELSE $share_prospect END AS DOUBLE))
            ELSE 3 * greatest(run_rate, 0) END AS own_potential,
       CASE WHEN potential_field IS NOT NULL THEN 'field' WHEN coalesce(given_wallet, 0) <> 0 THEN 'wallet'
            ELSE 'run_rate' END AS own_source,
       CASE WHEN coalesce(wallet, 0) <> 0 AND wallet_source IS DISTINCT FROM 'model' THEN wallet END AS crm_wallet,
       coalesce(uo.unit_id, s.group_head_id, s.account_id) AS unit_id
FROM s LEFT JOIN (
WITH designated AS (  -- each entity's nearest designated ancestor-or-self
    SELECT c.descendant_id AS account_id, c.ancestor_id AS unit_id,
           row_number() OVER (PARTITION BY c.descendant_id ORDER BY c.depth) AS rn
    FROM hierarchy_closure c JOIN kam_designations d ON d.account_id = c.ancestor_id
    WHERE c.consolidated OR c.depth = 0
), unit_of AS (
    SELECT h.account_id, coalesce(d.unit_id, h.group_head_id, h.account_id) AS unit_id
    FROM hierarchy h LEFT JOIN designated d ON d.account_id = h.account_id AND d.rn = 1
)
SELECT account_id, unit_id FROM unit_of) uo ON uo.account_id = s.account_id;

DROP TABLE IF EXISTS "kam_base_step";
