SELECT 'account' AS scope, s.account_id, s.grade FROM scores s WHERE s.grade IS NOT NULL
UNION ALL
SELECT 'group', m.group_id, min(s.grade) FROM scores s JOIN _abm_members m ON m.account_id = s.account_id
WHERE s.grade IS NOT NULL GROUP BY m.group_id;

DROP TABLE IF EXISTS "_abm_grade";
