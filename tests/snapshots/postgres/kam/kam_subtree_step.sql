WITH RECURSIVE t(root, account_id) AS (SELECT account_id, account_id FROM kam_base_step WHERE COALESCE(entities, 0) = 0 UNION SELECT t.root, b.account_id FROM t JOIN kam_base_step AS b ON b.parent_id = t.account_id AND b.account_id <> b.parent_id) SELECT t.root, COUNT(*) AS entities, COUNT(*) FILTER(WHERE b.is_customer) AS customers FROM t JOIN kam_base_step AS b ON b.account_id = t.account_id GROUP BY t.root;

DROP TABLE IF EXISTS "kam_subtree_step";
