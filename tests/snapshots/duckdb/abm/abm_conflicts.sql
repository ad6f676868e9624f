WITH bu_names AS (SELECT max(CASE WHEN r = 1 THEN bu END) AS bu1 FROM _abm_bu_rank
), od AS (
    SELECT d.account_id, nullif(count(*) FILTER (WHERE k.r = 1), 0) AS n1
    FROM deals d JOIN _abm_bu_rank k ON k.bu = d.seller_bu
    WHERE d.seller_bu IS NOT NULL AND coalesce(d.created_at, $as_of) <= $as_of
  AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of)
    GROUP BY d.account_id HAVING (CASE WHEN count(*) FILTER (WHERE k.r = 1) > 0 THEN 1 ELSE 0 END) >= 2
), open_deals AS (
    SELECT 'open_deals' AS kind, od.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        concat_ws(',', CASE WHEN od.n1 IS NOT NULL THEN b.bu1 END) AS bus,
        'open deals of ' || concat_ws(', ', b.bu1 || ' (' || CAST(od.n1 AS VARCHAR) || ')') || ' on the same account' AS reason
    FROM od CROSS JOIN bu_names b
), ca AS (
    SELECT a.contact_id, coalesce(max(p.account_id), min(a.account_id)) AS account_id, nullif(count(*) FILTER (WHERE k.r = 1), 0) AS n1, max(a."date") FILTER (WHERE k.r = 1) AS l1
    FROM activities a JOIN _abm_bu_rank k ON k.bu = a.seller_bu LEFT JOIN contacts p ON p.contact_id = a.contact_id
    WHERE a.contact_id IS NOT NULL AND a.seller_bu IS NOT NULL AND a."date" >= $conflict_from AND a."date" <= $as_of
    GROUP BY a.contact_id HAVING (CASE WHEN count(*) FILTER (WHERE k.r = 1) > 0 THEN 1 ELSE 0 END) >= 2
), same_contact AS (
    SELECT 'same_contact' AS kind, ca.account_id, ca.contact_id, concat_ws(',', CASE WHEN ca.n1 IS NOT NULL THEN b.bu1 END) AS bus,
        concat_ws(', ', b.bu1 || ' (' || CAST(ca.n1 AS VARCHAR) || ', last ' || CAST(ca.l1 AS VARCHAR) || ')')
            || ' all worked this contact in the last ' || CAST(CAST($conflict_window_days AS BIGINT) AS VARCHAR)
            || ' days' AS reason
    FROM ca CROSS JOIN bu_names b
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
), f AS (
SELECT md5(kind || '|' || account_id || '|' || coalesce(contact_id, '') || '|' || bus) AS conflict_id, found.*
FROM found
)
SELECT f.conflict_id, f.account_id, f.kind, f.bus, coalesce(st.state, 'open') AS state, f.reason,
    coalesce(seen.first_seen, $as_of) AS detected_at, f.contact_id, x.lead_bu,
    CASE WHEN x.lead_bu IS NULL OR ',' || f.bus || ',' LIKE '%,' || x.lead_bu || ',%' THEN f.bus
         ELSE f.bus || ',' || x.lead_bu END AS notify_bus,
    x.priority_class, st.changed_by AS state_changed_by, st.changed_at AS state_changed_at
FROM f
LEFT JOIN abm_conflict_states st ON st.conflict_id = f.conflict_id
LEFT JOIN abm_conflict_seen seen ON seen.conflict_id = f.conflict_id
LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = f.account_id;
