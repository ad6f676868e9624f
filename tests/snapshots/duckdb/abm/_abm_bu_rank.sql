SELECT bu, row_number() OVER (ORDER BY bu) AS r FROM (
    SELECT coalesce(seller_bu, '') AS bu FROM deals
    UNION SELECT seller_bu FROM activities WHERE seller_bu IS NOT NULL
    UNION SELECT seller_bu FROM campaigns WHERE seller_bu IS NOT NULL
) b;

DROP TABLE IF EXISTS "_abm_bu_rank";
