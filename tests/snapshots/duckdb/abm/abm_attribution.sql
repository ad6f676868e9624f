WITH won AS (
    SELECT row_number() OVER (ORDER BY d.deal_id) AS dn, d.deal_id, d.account_id, coalesce(d.seller_bu, '') AS bu,
        coalesce(d.close_date, d.created_at, $as_of) AS closed,
        CAST(round(coalesce(d.amount_rc, d.amount) * 100) AS BIGINT) AS cents, x.lead_bu
    FROM deals d LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = d.account_id
    WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of
), touch AS (
    SELECT w.dn, a.r FROM won w
    JOIN (SELECT a.account_id, a."date", k.r FROM activities a JOIN _abm_bu_rank k ON k.bu = a.seller_bu) a
      ON a.account_id = w.account_id
    WHERE a."date" <= w.closed AND a."date" >= w.closed - CAST($touch_window_days AS INTEGER)
    UNION ALL
    SELECT w.dn, c.r FROM won w
    JOIN (SELECT t.account_id, k.r, c.start_date, coalesce(c.end_date, c.start_date) AS end_date
          FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
          JOIN _abm_bu_rank k ON k.bu = c.seller_bu) c ON c.account_id = w.account_id
    WHERE c.start_date <= w.closed AND c.end_date >= w.closed - CAST($touch_window_days AS INTEGER)
), per AS (
    SELECT dn, count(*) FILTER (WHERE r = 1) AS t1 FROM touch GROUP BY dn
), counted AS (  -- the close counts as one touch of the deal's BU
    SELECT w.deal_id, w.account_id, w.lead_bu, w.cents, lk.r AS lead_r,
        coalesce(p.t1, 0) + CASE WHEN dk.r = 1 THEN 1 ELSE 0 END AS t1
    FROM won w JOIN _abm_bu_rank dk ON dk.bu = w.bu
    LEFT JOIN per p ON p.dn = w.dn LEFT JOIN _abm_bu_rank lk ON lk.bu = w.lead_bu
), weighted AS (
    SELECT p.*,
        CASE WHEN p.t1 = 0 THEN CAST(0 AS DOUBLE) ELSE CASE $rule WHEN 'equal' THEN 1.0 WHEN 'lead_bu_bonus' THEN 1.0 + CASE WHEN p.lead_r = 1 THEN $lead_bu_bonus ELSE 0.0 END ELSE CAST(p.t1 AS DOUBLE) END END AS w1
    FROM counted p
), totals AS (
    SELECT weighted.*, w1 AS total_weight FROM weighted
), based AS (
    SELECT totals.*, floor(cents * w1 / total_weight) AS b1 FROM totals
), remains AS (
    SELECT based.*, cents * w1 / total_weight - b1 AS q1,
        cents - (b1) AS leftover
    FROM based
), ranked AS (
    SELECT remains.*, 1 + 0 AS k1 FROM remains
), alloc AS (
    SELECT ranked.*, CAST(b1 AS BIGINT) + CASE WHEN k1 <= leftover THEN 1 ELSE 0 END AS a1 FROM ranked
), parts AS (
    SELECT x.deal_id, x.account_id, x.lead_bu, x.cents, x.total_weight, k.bu,
        CASE k.r WHEN 1 THEN x.a1 END AS alloc_cents, CASE k.r WHEN 1 THEN x.w1 END AS weight, CASE k.r WHEN 1 THEN x.t1 END AS touches
    FROM alloc x JOIN _abm_bu_rank k ON CASE k.r WHEN 1 THEN x.t1 END > 0
)
SELECT deal_id, nullif(bu, '') AS seller_bu,
    CASE WHEN cents <> 0 THEN CAST(alloc_cents AS DOUBLE) / cents ELSE weight / total_weight END AS share,
    CAST(alloc_cents AS DOUBLE) / 100 AS amount_rc, $rule AS rule,
    account_id, alloc_cents AS amount_cents, cents AS deal_cents, weight, touches, lead_bu
FROM parts;
