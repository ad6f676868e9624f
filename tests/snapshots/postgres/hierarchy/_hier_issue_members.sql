DROP TABLE IF EXISTS "_hier_issue_members";

CREATE TEMPORARY TABLE "_hier_issue_members" ("issue_key" VARCHAR, "account_id" VARCHAR);

INSERT INTO _hier_issue_members (issue_key, account_id) SELECT DISTINCT 'self_parent:' || child_id, child_id FROM _hier_rejected WHERE child_id = parent_id AND NOT suppressed;

INSERT INTO _hier_issue_members (issue_key, account_id) SELECT DISTINCT 'unknown_parent:' || parent_id, child_id FROM _hier_rejected WHERE child_known AND NOT parent_known AND NOT suppressed;

INSERT INTO _hier_issue_members (issue_key, account_id) SELECT DISTINCT 'group_head_with_parent:' || child_id, child_id FROM _hier_rejected WHERE head_stop AND parent_known AND child_id <> parent_id AND NOT suppressed;

INSERT INTO _hier_issue_members (issue_key, account_id) SELECT DISTINCT 'two_controlling_parents:' || child_id, child_id FROM _hier_selected WHERE claims_control AND claims > 1;

INSERT INTO _hier_issue_members (issue_key, account_id) SELECT DISTINCT 'shares_over_100:' || child_id, child_id FROM _hier_selected WHERE total_pct > 100.001;
