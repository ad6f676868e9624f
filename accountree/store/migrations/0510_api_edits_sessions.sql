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

-- Server-side web sessions: the cookie holds a random secret, only its sha256 is kept. Every request
-- looks its session up, so signing out, a password change, disabling or deleting the user ends it
-- at once, and a restart brings back no session that was ended.
CREATE TABLE api_sessions (
    session_hash VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    client_ip VARCHAR
);
