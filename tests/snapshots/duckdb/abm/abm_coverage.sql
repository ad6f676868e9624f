WITH t AS (
    SELECT t.member, t.role, t.member_bu, t.account_id, x.priority_class  -- one row per (account, role, member, BU)
    FROM abm_account_teams t
    LEFT JOIN abm_accounts x ON x.account_id = t.account_id
         AND x.scope = CASE WHEN t.role = 'group_account_manager' THEN 'group' ELSE 'account' END
), c AS (
    SELECT member, role, member_bu, count(*) AS accounts,
        count(*) FILTER (WHERE priority_class = 'group_strategic') AS strategic_accounts
    FROM t GROUP BY member, role, member_bu
)
SELECT member, role, member_bu, accounts, strategic_accounts,
    CASE WHEN role <> 'ae' THEN NULL
         WHEN strategic_accounts > $coverage_max THEN 'over'
         WHEN strategic_accounts < $coverage_min THEN 'under' ELSE 'ok' END AS coverage,
    CASE WHEN role <> 'ae' THEN CAST(strategic_accounts AS VARCHAR) || ' group_strategic of ' || CAST(accounts AS VARCHAR)
              || ' account(s)'
         ELSE CAST(strategic_accounts AS VARCHAR) || ' group_strategic account(s) as AE (target '
              || CAST(CAST($coverage_min AS BIGINT) AS VARCHAR) || '–' || CAST(CAST($coverage_max AS BIGINT) AS VARCHAR)
              || ')' END AS reason
FROM c;
