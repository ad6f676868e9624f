WITH m AS (
    SELECT b.unit_id, count(*) AS members,
           sum(b.run_rate) AS run_rate, sum(b.rev_now) AS rev_now, sum(b.rev_prev) AS rev_prev,
           sum(coalesce(b.revenue_cy, 0)) AS revenue_cy, sum(coalesce(b.revenue_py1, 0)) AS revenue_py1,
           coalesce(sum(b.crm_wallet), 0) AS crm_wallet, sum(least(b.rev_now, b.rev_prev)) AS kept,
           count(*) FILTER (WHERE b.is_customer) AS penetrated,
           sum(b.cycle_sum) AS cycle_sum, sum(b.cycle_n) AS cycle_n, sum(b.bu_sum) AS bu_sum, sum(b.bu_n) AS bu_n,
           sum(b.open_deals) AS open_deals, max(b.has_economic_buyer) AS has_economic_buyer, max(b.has_champion) AS has_champion, max(b.has_influencer) AS has_influencer, max(b.has_user) AS has_user, max(b.has_buyer) AS has_buyer,
           max(CASE WHEN b.potential_field IS NOT NULL THEN 1 ELSE 0 END) AS any_field,
           sum(b.own_potential) AS own_potential,
           concat_ws('+', max(CASE WHEN b.own_source = 'field' THEN 'field' END),
                     max(CASE WHEN b.own_source = 'run_rate' THEN 'run_rate' END),
                     max(CASE WHEN b.own_source = 'wallet' THEN 'wallet' END)) AS sources,
           CASE WHEN max(CASE WHEN b.stage = 'customer' THEN 1 ELSE 0 END) = 1 THEN 'customer'
                WHEN max(CASE WHEN b.stage = 'pipeline' THEN 1 ELSE 0 END) = 1 THEN 'pipeline'
                ELSE 'prospect' END AS relationship
    FROM kam_base_step b GROUP BY b.unit_id
), g AS (
    SELECT group_head_id, count(*) AS group_size FROM kam_base_step GROUP BY group_head_id
), u AS (
    SELECT m.*, h.name, h.owner, h.group_head_id, h.potential_field, h.grid_score, h.nrr AS head_nrr,
           h.share_of_wallet AS head_share_of_wallet, h.wallet_source AS head_wallet_source, h.nrr_period,
           h.entities AS head_entities, h.customer_entities AS head_customer_entities, g.group_size,
           w.spend, w.peer_level, w.peers, w.peer_wallet, w.unit_id AS wallet_unit
    FROM m JOIN kam_base_step h ON h.account_id = m.unit_id
    LEFT JOIN g ON g.group_head_id = m.unit_id
    LEFT JOIN kam_wallet_step w ON w.unit_id = m.unit_id
), p AS (
    SELECT u.*,
           CASE WHEN wallet_unit IS NULL THEN NULL
                WHEN peer_wallet IS NULL THEN coalesce(spend, 0)
                ELSE greatest(coalesce(spend, 0), peer_wallet) END AS unit_wallet_all,
           CASE WHEN potential_field IS NOT NULL THEN 'field'
                WHEN any_field = 1 OR wallet_unit IS NULL THEN 'members' ELSE 'peers' END AS potential_kind
    FROM u
)
SELECT p.*,
       CASE potential_kind WHEN 'field' THEN greatest(potential_field, 0)
            WHEN 'members' THEN own_potential
            ELSE 3 * (greatest(coalesce(spend, 0), 0) + CAST(CASE relationship WHEN 'customer' THEN 1.0
                 WHEN 'pipeline' THEN $reach_pipeline ELSE $reach_prospect END AS DOUBLE)
                 * greatest(coalesce(unit_wallet_all, 0) - greatest(coalesce(spend, 0), 0), 0)) END AS potential,
       CASE potential_kind WHEN 'field' THEN 'field'
            WHEN 'members' THEN CASE WHEN members = 1 THEN sources ELSE 'members:' || sources END
            ELSE 'peers: ' || CASE peer_level WHEN 0 THEN CAST($cell0 AS VARCHAR) WHEN 1 THEN CAST($cell1 AS VARCHAR) WHEN 2 THEN CAST($cell2 AS VARCHAR) WHEN 3 THEN CAST($cell3 AS VARCHAR) END || CAST($quantile_label AS VARCHAR) || CAST(peers AS VARCHAR) || ')' END
           AS potential_source,
       CASE WHEN potential_kind = 'members' THEN NULL ELSE unit_wallet_all END AS unit_wallet,
       CASE WHEN wallet_unit IS NULL THEN NULL ELSE CASE peer_level WHEN 0 THEN CAST($cell0 AS VARCHAR) WHEN 1 THEN CAST($cell1 AS VARCHAR) WHEN 2 THEN CAST($cell2 AS VARCHAR) WHEN 3 THEN CAST($cell3 AS VARCHAR) END END AS wallet_cell
FROM p;

DROP TABLE IF EXISTS "kam_unit_step";
