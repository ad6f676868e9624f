DELETE FROM kam_snapshot_parents;

INSERT INTO kam_snapshot_parents (account_id, parent_id, group_head_id, snapshot_at)
SELECT account_id, parent_id, group_head_id, CAST(? AS DATE) FROM kam_base_step;
