UPDATE kpi_status_history SET status = k.status
FROM (SELECT account_id, status FROM account_kpis) k
WHERE kpi_status_history.scope = 'account' AND kpi_status_history.account_id = k.account_id
  AND kpi_status_history.left_on IS NULL AND kpi_status_history.entered_on = $as_of
  AND kpi_status_history.status <> k.status AND TRUE;

UPDATE kpi_status_history SET left_on = $as_of
WHERE scope = 'account' AND left_on IS NULL AND entered_on < $as_of AND TRUE
  AND NOT EXISTS (SELECT 1 FROM (SELECT account_id, status FROM account_kpis) k
                  WHERE k.account_id = kpi_status_history.account_id AND k.status = kpi_status_history.status
                    AND TRUE);

INSERT INTO kpi_status_history (scope, account_id, status, entered_on, left_on, previous_status, recorded_at)
SELECT 'account', k.account_id, k.status, $as_of, NULL, p.status, $recorded_at
FROM (SELECT account_id, status FROM account_kpis) k
LEFT JOIN kpi_status_history p
       ON p.scope = 'account' AND p.account_id = k.account_id AND p.left_on = $as_of AND p.entered_on < $as_of
      AND TRUE
WHERE TRUE
  AND NOT EXISTS (SELECT 1 FROM kpi_status_history o
                  WHERE o.scope = 'account' AND o.account_id = k.account_id
                    AND (o.left_on IS NULL OR o.entered_on > $as_of) AND TRUE);

UPDATE kpi_status_history SET status = k.status
FROM (SELECT account_id, group_status AS status FROM group_kpis) k
WHERE kpi_status_history.scope = 'group' AND kpi_status_history.account_id = k.account_id
  AND kpi_status_history.left_on IS NULL AND kpi_status_history.entered_on = $as_of
  AND kpi_status_history.status <> k.status AND TRUE;

UPDATE kpi_status_history SET left_on = $as_of
WHERE scope = 'group' AND left_on IS NULL AND entered_on < $as_of AND TRUE
  AND NOT EXISTS (SELECT 1 FROM (SELECT account_id, group_status AS status FROM group_kpis) k
                  WHERE k.account_id = kpi_status_history.account_id AND k.status = kpi_status_history.status
                    AND TRUE);

INSERT INTO kpi_status_history (scope, account_id, status, entered_on, left_on, previous_status, recorded_at)
SELECT 'group', k.account_id, k.status, $as_of, NULL, p.status, $recorded_at
FROM (SELECT account_id, group_status AS status FROM group_kpis) k
LEFT JOIN kpi_status_history p
       ON p.scope = 'group' AND p.account_id = k.account_id AND p.left_on = $as_of AND p.entered_on < $as_of
      AND TRUE
WHERE TRUE
  AND NOT EXISTS (SELECT 1 FROM kpi_status_history o
                  WHERE o.scope = 'group' AND o.account_id = k.account_id
                    AND (o.left_on IS NULL OR o.entered_on > $as_of) AND TRUE);
