SELECT h.account_id, coalesce(h.group_head_id, h.account_id) AS group_id FROM hierarchy h;

DROP TABLE IF EXISTS "_abm_members";
