SELECT value FROM workspace_meta WHERE key = %s;

SELECT CURRENT_SCHEMA;

SELECT COUNT(*) FROM _abm_bu_rank;

SELECT scope, priority_class, COUNT(*) FROM abm_accounts GROUP BY scope, priority_class ORDER BY scope, priority_class;

SELECT COUNT(*) FROM abm_conflicts;

SELECT COUNT(*) FROM abm_conflicts WHERE state = 'open';

SELECT COUNT(*) FROM abm_collisions;

SELECT COUNT(*) FROM deals AS d WHERE d.stage = 'won' AND COALESCE(d.close_date, d.created_at, %(as_of)s) <= %(as_of)s;

SELECT state, COUNT(*) FROM abm_handovers_due GROUP BY state ORDER BY state;
