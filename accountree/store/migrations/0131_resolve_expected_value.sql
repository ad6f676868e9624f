-- Issue 19: the review queue is ranked by expected value — the probability of the pair times the
-- record pairs its acceptance would join (sizes of the two automatic clusters it links).
ALTER TABLE duplicate_candidates ADD COLUMN expected_value DOUBLE PRECISION;
