-- The read model's freshness after API writes, without serialising them: each write that kept the
-- model current inserts the change it made to the edited tables' additive statistics (counts, sums
-- of ids and of timestamps in milliseconds), one row per statistic. The model is current when the
-- workspace's statistics equal the build's (`workspace_meta`) plus the sum of these rows; inserts
-- never collide, where updating one stamp row made every pair of concurrent writes conflict.
CREATE TABLE api_read_model_edits (
    edit_id VARCHAR NOT NULL,
    stat VARCHAR NOT NULL,
    delta DECIMAL(38, 0) NOT NULL
);

-- Session epochs: a session cookie carries the epoch it was signed with; logout, a password
-- change, disabling the user or revoking their tokens bumps it, so every older cookie stops working.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
