WITH units AS (
    SELECT CASE WHEN members = 1 THEN 'account' ELSE 'group' END AS scope, unit_id AS account_id, name, owner,
           group_head_id, potential, potential_source, relationship, run_rate, revenue_cy, revenue_py1,
           CASE WHEN coalesce(unit_wallet, 0) <> 0 THEN unit_wallet ELSE nullif(crm_wallet, 0) END AS wallet,
           CASE WHEN coalesce(unit_wallet, 0) <> 0 AND wallet_unit IS NOT NULL
                THEN CASE WHEN unit_wallet <> 0 THEN ((CASE WHEN (CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000) - floor((CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000)) + (floor((CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(coalesce(spend, 0) AS DOUBLE) / unit_wallet AS DOUBLE) * 10000) + 0.5) END) / 10000) END
                WHEN members = 1 AND head_share_of_wallet IS NOT NULL AND head_wallet_source IS DISTINCT FROM 'model'
                THEN head_share_of_wallet
                ELSE CASE WHEN crm_wallet <> 0 THEN ((CASE WHEN (CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000) - floor((CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000)) + (floor((CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(run_rate AS DOUBLE) / crm_wallet AS DOUBLE) * 10000) + 0.5) END) / 10000) END END AS share_of_wallet,
           CASE WHEN members = 1 AND head_nrr IS NOT NULL THEN head_nrr ELSE CASE WHEN rev_prev <> 0 THEN ((CASE WHEN (CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000) - floor((CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) + (floor((CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(rev_now AS DOUBLE) / rev_prev AS DOUBLE) * 10000) + 0.5) END) / 10000) END END AS nrr,
           CASE WHEN rev_prev <> 0 THEN ((CASE WHEN (CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000) - floor((CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) + (floor((CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(kept AS DOUBLE) / rev_prev AS DOUBLE) * 10000) + 0.5) END) / 10000) END AS retention, rev_now AS nrr_now, rev_prev AS nrr_prev, nrr_period,
           CASE WHEN members > 1 AND coalesce(head_entities, 0) <> 0 AND unit_id = group_head_id
                     AND members = group_size THEN coalesce(head_customer_entities, 0) ELSE penetrated END
               AS entities_penetrated,
           CASE WHEN members > 1 AND coalesce(head_entities, 0) <> 0 AND unit_id = group_head_id
                     AND members = group_size THEN head_entities ELSE members END AS entities_total,
           CASE WHEN cycle_n > 0 THEN CAST(cycle_sum AS DOUBLE) / cycle_n WHEN bu_n > 0 THEN CAST(bu_sum AS DOUBLE) / bu_n END AS cycle, open_deals, has_economic_buyer, has_champion, has_influencer, has_user, has_buyer,
           1 - CAST(grid_score AS DOUBLE) / 100 AS icp_distance, TRUE AS kam_unit, unit_id AS kam_unit_id, wallet_cell,
           CASE WHEN wallet_unit IS NULL THEN NULL ELSE peers END AS wallet_peers,
           ((CASE WHEN (CAST(potential AS DOUBLE) * 100) - floor((CAST(potential AS DOUBLE) * 100)) = 0.5 THEN floor((CAST(potential AS DOUBLE) * 100)) + (floor((CAST(potential AS DOUBLE) * 100)) - 2 * floor(floor((CAST(potential AS DOUBLE) * 100)) / 2)) ELSE floor((CAST(potential AS DOUBLE) * 100) + 0.5) END) / 100) AS rounded, members
    FROM kam_unit_step
), counted AS (  -- (a join to the counts: a filtered count `OVER ()` is evaluated per row by DuckDB)
    SELECT units.*, n.customers, n.active
    FROM units CROSS JOIN (SELECT count(*) FILTER (WHERE relationship = 'customer') AS customers,
                                  count(*) FILTER (WHERE relationship IN ('customer', 'pipeline')) AS active
                           FROM units) n
), tier_one AS (
    SELECT account_id FROM (
        SELECT account_id, customers,
               row_number() OVER (ORDER BY rounded DESC, run_rate DESC, account_id) AS rn
        FROM counted WHERE relationship = 'customer' AND rounded > $tier1_threshold) x
    WHERE rn <= ceil(CAST($tier1_share AS DOUBLE) * customers)
), tier_two AS (
    SELECT account_id FROM (
        SELECT c.account_id, c.active,
               row_number() OVER (ORDER BY c.rounded DESC, c.run_rate DESC, c.account_id) AS rn
        FROM counted c LEFT JOIN tier_one f ON f.account_id = c.account_id
        WHERE f.account_id IS NULL AND c.relationship IN ('customer', 'pipeline')
          AND c.rounded >= $tier2_threshold) x
    WHERE rn <= ceil(CAST($tier2_share AS DOUBLE) * active)
), tiered AS (
    SELECT units.*, CASE WHEN f.account_id IS NOT NULL THEN 1 WHEN s.account_id IS NOT NULL THEN 2 ELSE 3 END AS unit_tier
    FROM units LEFT JOIN tier_one f ON f.account_id = units.account_id
    LEFT JOIN tier_two s ON s.account_id = units.account_id
)
SELECT scope, account_id, name, owner, group_head_id, potential, potential_source, relationship, run_rate, revenue_cy, revenue_py1, wallet, share_of_wallet, nrr, retention, nrr_now, nrr_prev, nrr_period, entities_penetrated, entities_total, cycle, open_deals, has_economic_buyer, has_champion, has_influencer, has_user, has_buyer, icp_distance, kam_unit, kam_unit_id, wallet_cell, wallet_peers, unit_tier FROM tiered
UNION ALL
SELECT 'account', b.account_id, b.name, b.owner, b.group_head_id, b.own_potential, b.own_source, b.stage,
       b.run_rate, coalesce(b.revenue_cy, 0), coalesce(b.revenue_py1, 0), b.crm_wallet,
       CASE WHEN b.share_of_wallet IS NOT NULL AND b.wallet_source IS DISTINCT FROM 'model' THEN b.share_of_wallet
            ELSE CASE WHEN coalesce(b.crm_wallet, 0) <> 0 THEN ((CASE WHEN (CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000) - floor((CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000)) + (floor((CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(b.run_rate AS DOUBLE) / coalesce(b.crm_wallet, 0) AS DOUBLE) * 10000) + 0.5) END) / 10000) END END,
       CASE WHEN b.nrr IS NOT NULL THEN b.nrr ELSE CASE WHEN b.rev_prev <> 0 THEN ((CASE WHEN (CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000) - floor((CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) + (floor((CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(b.rev_now AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000) + 0.5) END) / 10000) END END,
       CASE WHEN b.rev_prev <> 0 THEN ((CASE WHEN (CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000) - floor((CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) = 0.5 THEN floor((CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) + (floor((CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) - 2 * floor(floor((CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000)) / 2)) ELSE floor((CAST(CAST(least(b.rev_now, b.rev_prev) AS DOUBLE) / b.rev_prev AS DOUBLE) * 10000) + 0.5) END) / 10000) END, b.rev_now, b.rev_prev, b.nrr_period,
       CASE WHEN coalesce(b.entities, 0) <> 0 THEN coalesce(b.customer_entities, 0) ELSE st.customers END,
       CASE WHEN coalesce(b.entities, 0) <> 0 THEN b.entities ELSE st.entities END,
       CASE WHEN b.cycle_n > 0 THEN CAST(b.cycle_sum AS DOUBLE) / b.cycle_n WHEN b.bu_n > 0 THEN CAST(b.bu_sum AS DOUBLE) / b.bu_n END, b.open_deals, b.has_economic_buyer, b.has_champion, b.has_influencer, b.has_user, b.has_buyer,
       1 - CAST(b.grid_score AS DOUBLE) / 100, FALSE, b.unit_id, CAST(NULL AS VARCHAR), CAST(NULL AS BIGINT), t.unit_tier
FROM kam_base_step b LEFT JOIN tiered t ON t.account_id = b.unit_id
LEFT JOIN kam_subtree_step st ON st.root = b.account_id
WHERE t.account_id IS NULL OR t.members > 1;

DROP TABLE IF EXISTS "kam_rows_step";
