SELECT h.account_id, COALESCE(h.group_head_id, h.account_id) AS group_id FROM hierarchy AS h;

DROP TABLE IF EXISTS "_abm_members";
