WITH designated AS (  -- each entity's nearest designated ancestor-or-self
    SELECT c.descendant_id AS account_id, c.ancestor_id AS unit_id,
           row_number() OVER (PARTITION BY c.descendant_id ORDER BY c.depth) AS rn
    FROM hierarchy_closure c JOIN kam_designations d ON d.account_id = c.ancestor_id
    WHERE c.consolidated OR c.depth = 0
), unit_of AS (
    SELECT h.account_id, coalesce(d.unit_id, h.group_head_id, h.account_id) AS unit_id
    FROM hierarchy h LEFT JOIN designated d ON d.account_id = h.account_id AND d.rn = 1
), units AS (
    SELECT uo.unit_id, count(*) AS entities, sum(a.employees) AS employees,
           sum(coalesce(k.revenue_ttm, 0)) AS revenue_ttm, sum(coalesce(k.revenue_py1, 0)) AS revenue_py1,
           sum(coalesce(k.open_deals, 0)) AS open_deals,
           max(CASE WHEN k.status_code = 'customer' THEN 1 ELSE 0 END) AS customer
    FROM unit_of uo JOIN accounts a ON a.account_id = uo.account_id
    LEFT JOIN account_kpis k ON k.account_id = uo.account_id
    GROUP BY uo.unit_id
), features AS (
    SELECT u.unit_id, u.entities, u.employees, u.open_deals, u.customer, u.revenue_ttm, u.revenue_py1,
           greatest(u.revenue_ttm, u.revenue_py1) AS spend,
           coalesce(nullif(trim(a.industry), ''), 'unknown') AS industry,
           coalesce(nullif(trim(a.country), ''), 'unknown') AS country, CASE WHEN u.employees IS NULL OR u.employees <= 0 THEN 'unknown' WHEN u.employees < 50 THEN '1-49' WHEN u.employees < 250 THEN '50-249' WHEN u.employees < 1000 THEN '250-999' WHEN u.employees < 5000 THEN '1000-4999' ELSE '5000+' END AS size_band
    FROM units u JOIN accounts a ON a.account_id = u.unit_id
), peers AS (
    SELECT industry, size_band, country, spend FROM features WHERE spend > 0
), c0 AS (SELECT industry, size_band, country, max(n) AS n, max(CASE WHEN r = greatest(1, CAST(ceil(? * n) AS INTEGER)) THEN spend END) AS wallet FROM (SELECT industry, size_band, country, spend, row_number() OVER (PARTITION BY industry, size_band, country ORDER BY spend) AS r, count(*) OVER (PARTITION BY industry, size_band, country) AS n FROM peers) x GROUP BY industry, size_band, country),
c1 AS (SELECT industry, size_band, max(n) AS n, max(CASE WHEN r = greatest(1, CAST(ceil(? * n) AS INTEGER)) THEN spend END) AS wallet FROM (SELECT industry, size_band, spend, row_number() OVER (PARTITION BY industry, size_band ORDER BY spend) AS r, count(*) OVER (PARTITION BY industry, size_band) AS n FROM peers) x GROUP BY industry, size_band),
c2 AS (SELECT size_band, max(n) AS n, max(CASE WHEN r = greatest(1, CAST(ceil(? * n) AS INTEGER)) THEN spend END) AS wallet FROM (SELECT size_band, spend, row_number() OVER (PARTITION BY size_band ORDER BY spend) AS r, count(*) OVER (PARTITION BY size_band) AS n FROM peers) x GROUP BY size_band),
c3 AS (SELECT max(n) AS n, max(CASE WHEN r = greatest(1, CAST(ceil(? * n) AS INTEGER)) THEN spend END) AS wallet FROM (SELECT spend, row_number() OVER (ORDER BY spend) AS r, count(*) OVER () AS n FROM peers) x )
SELECT f.unit_id, f.entities, f.employees, f.open_deals, f.customer, f.spend, f.industry, f.country, f.size_band,
       CASE WHEN c0.n >= ? THEN 0 WHEN c1.n >= ? THEN 1 WHEN c2.n >= ? THEN 2 ELSE 3 END AS peer_level,
       CASE WHEN c0.n >= ? THEN c0.n WHEN c1.n >= ? THEN c1.n WHEN c2.n >= ? THEN c2.n ELSE c3.n END AS peers,
       CASE WHEN c0.n >= ? THEN c0.wallet WHEN c1.n >= ? THEN c1.wallet WHEN c2.n >= ? THEN c2.wallet
            ELSE c3.wallet END AS peer_wallet
FROM features f LEFT JOIN c0 ON c0.industry = f.industry AND c0.size_band = f.size_band AND c0.country = f.country LEFT JOIN c1 ON c1.industry = f.industry AND c1.size_band = f.size_band LEFT JOIN c2 ON c2.size_band = f.size_band LEFT JOIN c3 ON TRUE;

DROP TABLE IF EXISTS "kam_wallet_step";
