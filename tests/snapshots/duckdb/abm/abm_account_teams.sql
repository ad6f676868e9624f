WITH latest AS (
    SELECT d.account_id, d.seller_bu,
        arg_max(d.owner, (coalesce(d.close_date, d.created_at, DATE '-infinity'), d.deal_id)) AS owner
    FROM deals d
    WHERE d.owner IS NOT NULL AND d.seller_bu IS NOT NULL
      AND coalesce(d.created_at, d.close_date, $as_of) <= $as_of
    GROUP BY d.account_id, d.seller_bu
), csm AS (
    SELECT DISTINCT ON (h.account_id, h.seller_bu) h.account_id, h.seller_bu, h.to_csm
    FROM abm_handovers h
    ORDER BY h.account_id, h.seller_bu, h.recorded_at DESC, h.handover_id DESC
), derived AS (
    SELECT account_id, owner AS member, 'ae' AS role, seller_bu, 'deal_owner' AS source FROM latest
    UNION ALL
    SELECT account_id, to_csm, 'csm', seller_bu, 'handover' FROM csm
    UNION ALL
    SELECT x.account_id, a.owner, 'group_account_manager', CAST(NULL AS VARCHAR), 'account_owner'
    FROM abm_accounts x JOIN accounts a ON a.account_id = x.account_id
    WHERE x.scope = 'group' AND x.bus_active_count >= 2 AND a.owner IS NOT NULL
), manual AS (
    SELECT account_id, member, role, member_bu AS seller_bu, 'manual' AS source FROM abm_team_members
)
SELECT account_id, member, role, seller_bu AS member_bu, source FROM manual
UNION ALL
SELECT d.account_id, d.member, d.role, d.seller_bu, d.source FROM derived d
LEFT JOIN manual m ON m.account_id = d.account_id AND m.role = d.role
     AND coalesce(m.seller_bu, '') = coalesce(d.seller_bu, '')
WHERE m.account_id IS NULL  -- an anti-join: a correlated NOT EXISTS on an expression made DuckDB de-duplicate every derived row first;
