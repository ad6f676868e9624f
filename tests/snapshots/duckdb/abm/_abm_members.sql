DROP TABLE IF EXISTS "_abm_members";

CREATE TEMPORARY TABLE "_abm_members" AS SELECT h.account_id, COALESCE(h.group_head_id, h.account_id) AS group_id FROM hierarchy AS h;
