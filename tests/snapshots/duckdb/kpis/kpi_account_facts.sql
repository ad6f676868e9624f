WITH d AS (
    SELECT d.account_id, d.stage = 'won' AS won, d.close_date,
           CAST(extract(year FROM d.close_date) AS INTEGER) AS yr,
           coalesce(d.amount_rc, 0) AS amount, coalesce(d.gross_margin_rc, 0) AS margin,
           p.word AS p_word, p.bit AS p_bit, u.word AS u_word, u.bit AS u_bit
    FROM deals d
    LEFT JOIN kpi_product_bits p ON p.product = d.product
    LEFT JOIN kpi_bu_bits u ON u.seller_bu = d.seller_bu
    WHERE ((d.stage = 'won' AND d.close_date <= $as_of) OR d.stage NOT IN ('won', 'lost'))
      AND TRUE
)
SELECT account_id,
       sum(CASE WHEN won AND yr = $cy THEN amount ELSE 0 END) AS revenue_cy,
       sum(CASE WHEN won AND yr = $cy - 1 THEN amount ELSE 0 END) AS revenue_py1,
       sum(CASE WHEN won AND yr = $cy - 2 THEN amount ELSE 0 END) AS revenue_py2,
       sum(CASE WHEN won AND yr = $cy - 3 THEN amount ELSE 0 END) AS revenue_py3,
       sum(CASE WHEN won AND yr = $cy THEN margin ELSE 0 END) AS margin_cy,
       sum(CASE WHEN won AND yr = $cy - 1 THEN margin ELSE 0 END) AS margin_py1,
       sum(CASE WHEN won AND yr = $cy - 2 THEN margin ELSE 0 END) AS margin_py2,
       sum(CASE WHEN won AND yr = $cy - 3 THEN margin ELSE 0 END) AS margin_py3,
       sum(CASE WHEN won AND close_date > $ttm_start THEN amount ELSE 0 END) AS revenue_ttm,
       min(CASE WHEN won THEN close_date END) AS first_purchase,
       max(CASE WHEN won THEN close_date END) AS last_purchase,
       sum(CASE WHEN NOT won THEN amount ELSE 0 END) AS open_pipeline,
       CAST(sum(CASE WHEN NOT won THEN 1 ELSE 0 END) AS BIGINT) AS open_deals,
       coalesce(bit_or(CASE WHEN p_word = 0 AND (won) THEN CAST(1 AS BIGINT) << p_bit END), 0) AS bought_0,
       coalesce(bit_or(CASE WHEN p_word = 0 AND (TRUE) THEN CAST(1 AS BIGINT) << p_bit END), 0) AS owned_0,
       coalesce(bit_or(CASE WHEN u_word = 0 AND (won AND close_date >= $py3_start) THEN CAST(1 AS BIGINT) << u_bit END), 0) AS bus_0
FROM d
GROUP BY account_id;
