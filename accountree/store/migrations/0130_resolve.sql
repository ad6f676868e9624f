-- Duplicate resolution (accountree.resolve): candidate pairs and the review queue, merges with
-- their before-images (for undo). DuckDB dialect, transpiled per engine.

-- One row per candidate pair (account_id_l < account_id_r). `pair_id` is derived from the two
-- ids, so a pair keeps its id (and its decision) across runs. status: pending (review queue),
-- skipped, rejected (never proposed again), merged (auto or accepted), undone.
CREATE TABLE duplicate_candidates (
    pair_id VARCHAR PRIMARY KEY,
    account_id_l VARCHAR NOT NULL,
    account_id_r VARCHAR NOT NULL,
    match_probability DOUBLE NOT NULL,
    match_weight DOUBLE,
    evidence VARCHAR,
    guard VARCHAR,
    status VARCHAR NOT NULL,
    method VARCHAR,
    found_at TIMESTAMP NOT NULL,
    decided_by VARCHAR,
    decided_at TIMESTAMP
);

-- One row per absorbed record: `merged_id` disappeared into `survivor_id`.
-- before_merged: the merged account row (JSON); filled_columns: survivor columns that were empty
-- and were filled from it (JSON list), so undo can empty them again.
CREATE TABLE merges (
    merge_id BIGINT PRIMARY KEY,
    survivor_id VARCHAR NOT NULL,
    merged_id VARCHAR NOT NULL,
    pair_id VARCHAR,
    match_probability DOUBLE,
    method VARCHAR NOT NULL,
    reason VARCHAR,
    merged_at TIMESTAMP NOT NULL,
    merged_by VARCHAR,
    before_merged VARCHAR NOT NULL,
    filled_columns VARCHAR,
    undone_at TIMESTAMP,
    undone_by VARCHAR
);

-- What a merge moved or removed: table, key of the row (a deal id, a child account id…), the
-- column that was re-pointed, and for removed rows (a relationship the survivor already had)
-- the whole row as JSON.
CREATE TABLE merge_moves (
    merge_id BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    key1 VARCHAR NOT NULL,
    key2 VARCHAR,
    column_name VARCHAR,
    row_json VARCHAR
);
