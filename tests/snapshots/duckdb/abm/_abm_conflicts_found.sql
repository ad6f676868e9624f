WITH od AS (
    SELECT d.account_id, d.seller_bu AS bu, count(*) AS n FROM deals d WHERE d.seller_bu IS NOT NULL AND coalesce(d.created_at, $as_of) <= $as_of
  AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of) GROUP BY d.account_id, d.seller_bu
), open_deals AS (
    SELECT 'open_deals' AS kind, od.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        concat_ws(',', max(CASE WHEN k.r = 1 THEN od.bu END)) AS bus,
        'open deals of ' || concat_ws(', ', max(CASE WHEN k.r = 1 THEN od.bu || ' (' || CAST(od.n AS VARCHAR) || ')' END)) || ' on the same account' AS reason
    FROM od JOIN _abm_bu_rank k ON k.bu = od.bu GROUP BY od.account_id HAVING count(*) >= 2
), ca AS (
    SELECT a.contact_id, a.seller_bu AS bu, count(*) AS n, max(a."date") AS last_day, min(a.account_id) AS account_id
    FROM activities a
    WHERE a.contact_id IS NOT NULL AND a.seller_bu IS NOT NULL AND a."date" >= $conflict_from AND a."date" <= $as_of
    GROUP BY a.contact_id, a.seller_bu
), same_contact AS (
    SELECT 'same_contact' AS kind, coalesce(max(p.account_id), min(ca.account_id)) AS account_id, ca.contact_id,
        concat_ws(',', max(CASE WHEN k.r = 1 THEN ca.bu END)) AS bus,
        concat_ws(', ', max(CASE WHEN k.r = 1 THEN ca.bu || ' (' || CAST(ca.n AS VARCHAR) || ', last ' || CAST(ca.last_day AS VARCHAR) || ')' END))
            || ' all worked this contact in the last ' || CAST(CAST($conflict_window_days AS BIGINT) AS VARCHAR)
            || ' days' AS reason
    FROM ca JOIN _abm_bu_rank k ON k.bu = ca.bu LEFT JOIN contacts p ON p.contact_id = ca.contact_id
    GROUP BY ca.contact_id HAVING count(*) >= 2
), subs AS (
    SELECT product_a AS p1, product_b AS p2 FROM abm_substitutes
    UNION SELECT product_b, product_a FROM abm_substitutes
), pairs AS (
    SELECT d1.account_id, d1.bu AS bu1, d2.bu AS bu2,
        string_agg(d1.deal_id || ' ' || d1.product || ' vs ' || d2.deal_id || ' ' || d2.product, ', '
                   ORDER BY d1.deal_id, d2.deal_id) AS offers
    FROM subs s
    JOIN _abm_open_deals d1 ON d1.product = s.p1
    JOIN _abm_open_deals d2 ON d2.account_id = d1.account_id AND d2.product = s.p2 AND d1.bu < d2.bu
    GROUP BY d1.account_id, d1.bu, d2.bu
), competing AS (
    SELECT 'competing_offers' AS kind, account_id, CAST(NULL AS VARCHAR) AS contact_id, bu1 || ',' || bu2 AS bus,
        'substitute products offered by ' || bu1 || ' and ' || bu2 || ': ' || offers AS reason
    FROM pairs
), outside AS (
    SELECT 'outside_lead_bu' AS kind, d.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        CASE WHEN d.bu < x.lead_bu THEN d.bu || ',' || x.lead_bu ELSE x.lead_bu || ',' || d.bu END AS bus,
        d.bu || ' opened ' || string_agg(d.deal_id, ', ' ORDER BY d.deal_id) || ' (open) since '
            || CAST(CAST($conflict_from AS DATE) AS VARCHAR) || ' on a ' || max(x.priority_class)
            || ' account whose lead BU is ' || x.lead_bu || ' (' || max(x.lead_bu_source) || ')' AS reason
    FROM _abm_open_deals d
    JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = d.account_id
    WHERE x.lead_bu IS NOT NULL AND d.bu <> x.lead_bu
      AND (x.priority_class = 'group_strategic' OR x.lead_bu_source = 'manual')
      AND d.created_at >= $conflict_from
    GROUP BY d.account_id, d.bu, x.lead_bu
), found AS (
    SELECT * FROM open_deals UNION ALL SELECT * FROM same_contact UNION ALL SELECT * FROM competing
    UNION ALL SELECT * FROM outside
)
SELECT md5(kind || '|' || account_id || '|' || coalesce(contact_id, '') || '|' || bus) AS conflict_id, found.*
FROM found;

DROP TABLE IF EXISTS "_abm_conflicts_found";
