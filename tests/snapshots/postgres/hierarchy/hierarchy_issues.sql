SELECT CAST(ROW_NUMBER() OVER (ORDER BY kind, issue_key) AS BIGINT) AS issue_id, kind, severity, account_ids, edges, message, suggested_fix, issue_key FROM _hier_issue_rows;
