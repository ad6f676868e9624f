SELECT DISTINCT i.issue_id, m.account_id FROM _hier_issue_members m
        JOIN hierarchy_issues i ON i.issue_key = m.issue_key;
