WITH ev AS (
    SELECT d.account_id, d.seller_bu AS bu,
        CASE WHEN open_now THEN 1 ELSE 0 END AS open_deals,
        CASE WHEN open_now THEN coalesce(d.amount_rc, d.amount) ELSE 0 END AS pipeline,
        CASE WHEN won_now AND d.close_date >= $revenue_from THEN coalesce(d.amount_rc, d.amount) ELSE 0 END AS revenue,
        1 AS history,
        CASE WHEN open_now OR coalesce(d.close_date, d.created_at) >= $active_from
                  OR d.created_at >= $active_from THEN 1 ELSE 0 END AS active,
        coalesce(d.created_at, d.close_date) AS first_day
    FROM (SELECT d.*,
            (coalesce(d.created_at, $as_of) <= $as_of
             AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of)) AS open_now,
            (d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of) AS won_now
          FROM deals d) d
    WHERE d.seller_bu IS NOT NULL AND coalesce(d.created_at, d.close_date, $as_of) <= $as_of
    UNION ALL
    SELECT a.account_id, a.seller_bu, 0, 0, 0, 1,
        CASE WHEN a."date" >= $active_from THEN 1 ELSE 0 END, a."date"
    FROM activities a WHERE a.seller_bu IS NOT NULL AND a."date" <= $as_of
    UNION ALL
    SELECT t.account_id, c.seller_bu, 0, 0, 0, 0,
        CASE WHEN coalesce(c.end_date, c.start_date) >= $active_from AND c.start_date <= $active_to THEN 1 ELSE 0 END,
        c.start_date
    FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
    WHERE c.seller_bu IS NOT NULL AND c.start_date IS NOT NULL
)
SELECT p.* FROM (
    SELECT g.account_id,
        max(CASE WHEN k.r = 1 THEN g.revenue END) AS rev1, max(CASE WHEN k.r = 1 THEN g.pipeline END) AS pip1, max(CASE WHEN k.r = 1 THEN g.history END) AS his1, max(CASE WHEN k.r = 1 THEN g.first_day END) AS fd1, max(CASE WHEN k.r = 1 THEN g.active END) AS ac1
    FROM (
        SELECT ev.account_id, ev.bu, sum(ev.pipeline) AS pipeline, sum(ev.revenue) AS revenue, sum(ev.history) AS history,
            max(ev.active) AS active, min(ev.first_day) AS first_day
        FROM ev GROUP BY ev.account_id, ev.bu
    ) g JOIN _abm_bu_rank k ON k.bu = g.bu
    GROUP BY g.account_id
) p
JOIN accounts a ON a.account_id = p.account_id;

DROP TABLE IF EXISTS "_abm_bu_account";
