WITH cam AS (
    SELECT c.campaign_id, c.name, c.seller_bu AS bu, c.start_date, coalesce(c.end_date, c.start_date) AS end_date,
        coalesce(b.name, c.seller_bu) AS bu_name, b.sales_cycle_days
    FROM campaigns c LEFT JOIN seller_bus b ON b.bu_id = c.seller_bu
    WHERE c.seller_bu IS NOT NULL AND c.start_date IS NOT NULL
), hit AS (
    SELECT t1.account_id, CAST(NULL AS VARCHAR) AS contact_id, c1.campaign_id AS id1, c2.campaign_id AS id2,
        c1.bu AS bu1, c2.bu AS bu2, c1.name AS name1, c2.name AS name2, c1.bu_name AS bn1, c2.bu_name AS bn2,
        c1.start_date AS s1, c1.end_date AS e1, c2.start_date AS s2, c2.end_date AS e2,
        c1.sales_cycle_days AS cy1, c2.sales_cycle_days AS cy2
    FROM campaign_accounts t1
    JOIN campaign_accounts t2 ON t2.account_id = t1.account_id AND t2.campaign_id <> t1.campaign_id
    JOIN cam c1 ON c1.campaign_id = t1.campaign_id
    JOIN cam c2 ON c2.campaign_id = t2.campaign_id
    WHERE c1.bu < c2.bu
      AND c1.start_date <= c2.end_date + CAST($collision_days AS INTEGER)
      AND c2.start_date <= c1.end_date + CAST($collision_days AS INTEGER)
    UNION ALL
    SELECT p.account_id, t1.contact_id, c1.campaign_id, c2.campaign_id, c1.bu, c2.bu, c1.name, c2.name,
        c1.bu_name, c2.bu_name, c1.start_date, c1.end_date, c2.start_date, c2.end_date,
        c1.sales_cycle_days, c2.sales_cycle_days
    FROM campaign_contacts t1
    JOIN campaign_contacts t2 ON t2.contact_id = t1.contact_id AND t2.campaign_id <> t1.campaign_id
    JOIN contacts p ON p.contact_id = t1.contact_id
    JOIN cam c1 ON c1.campaign_id = t1.campaign_id
    JOIN cam c2 ON c2.campaign_id = t2.campaign_id
    WHERE c1.bu < c2.bu
      AND c1.start_date <= c2.end_date + CAST($collision_days AS INTEGER)
      AND c2.start_date <= c1.end_date + CAST($collision_days AS INTEGER)
)
SELECT md5(account_id || '|' || coalesce(contact_id || '|', '') || id1 || '|' || id2) AS collision_id, account_id, contact_id,
    id1 || ',' || id2 AS campaign_ids, bu1 || ',' || bu2 AS bus,
    least(s1, s2) AS first_date, greatest(e1, e2) AS last_date,
    bn1 || '''s "' || name1 || '" (' || CAST(s1 AS VARCHAR) || ' to ' || CAST(e1 AS VARCHAR) || ') and '
        || bn2 || '''s "' || name2 || '" (' || CAST(s2 AS VARCHAR) || ' to ' || CAST(e2 AS VARCHAR)
        || ') target ' || coalesce('contact ' || contact_id, 'this account') || ' within '
        || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days' AS reason,
    CASE
        WHEN cy1 IS NOT NULL AND cy2 IS NOT NULL AND cy1 < cy2 THEN
            'run ' || bn1 || '''s "' || name1 || '" before ' || bn2 || '''s "' || name2
            || '": its cycle is shorter (' || CAST(cy1 AS VARCHAR) || ' vs ' || CAST(cy2 AS VARCHAR) || ' days)'
        WHEN cy1 IS NOT NULL AND cy2 IS NOT NULL AND cy2 < cy1 THEN
            'run ' || bn2 || '''s "' || name2 || '" before ' || bn1 || '''s "' || name1
            || '": its cycle is shorter (' || CAST(cy2 AS VARCHAR) || ' vs ' || CAST(cy1 AS VARCHAR) || ' days)'
        WHEN s1 <= s2 THEN
            'run ' || bn1 || '''s "' || name1 || '" first (it starts first), then ' || bn2 || '''s "' || name2
            || '" at least ' || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days after it ends'
        ELSE
            'run ' || bn2 || '''s "' || name2 || '" first (it starts first), then ' || bn1 || '''s "' || name1
            || '" at least ' || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days after it ends'
    END AS suggested_sequence,
    CASE WHEN greatest(e1, e2) < $as_of THEN 'past' WHEN least(s1, s2) > $as_of THEN 'upcoming' ELSE 'current' END
        AS status
FROM hit;
