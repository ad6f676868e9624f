SELECT d.deal_id, d.account_id, d.seller_bu AS bu, d.product, coalesce(d.amount_rc, d.amount) AS amount_rc,
    d.created_at
FROM deals d
WHERE d.seller_bu IS NOT NULL AND coalesce(d.created_at, $as_of) <= $as_of
  AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of)
  AND (d.created_at >= $conflict_from
       OR d.product IN (SELECT product_a FROM abm_substitutes UNION SELECT product_b FROM abm_substitutes));

DROP TABLE IF EXISTS "_abm_open_deals";
