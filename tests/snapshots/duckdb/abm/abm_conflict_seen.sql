INSERT INTO abm_conflict_seen (conflict_id, first_seen)
SELECT f.conflict_id, $as_of FROM abm_conflicts f
WHERE NOT EXISTS (SELECT 1 FROM abm_conflict_seen s WHERE s.conflict_id = f.conflict_id);
