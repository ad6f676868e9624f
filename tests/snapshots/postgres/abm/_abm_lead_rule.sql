WITH best AS (SELECT scope, account_id, MAX(score) AS score FROM _abm_lead_scores GROUP BY scope, account_id), candidates AS (SELECT s.* FROM _abm_lead_scores AS s JOIN best AS b ON b.scope = s.scope AND b.account_id = s.account_id AND b.score = s.score) SELECT candidates.*, ROW_NUMBER() OVER (PARTITION BY scope, account_id ORDER BY revenue DESC NULLS LAST, pipeline DESC NULLS LAST, first_day ASC, bu) AS rank FROM candidates;

DROP TABLE IF EXISTS "_abm_lead_rule";
