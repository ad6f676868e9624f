WITH won AS (
    SELECT row_number() OVER () AS dn, d.deal_id, d.account_id, coalesce(d.seller_bu, '') AS bu,
        coalesce(d.close_date, d.created_at, $as_of) AS closed,
        CAST(round(coalesce(d.amount_rc, d.amount) * 100) AS BIGINT) AS cents, x.lead_bu
    FROM deals d LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = d.account_id
    WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of
), touch AS (
    SELECT w.dn, w.bu FROM won w
    UNION ALL
    SELECT w.dn, a.seller_bu FROM won w
    JOIN activities a ON a.account_id = w.account_id
    WHERE a.seller_bu IS NOT NULL AND a."date" <= w.closed AND a."date" >= w.closed - CAST($touch_window_days AS INTEGER)
    UNION ALL
    SELECT w.dn, c.seller_bu FROM won w
    JOIN (SELECT t.account_id, c.seller_bu, c.start_date, coalesce(c.end_date, c.start_date) AS end_date
          FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
          WHERE c.seller_bu IS NOT NULL) c ON c.account_id = w.account_id
    WHERE c.start_date <= w.closed AND c.end_date >= w.closed - CAST($touch_window_days AS INTEGER)
), per AS (
    SELECT dn, bu, count(*) AS touches FROM touch GROUP BY dn, bu
), weighted AS (
    SELECT p.dn, p.bu, p.touches, w.cents,
        CASE $rule
            WHEN 'equal' THEN 1.0
            WHEN 'lead_bu_bonus' THEN 1.0 + CASE WHEN p.bu = w.lead_bu THEN $lead_bu_bonus ELSE 0.0 END
            ELSE CAST(p.touches AS DOUBLE)
        END AS weight
    FROM per p JOIN won w ON w.dn = p.dn
), raw AS (
    SELECT weighted.*, sum(weight) OVER (PARTITION BY dn) AS total_weight,
        floor(cents * weight / sum(weight) OVER (PARTITION BY dn)) AS base
    FROM weighted
), ranked AS (
    SELECT raw.*,
        cents - sum(base) OVER (PARTITION BY dn) AS leftover,
        row_number() OVER (PARTITION BY dn ORDER BY cents * weight / total_weight - base DESC, bu) AS rnk
    FROM raw
), alloc AS (
    SELECT ranked.*, CAST(base AS BIGINT) + CASE WHEN rnk <= leftover THEN 1 ELSE 0 END AS alloc_cents FROM ranked
)
SELECT w.deal_id, nullif(a.bu, '') AS seller_bu,
    CASE WHEN a.cents <> 0 THEN CAST(a.alloc_cents AS DOUBLE) / a.cents ELSE a.weight / a.total_weight END AS share,
    CAST(a.alloc_cents AS DOUBLE) / 100 AS amount_rc, $rule AS rule,
    w.account_id, a.alloc_cents AS amount_cents, a.cents AS deal_cents, a.weight, a.touches, w.lead_bu
FROM alloc a JOIN won w ON w.dn = a.dn;
