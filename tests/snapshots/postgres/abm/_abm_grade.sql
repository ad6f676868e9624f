SELECT 'account' AS scope, s.account_id, s.grade FROM scores AS s WHERE NOT s.grade IS NULL UNION ALL SELECT 'group', m.group_id, MIN(s.grade) FROM scores AS s JOIN _abm_members AS m ON m.account_id = s.account_id WHERE NOT s.grade IS NULL GROUP BY m.group_id;

DROP TABLE IF EXISTS "_abm_grade";
