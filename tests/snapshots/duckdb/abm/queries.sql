SELECT value FROM workspace_meta WHERE key = ?;

SELECT count(*) FROM _abm_bu_rank;

SELECT scope, priority_class, count(*) FROM abm_accounts GROUP BY scope, priority_class ORDER BY scope, priority_class;

SELECT count(*) FROM abm_conflicts;

SELECT count(*) FROM abm_conflicts WHERE state = 'open';

SELECT count(*) FROM abm_collisions;

SELECT count(*) FROM deals d WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of;

SELECT state, count(*) FROM abm_handovers_due GROUP BY state ORDER BY state;
