-- ICP scoring: what each model learned to predict (`score train --target won|best|RULE`) and whether
-- the run was kept (made current: it beat the grid and the one-field baseline on the hold-out) or rejected.
-- Models trained before this migration learned the best customers and were all kept.

ALTER TABLE score_models ADD COLUMN target VARCHAR;
ALTER TABLE score_models ADD COLUMN status VARCHAR;
UPDATE score_models SET target = 'best', status = 'kept' WHERE target IS NULL;
