SELECT value FROM workspace_meta WHERE key = %s;

SELECT CURRENT_SCHEMA;

SELECT scope, priority_class, COUNT(*) FROM abm_accounts GROUP BY scope, priority_class ORDER BY scope, priority_class;

SELECT COUNT(*) FROM abm_conflicts;

SELECT COUNT(*) FROM abm_conflicts WHERE state = 'open';

SELECT COUNT(*) FROM abm_collisions;

SELECT COUNT(DISTINCT deal_id) FROM abm_attribution;

SELECT state, COUNT(*) FROM abm_handovers_due GROUP BY state ORDER BY state;
