WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
), scopes AS (
    SELECT 'account' AS scope, a.account_id, a.name FROM accounts a
    UNION ALL
    SELECT 'group', g.group_id, a.name FROM groups g JOIN accounts a ON a.account_id = g.group_id
), active AS (
    SELECT s.scope, s.account_id, count(*) AS n_active, concat_ws(',', max(CASE WHEN k.r = 1 THEN k.bu END)) AS bus_active
    FROM _abm_bu_scope s JOIN _abm_bu_rank k ON k.r = s.r WHERE s.active = 1 GROUP BY s.scope, s.account_id
), decisions AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.scope, d.account_id ORDER BY d.decided_at DESC, d.decision_id DESC) AS rn
    FROM abm_lead_bu_decisions d WHERE d.undone_at IS NULL
)
SELECT s.scope, s.account_id, s.name, m.group_id AS group_head_id,
    coalesce(ac.n_active, 0) AS n_active, ac.bus_active,
    r.bu AS rule_lead_bu, r.score AS rule_score,
    dec.lead_bu AS manual_lead_bu, dec.why AS manual_why, dec.decided_by, dec.decided_at,
    sm.account_id IS NOT NULL AS marked_strategic, sm.why AS strategic_why,
    k.potential_3y, k.tier AS kam_tier, g.grade AS icp_grade
FROM scopes s
LEFT JOIN _abm_members m ON m.account_id = s.account_id
LEFT JOIN active ac ON ac.scope = s.scope AND ac.account_id = s.account_id
LEFT JOIN _abm_lead_rule r ON r.scope = s.scope AND r.account_id = s.account_id AND r.rank = 1
LEFT JOIN decisions dec ON dec.scope = s.scope AND dec.account_id = s.account_id AND dec.rn = 1
LEFT JOIN abm_strategic_marks sm ON sm.scope = s.scope AND sm.account_id = s.account_id
LEFT JOIN _abm_kam k ON k.scope = s.scope AND k.account_id = s.account_id
LEFT JOIN _abm_grade g ON g.scope = s.scope AND g.account_id = s.account_id;

DROP TABLE IF EXISTS "_abm_base";
