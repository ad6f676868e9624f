SELECT account_id, parent_id, group_head_id, CAST(%s AS DATE) AS snapshot_at FROM kam_base_step;
