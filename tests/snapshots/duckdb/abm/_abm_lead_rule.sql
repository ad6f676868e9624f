WITH best AS (
    SELECT scope, account_id, max(score) AS score FROM _abm_lead_scores GROUP BY scope, account_id
), candidates AS (
    SELECT s.* FROM _abm_lead_scores s
    JOIN best b ON b.scope = s.scope AND b.account_id = s.account_id AND b.score = s.score
)
SELECT candidates.*,
    row_number() OVER (PARTITION BY scope, account_id
                       ORDER BY revenue DESC, pipeline DESC, first_day ASC NULLS LAST, bu) AS rank
FROM candidates;

DROP TABLE IF EXISTS "_abm_lead_rule";
