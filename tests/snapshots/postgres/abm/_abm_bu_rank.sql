SELECT bu, ROW_NUMBER() OVER (ORDER BY bu) AS r FROM (SELECT COALESCE(seller_bu, '') AS bu FROM deals UNION SELECT seller_bu FROM activities WHERE NOT seller_bu IS NULL UNION SELECT seller_bu FROM campaigns WHERE NOT seller_bu IS NULL) AS b;

DROP TABLE IF EXISTS "_abm_bu_rank";
