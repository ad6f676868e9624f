SELECT d.deal_id, d.account_id, d.seller_bu AS bu, d.product, COALESCE(d.amount_rc, d.amount) AS amount_rc, d.created_at FROM deals AS d WHERE NOT d.seller_bu IS NULL AND COALESCE(d.created_at, %(as_of)s) <= %(as_of)s AND (NOT d.stage IN ('won', 'lost') OR COALESCE(d.close_date, %(as_of)s) > %(as_of)s) AND (d.created_at >= %(conflict_from)s OR d.product IN (SELECT product_a FROM abm_substitutes UNION SELECT product_b FROM abm_substitutes));

DROP TABLE IF EXISTS "_abm_open_deals";
