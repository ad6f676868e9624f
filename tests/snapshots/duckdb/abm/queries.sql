SELECT value FROM workspace_meta WHERE key = ?;

SELECT scope, priority_class, count(*) FROM abm_accounts GROUP BY scope, priority_class ORDER BY scope, priority_class;

SELECT count(*) FROM abm_conflicts;

SELECT count(*) FROM abm_conflicts WHERE state = 'open';

SELECT count(*) FROM abm_collisions;

SELECT count(DISTINCT deal_id) FROM abm_attribution;

SELECT state, count(*) FROM abm_handovers_due GROUP BY state ORDER BY state;
